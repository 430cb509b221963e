import { VERSION } from "../../model/version.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_OK, type CliIo } from "../io.ts";
import { versionSpec } from "../specs/version.ts";

/** `agent-auth version [-o json]` (also `--version`, `-V`). */
export function versionCommand(io: CliIo, _g: GlobalOptions, args: readonly string[]): number {
  const output = outputMode("version", parseCommandArgs(versionSpec, args).values.output);
  io.stdout(output === "json" ? JSON.stringify({ version: VERSION }) + "\n" : `agent-auth ${VERSION}\n`);
  return EXIT_OK;
}
