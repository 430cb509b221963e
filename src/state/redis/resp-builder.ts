import { Buffer } from "node:buffer";
import { writeUtf8 } from "../../bytes/utf8.ts";

/**
 * Redis command arguments encoded as RESP bulk strings (`$<len>\r\n<bytes>\r\n`)
 * into one growing buffer, as they arrive. The hot commands are built this
 * way instead of from arrays of strings: a batch of decisions becomes one
 * buffer with no intermediate string, and a record's bytes go in as they are.
 */
export class RespArgs {
  #buf: Buffer;
  #o = 0;
  #count = 0;

  constructor(initialBytes = 4096) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Arguments written so far. */
  get count(): number {
    return this.#count;
  }

  /** Bytes written so far. */
  get byteLength(): number {
    return this.#o;
  }

  /** A text argument, as UTF-8. */
  text(s: string): this {
    return this.joined(EMPTY, s, "");
  }

  /** One argument made of `prefix` (bytes) followed by `a` and `b` (text, as UTF-8): a key without building its string. */
  joined(prefix: Uint8Array, a: string, b: string): this {
    const guess = prefix.length + a.length + b.length;
    this.#reserve(prefix.length + 3 * (a.length + b.length) + 24);
    const buf = this.#buf;
    const start = this.#o;
    // Assume ASCII, where bytes and characters agree; fix the length up if not.
    let o = header(buf, start, guess);
    const len = this.#payload(o, prefix, a, b);
    if (len !== guess) {
      const at = header(buf, start, len);
      // A length with more digits pushes the bytes back: write them again.
      if (at !== o) this.#payload(at, prefix, a, b);
      o = at;
    }
    o += len;
    buf[o] = 13;
    buf[o + 1] = 10;
    this.#o = o + 2;
    this.#count++;
    return this;
  }

  #payload(o: number, prefix: Uint8Array, a: string, b: string): number {
    const buf = this.#buf;
    const start = o;
    if (prefix.length > 0) {
      buf.set(prefix, o);
      o += prefix.length;
    }
    o += writeText(buf, o, a);
    if (b !== "") o += writeText(buf, o, b);
    return o - start;
  }

  /** A non-negative integer argument, in decimal. */
  integer(n: number): this {
    return this.text(String(n));
  }

  /** An argument of raw bytes: `src[start, end)`. */
  bytes(src: Uint8Array, start: number, end: number): this {
    const len = end - start;
    this.#reserve(len + 24);
    const b = this.#buf;
    const o = header(b, this.#o, len);
    b.set(start === 0 && end === src.length ? src : src.subarray(start, end), o);
    b[o + len] = 13;
    b[o + len + 1] = 10;
    this.#o = o + len + 2;
    this.#count++;
    return this;
  }

  /** Copies the arguments into `target` at `offset` and empties the builder for reuse; returns the end offset. */
  moveTo(target: Buffer, offset: number): number {
    this.#buf.copy(target, offset, 0, this.#o);
    const end = offset + this.#o;
    this.#o = 0;
    this.#count = 0;
    return end;
  }

  #reserve(bytes: number): void {
    if (this.#o + bytes <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.#buf.length, this.#o + bytes));
    this.#buf.copy(next, 0, 0, this.#o);
    this.#buf = next;
  }
}

const EMPTY = new Uint8Array(0);

/** Longest text copied a character at a time; longer text costs one native call. */
const SHORT = 24;

/** Writes text as UTF-8 at `o`; returns the byte count. */
function writeText(buf: Buffer, o: number, s: string): number {
  const n = s.length;
  if (n > SHORT) return writeUtf8(buf, s, o);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return writeUtf8(buf, s, o);
    buf[o + i] = c;
  }
  return n;
}

/**
 * One command: `*<n>`, the leading text arguments (command name and the like),
 * then the arguments of each builder, in order; the builders are emptied.
 */
export function respCommand(leading: readonly string[], groups: readonly RespArgs[]): Buffer {
  const head = new RespArgs(256);
  for (const a of leading) head.text(a);
  let count = head.count;
  let size = head.byteLength;
  for (const g of groups) {
    count += g.count;
    size += g.byteLength;
  }
  const prefix = `*${count}\r\n`;
  const out = Buffer.allocUnsafe(prefix.length + size);
  let o = out.write(prefix, 0, "latin1");
  o = head.moveTo(out, o);
  for (const g of groups) o = g.moveTo(out, o);
  return out;
}

/** Writes `$<len>\r\n` at `o`; returns where the argument's bytes begin. */
function header(b: Buffer, o: number, len: number): number {
  b[o++] = 0x24; // $
  let digits = 1;
  for (let p = 10; p <= len; p *= 10) digits++;
  for (let i = digits - 1, p = len; i >= 0; i--, p = Math.floor(p / 10)) b[o + i] = 0x30 + (p % 10);
  o += digits;
  b[o] = 13;
  b[o + 1] = 10;
  return o + 2;
}

/**
 * The EVAL form of an EVALSHA command built by {@link respCommand} (with the
 * script's text instead of its SHA-1), for a Redis that does not know the
 * script yet.
 */
export function evalFromEvalsha(evalsha: Buffer, lua: string): Buffer {
  const countEnd = evalsha.indexOf("\r\n") + 2;
  // `$7\r\nEVALSHA\r\n$40\r\n` + 40 hex digits + `\r\n`
  const rest = evalsha.subarray(countEnd + 13 + 5 + 42);
  const head = new RespArgs(lua.length * 3 + 64).text("EVAL").text(lua);
  const out = Buffer.allocUnsafe(countEnd + head.byteLength + rest.length);
  evalsha.copy(out, 0, 0, countEnd);
  const o = head.moveTo(out, countEnd);
  rest.copy(out, o);
  return out;
}
