import { readFileSync } from "node:fs";
import { EXIT_OK, type CliIo } from "../io.ts";

/** The package version, read once from package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** `agent-auth version` */
export function versionCommand(io: CliIo): number {
  io.stdout(`agent-auth ${VERSION}\n`);
  return EXIT_OK;
}
