import type { CliIo } from "../io.ts";
import type { GlobalOptions } from "../global-options.ts";
/** placeholder */
export async function replayCommand(_io: CliIo, _g: GlobalOptions, _a: readonly string[]): Promise<number> {
  return 1;
}
