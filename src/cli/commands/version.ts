import { VERSION } from "../../model/version.ts";
import { EXIT_OK, type CliIo } from "../io.ts";

/** `agent-auth version` */
export function versionCommand(io: CliIo): number {
  io.stdout(`agent-auth ${VERSION}\n`);
  return EXIT_OK;
}
