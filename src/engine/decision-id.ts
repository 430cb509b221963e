import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";
import { readLatin1 } from "../bytes/utf8.ts";

/** Ids formatted at a time, from as many ids' worth of random bytes drawn from the system. */
const BATCH = 256;
const random = Buffer.allocUnsafeSlow(16 * BATCH);
const text = Buffer.allocUnsafeSlow(36 * BATCH);
const HEX = Buffer.from("0123456789abcdef", "latin1");
let next = BATCH;

/**
 * A random (version 4) UUID for a decision, as `randomUUID()` gives, but as a
 * flat string: `randomUUID()` builds its text from many small pieces, and
 * every later use of it (the audit line, the response) first pays for
 * joining them. Ids are formatted in batches.
 */
export function newDecisionId(): string {
  if (next === BATCH) refill();
  const o = 36 * next++;
  return readLatin1(text, o, o + 36);
}

/**
 * The next batch. Everything but the formatting loop happens before it, and
 * the same every time: optimized code entered in the middle of the loop
 * (on-stack replacement) would otherwise stop, every batch, at a statement
 * after it that had never run when it was compiled.
 */
function refill(): void {
  next = 0;
  randomFillSync(random);
  let o = 0;
  for (let r = 0; r < 16 * BATCH; r += 16) {
    random[r + 6] = (random[r + 6]! & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8]! & 0x3f) | 0x80; // RFC 4122 variant
    for (let j = 0; j < 16; j++) {
      if (j === 4 || j === 6 || j === 8 || j === 10) text[o++] = 0x2d; // -
      const b = random[r + j]!;
      text[o++] = HEX[b >> 4]!;
      text[o++] = HEX[b & 15]!;
    }
  }
}
