import { existsSync } from "node:fs";
import { inflateSync } from "node:zlib";
import puppeteer, { type Browser } from "puppeteer-core";

/** Debian's chromium, which CI installs (.ci/run); nothing is downloaded. */
export const CHROMIUM = process.env["AGENT_AUTH_CHROMIUM"] ?? "/usr/bin/chromium";

/** Starts headless chromium; fails with what to install when it is missing (the browser tests never skip). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the console's browser tests need chromium at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set AGENT_AUTH_CHROMIUM`);
  }
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check"] });
}

/**
 * Whether a PNG screenshot shows something: its pixel data (IDAT, inflated)
 * holds at least `minDistinct` different byte values. A blank or one-colour
 * page inflates to a handful.
 */
export function pngHasContent(png: Uint8Array, minDistinct = 32): boolean {
  const bytes = Buffer.from(png);
  if (bytes.toString("latin1", 1, 4) !== "PNG") throw new Error("not a PNG");
  const idat: Buffer[] = [];
  for (let o = 8; o + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(o);
    const type = bytes.toString("latin1", o + 4, o + 8);
    if (type === "IDAT") idat.push(bytes.subarray(o + 8, o + 8 + length));
    o += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  const seen = new Set<number>();
  for (const b of pixels) {
    seen.add(b);
    if (seen.size >= minDistinct) return true;
  }
  return false;
}
