// Writes src/model/version.ts from package.json's version, so the built code carries
// its version without reading package.json at run time. Run by `npm run build`
// (and by `npm version`); a test fails when the two disagree.
import { readFileSync, writeFileSync } from "node:fs";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const path = new URL("../src/model/version.ts", import.meta.url);
const text = `/** The package version, written at build time by scripts/sync-version.mjs from package.json. */\nexport const VERSION = ${JSON.stringify(version)};\n`;
let current = "";
try {
  current = readFileSync(path, "utf8");
} catch {}
if (current !== text) writeFileSync(path, text);
