import { Buffer } from "node:buffer";

type FastBuffer = Buffer & {
  utf8Write?: (text: string, offset: number) => number;
  latin1Write?: (text: string, offset: number) => number;
};

/**
 * Encodes text into a buffer as UTF-8. Node's `utf8Write` skips the argument
 * checks of `write` (it has been on Buffer.prototype since the beginning);
 * fall back to `write` where it is missing.
 */
export const writeUtf8: (buf: Buffer, text: string, offset: number) => number =
  typeof (Buffer.prototype as FastBuffer).utf8Write === "function"
    ? (buf, text, offset) => (buf as FastBuffer).utf8Write!(text, offset)
    : (buf, text, offset) => buf.write(text, offset, "utf8");

/** Writes text of single-byte characters, one byte each (for ASCII, the same bytes as UTF-8). */
export const writeLatin1: (buf: Buffer, text: string, offset: number) => number =
  typeof (Buffer.prototype as FastBuffer).latin1Write === "function"
    ? (buf, text, offset) => (buf as FastBuffer).latin1Write!(text, offset)
    : (buf, text, offset) => buf.write(text, offset, "latin1");

/** Reads single-byte text (`latin1Slice`, without the argument checks of `toString`). */
export const readLatin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as FastBuffer & { latin1Slice?: unknown }).latin1Slice === "function"
    ? (buf, start, end) => (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end)
    : (buf, start, end) => buf.toString("latin1", start, end);

/**
 * `text` as a flat string of its own, one byte per character when every
 * character fits in one. A substring of a larger text is a view of all of it,
 * and of that text's width: one character beyond Latin-1 anywhere in a
 * policy file (a `…` in a comment) makes every name read from it a two-byte
 * view, and every reason built from those names a two-byte string — which
 * each response and audit record that carries them then pays for (converted
 * to one-byte, flattened, encoded from two bytes a character). Strings kept
 * for the life of a policy are made compact once, when it is read.
 */
export function compactString(text: string): string {
  const n = text.length;
  if (n === 0) return "";
  for (let i = 0; i < n; i++) {
    if (text.charCodeAt(i) > 0xff) return Buffer.from(text, "utf16le").toString("utf16le");
  }
  return readLatin1(Buffer.from(text, "latin1"), 0, n);
}
