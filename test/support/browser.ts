import { existsSync } from "node:fs";
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
