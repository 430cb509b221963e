import { Buffer } from "node:buffer";

/**
 * The newest audit records of a process, kept as their JSON lines in one
 * buffer outside the JS heap: retaining thousands of decisions costs the
 * garbage collector nothing (retained objects would be copied and traced on
 * every collection). Bounded both by entries and by bytes; the oldest go
 * first. Cursors are kept as numbers beside the bytes.
 */
export class AuditLineRing {
  readonly #buf: Buffer;
  readonly #slots: number;
  readonly #off: Int32Array;
  readonly #len: Int32Array;
  readonly #ms: Float64Array;
  readonly #seq: Float64Array;
  /** Slot of the oldest entry, and how many are kept. */
  #first = 0;
  #count = 0;
  /** Where the next line's bytes go. */
  #pos = 0;
  #evictedMs = 0;
  #evictedSeq = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#slots = maxEntries;
    this.#buf = Buffer.allocUnsafeSlow(maxBytes);
    this.#off = new Int32Array(maxEntries);
    this.#len = new Int32Array(maxEntries);
    this.#ms = new Float64Array(maxEntries);
    this.#seq = new Float64Array(maxEntries);
  }

  get size(): number {
    return this.#count;
  }

  /** Cursor of the newest entry pushed out ("0-0" when none was). */
  get evicted(): string {
    return `${this.#evictedMs}-${this.#evictedSeq}`;
  }

  /** Keeps a line under cursor `ms-seq`; cursors must increase. */
  push(ms: number, seq: number, line: string): void {
    this.pushBytes(ms, seq, Buffer.from(line, "utf8"));
  }

  /** Keeps the line `bytes` (UTF-8) under cursor `ms-seq`; cursors must increase. */
  pushBytes(ms: number, seq: number, bytes: Uint8Array): void {
    const length = bytes.length;
    const cap = this.#buf.length;
    if (length > cap) {
      // Larger than the whole ring: it cannot be kept, so it counts as gone at once.
      while (this.#count > 0) this.#evictOldest();
      this.#evictedMs = ms;
      this.#evictedSeq = seq;
      return;
    }
    if (length > cap - this.#pos) {
      // Wrap: what lies past here is from the previous lap, the oldest entries.
      while (this.#count > 0 && this.#off[this.#first]! >= this.#pos) this.#evictOldest();
      this.#pos = 0;
    }
    const end = this.#pos + length;
    while (this.#count > 0 && this.#off[this.#first]! >= this.#pos && this.#off[this.#first]! < end) this.#evictOldest();
    if (this.#count === this.#slots) this.#evictOldest();
    const slot = (this.#first + this.#count) % this.#slots;
    this.#buf.set(bytes, this.#pos);
    this.#off[slot] = this.#pos;
    this.#len[slot] = length;
    this.#ms[slot] = ms;
    this.#seq[slot] = seq;
    this.#count++;
    this.#pos += length;
  }

  /** Up to `count` entries strictly after cursor `ms-seq`, oldest first. */
  after(ms: number, seq: number, count: number): { cursor: string; line: string }[] {
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const slot = (this.#first + mid) % this.#slots;
      const m = this.#ms[slot]!;
      if (m < ms || (m === ms && this.#seq[slot]! <= seq)) lo = mid + 1;
      else hi = mid;
    }
    const out: { cursor: string; line: string }[] = [];
    for (let i = lo; i < this.#count && out.length < count; i++) {
      const slot = (this.#first + i) % this.#slots;
      const off = this.#off[slot]!;
      out.push({ cursor: `${this.#ms[slot]}-${this.#seq[slot]}`, line: this.#buf.toString("utf8", off, off + this.#len[slot]!) });
    }
    return out;
  }

  /** Up to `count` entries strictly before cursor `ms-seq`, newest first. */
  before(ms: number, seq: number, count: number): { cursor: string; line: string }[] {
    let lo = 0;
    let hi = this.#count;
    // The first index whose cursor is at or after ms-seq.
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const slot = (this.#first + mid) % this.#slots;
      const m = this.#ms[slot]!;
      if (m < ms || (m === ms && this.#seq[slot]! < seq)) lo = mid + 1;
      else hi = mid;
    }
    const out: { cursor: string; line: string }[] = [];
    for (let i = lo - 1; i >= 0 && out.length < count; i--) {
      const slot = (this.#first + i) % this.#slots;
      const off = this.#off[slot]!;
      out.push({ cursor: `${this.#ms[slot]}-${this.#seq[slot]}`, line: this.#buf.toString("utf8", off, off + this.#len[slot]!) });
    }
    return out;
  }

  #evictOldest(): void {
    const slot = this.#first;
    this.#evictedMs = this.#ms[slot]!;
    this.#evictedSeq = this.#seq[slot]!;
    this.#first = (slot + 1) % this.#slots;
    this.#count--;
  }
}
