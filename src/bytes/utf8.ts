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
