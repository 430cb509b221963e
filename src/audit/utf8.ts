import { Buffer } from "node:buffer";

type FastBuffer = Buffer & { utf8Write?: (text: string, offset: number) => number };

/**
 * Encodes text into a buffer. Node's `utf8Write` skips the argument checks of
 * `write` (it has been on Buffer.prototype since the beginning); fall back to
 * `write` where it is missing.
 */
export const writeUtf8: (buf: Buffer, text: string, offset: number) => number =
  typeof (Buffer.prototype as FastBuffer).utf8Write === "function"
    ? (buf, text, offset) => (buf as FastBuffer).utf8Write!(text, offset)
    : (buf, text, offset) => buf.write(text, offset, "utf8");
