import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";
import { readLatin1 } from "../bytes/utf8.ts";

/** Ids formatted at a time, and ids' worth of random bytes drawn from the system at a time. */
const BATCH = 256;
const POOL = 16 * BATCH;
const random = Buffer.allocUnsafeSlow(16 * POOL);
const text = Buffer.allocUnsafeSlow(36 * BATCH);
const HEX = Buffer.from("0123456789abcdef", "latin1");
let next = BATCH;
let drawn = POOL;

/**
 * A random (version 4) UUID for a decision, as `randomUUID()` gives, but as a
 * flat string: `randomUUID()` builds its text from many small pieces, and
 * every later use of it (the audit line, the response) first pays for
 * joining them. Ids are formatted in batches, from random bytes drawn from the
 * system's generator in larger blocks.
 */
export function newDecisionId(): string {
  if (next === BATCH) refill();
  const o = 36 * next++;
  return readLatin1(text, o, o + 36);
}

function refill(): void {
  if (drawn === POOL) {
    randomFillSync(random);
    drawn = 0;
  }
  let o = 0;
  for (let k = 0; k < BATCH; k++) {
    const r = 16 * (drawn + k);
    random[r + 6] = (random[r + 6]! & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8]! & 0x3f) | 0x80; // RFC 4122 variant
    for (let j = 0; j < 16; j++) {
      if (j === 4 || j === 6 || j === 8 || j === 10) text[o++] = 0x2d; // -
      const b = random[r + j]!;
      text[o++] = HEX[b >> 4]!;
      text[o++] = HEX[b & 15]!;
    }
  }
  drawn += BATCH;
  next = 0;
}
