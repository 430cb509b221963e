/**
 * The `agent-auth` command. Global options may stand before or after the
 * command: `agent-auth -c policy.yaml check --agent a --user u --action x`.
 */
// Commands are loaded when run: `version` must not pay for gRPC, Redis and the server.
import { isAgentAuthError } from "../client/agent-auth-error.ts";
import { isClientError } from "../client/client-error.ts";
import type { CommandSpec } from "./command-spec.ts";
import { renderCommandHelp } from "./command-spec.ts";
import { explainConnectionError } from "./connection-errors.ts";
import { GLOBAL_OPTIONS, parseCommandLine, type GlobalOptions } from "./global-options.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isUsageError, processIo, UsageError, type CliIo } from "./io.ts";
import { dialInfo } from "./server-target.ts";
import { approvalsSpec } from "./specs/approvals.ts";
import { auditSpec } from "./specs/audit.ts";
import { checkSpec } from "./specs/check.ts";
import { delegateSpec, delegationsSpec } from "./specs/delegations.ts";
import { explainSpec } from "./specs/explain.ts";
import { helpSpec } from "./specs/help.ts";
import { inspectSpec } from "./specs/inspect.ts";
import { mcpProxySpec } from "./specs/mcp-proxy.ts";
import { replaySpec } from "./specs/replay.ts";
import { serveSpec } from "./specs/serve.ts";
import { sessionsSpec } from "./specs/sessions.ts";
import { testSpec } from "./specs/test.ts";
import { validateSpec } from "./specs/validate.ts";
import { versionSpec } from "./specs/version.ts";

export type { GlobalOptions } from "./global-options.ts";

/**
 * Every command, in the order `agent-auth help` lists them. A new command is
 * a spec in specs/ (its options, help and example), a module in commands/,
 * and one line here.
 */
export const COMMANDS: readonly CommandSpec[] = [
  serveSpec,
  validateSpec,
  inspectSpec,
  checkSpec,
  explainSpec,
  testSpec,
  replaySpec,
  sessionsSpec,
  delegateSpec,
  delegationsSpec,
  approvalsSpec,
  auditSpec,
  mcpProxySpec,
  versionSpec,
  helpSpec,
];

/** `agent-auth help`: the global options and every command in one line. */
export function programHelp(): string {
  const globals = GLOBAL_OPTIONS.map((o) => [`${o.names.join(", ")} ${o.value}`, `${o.help}${o.env === undefined ? "" : ` ($${o.env})`}`] as const);
  const width = Math.max(...globals.map(([f]) => f.length), ...COMMANDS.map((c) => c.name.length));
  return [
    "Usage: agent-auth [GLOBAL OPTIONS] COMMAND [OPTIONS]",
    "",
    "A policy decision point for AI agents.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options (before or after the command):",
    ...globals.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
    `  ${"-h, --help".padEnd(width)}  this help; 'agent-auth COMMAND --help' for a command's`,
    `  ${"-V, --version".padEnd(width)}  the version`,
    "",
    "validate, inspect, check, explain and mcp-proxy decide locally unless --server is given; sessions,",
    "delegate and delegations need --server or --redis; approvals needs --server; audit reads the",
    "local audit file unless --server is given. '--' ends the options.",
    "Exit codes: 0 allowed / ok, 1 denied or an error, 2 a usage error (2 also: unusable test files).",
    "",
  ].join("\n");
}

/** Runs the CLI and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let g: GlobalOptions | undefined;
  try {
    const line = parseCommandLine(argv, io.env, COMMANDS);
    g = line.globals;
    if (line.command === undefined) {
      if (line.version) return await (await versionSpec.load())(io, g, []);
      (line.help ? io.stdout : io.stderr)(programHelp());
      return line.help ? EXIT_OK : EXIT_USAGE;
    }
    const spec = COMMANDS.find((c) => c.name === line.command);
    if (spec === undefined) throw new UsageError(`unknown command '${line.command}'${suggest(line.command)}`);
    if (line.help) {
      io.stdout(renderCommandHelp(spec));
      return EXIT_OK;
    }
    if (line.version) return await (await versionSpec.load())(io, g, []);
    return await (await spec.load())(io, g, line.args);
  } catch (error) {
    return reportError(io, g, error);
  }
}

/** Prints an error the way every command does: one line, and a hint where one helps. Never a stack trace. */
function reportError(io: CliIo, g: GlobalOptions | undefined, thrown: unknown): number {
  // The SDK's errors keep the gRPC error they came from: report that, with its hints.
  const error = isAgentAuthError(thrown) && isClientError(thrown.cause) ? thrown.cause : thrown;
  if (isUsageError(error)) {
    io.stderr(`Error: ${error.message}\nHint: run 'agent-auth ${error.command === undefined ? "help" : `${error.command} --help`}' for usage.\n`);
    return EXIT_USAGE;
  }
  if (isClientError(error)) {
    const friendly = g?.server === undefined ? undefined : explainConnectionError(error, dialInfo(g));
    if (friendly !== undefined) {
      io.stderr(`Error: ${friendly.message}\nHint: ${friendly.hint}\n`);
      return EXIT_FAILURE;
    }
    io.stderr(`Error: ${error.message}\n`);
    for (const v of error.fieldViolations) io.stderr(`  - ${v.field}: ${v.description}\n`);
    return EXIT_FAILURE;
  }
  io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  if (io.env["AGENT_AUTH_DEBUG"] && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
  return EXIT_FAILURE;
}

/** " (did you mean 'x'?)" for a near miss of a command name. */
function suggest(name: string): string {
  const near = COMMANDS.map((c) => c.name).find((c) => distance(c, name) <= 2 || c.startsWith(name));
  return near === undefined ? "" : ` (did you mean '${near}'?)`;
}

/** Edit distance, for suggestions. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Entry point when run as a program. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), processIo());
}
