import { renderCommandHelp } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { helpSpec } from "../specs/help.ts";
import { parseCommandArgs } from "../command-spec.ts";

/** `agent-auth help [COMMAND]`. */
export async function helpCommand(io: CliIo, _g: GlobalOptions, args: readonly string[]): Promise<number> {
  const { positionals } = parseCommandArgs(helpSpec, args);
  const { COMMANDS, programHelp } = await import("../main.ts");
  if (positionals.length === 0) {
    io.stdout(programHelp());
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new UsageError("help: name one command", "help");
  const spec = COMMANDS.find((c) => c.name === positionals[0]);
  if (spec === undefined) throw new UsageError(`help: unknown command '${positionals[0]}'`, "help");
  io.stdout(renderCommandHelp(spec));
  return EXIT_OK;
}
