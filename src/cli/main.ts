/**
 * The `agent-auth` command. Global options come before the command, as in the
 * original: `agent-auth -c policy.yaml check --agent a --user u --action x`.
 */
// Commands are loaded when run: `version` must not pay for gRPC, Redis and the server.
import { isClientError } from "../client/client-error.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isUsageError, processIo, UsageError, type CliIo } from "./io.ts";

export const USAGE = `Usage: agent-auth [GLOBAL OPTIONS] COMMAND [OPTIONS]

A policy decision point for AI agents.

Global options (before the command):
  -c, --config FILE     policy file (default: agent_auth.yaml, or $AGENT_AUTH_CONFIG);
                        also accepted after the command
  --server HOST:PORT    talk to a running server ($AGENT_AUTH_SERVER)
  --redis URL           work on shared state in Redis directly ($AGENT_AUTH_REDIS_URL)
  --redis-prefix P      Redis key prefix (default agent-auth)
  --tls-ca FILE         CA to trust for --server over TLS
  --tls-cert FILE       client certificate for --server (mutual TLS), with --tls-key FILE
  --token TOKEN         bearer token for --server ($AGENT_AUTH_TOKEN)
  -h, --help            show this help

Commands:
  serve                 serve the policy over gRPC
                          [--host H] [--port P] [--tls-cert F --tls-key F [--tls-client-ca F]]
                          [--redis URL] [--redis-prefix P] [--max-batch N] [--grace-ms MS]
                          [--server-config FILE]  callers, limits, metrics, reload
                          ($AGENT_AUTH_SERVER_CONFIG); SIGHUP reloads the policy
  version               print the version
  validate              check the policy file and report every problem
  inspect               show roles, profiles, policies and rules
  check                 decide one request:
                          --agent A --user U --action X [--resource R] [--scope S]
                          [--target-agent T] [--session ID] [--metadata k=v ...]
  sessions              --create --agent A --user U [--scope S] [--duration SEC]
                        | --list [--agent A] [--user U] [--all] | --revoke ID
  delegate              --from-user U --to-agent A --actions a,b [--duration SEC] [--reason R]
  delegations           --list [--agent A] [--user U] [--all] | --revoke ID
  audit                 [--since ISO] [--agent A] [--user U] [--action X] [--effect allow|deny]
                        [--limit N] [--output-file F] | --follow [--after CURSOR]
  mcp-proxy             guard an MCP server's tools (needs @modelcontextprotocol/sdk):
                          --name NAME --agent A --user U [--session ID] [--scope S]
                          [--max-restarts N] -- COMMAND [ARGS...]             (stdio)
                        | --name NAME --listen HOST:PORT --upstream URL --clients FILE
                          [--path /mcp] [--upstream-header 'K: V' ...]        (HTTP)

validate, inspect, check and mcp-proxy decide locally unless --server is given; sessions,
delegate and delegations need --server or --redis; audit reads the local audit
file unless --server is given (--follow streams live decisions from a server).
Every command takes -o/--output console|json where it prints results.
Exit codes: 0 allowed / ok, 1 denied or error, 2 usage error.
`;

/** Global options and where the command starts. */
export interface GlobalOptions {
  readonly configPath: string;
  readonly server: string | undefined;
  readonly redis: string | undefined;
  readonly redisPrefix: string | undefined;
  readonly tlsCa: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly token: string | undefined;
  readonly command: string | undefined;
  readonly args: readonly string[];
  readonly help: boolean;
}

const VALUED = new Map<string, keyof GlobalOptions>([
  ["-c", "configPath"],
  ["--config", "configPath"],
  ["--server", "server"],
  ["--redis", "redis"],
  ["--redis-prefix", "redisPrefix"],
  ["--tls-ca", "tlsCa"],
  ["--tls-cert", "tlsCert"],
  ["--tls-key", "tlsKey"],
  ["--token", "token"],
]);

/** Splits argv into global options, the command and its arguments. */
export function parseGlobal(argv: readonly string[], env: CliIo["env"]): GlobalOptions {
  const values: Record<string, string | undefined> = {
    configPath: env["AGENT_AUTH_CONFIG"] ?? "agent_auth.yaml",
    server: env["AGENT_AUTH_SERVER"] || undefined,
    redis: env["AGENT_AUTH_REDIS_URL"] || undefined,
    token: env["AGENT_AUTH_TOKEN"] || undefined,
  };
  let help = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const key = VALUED.get(name);
    if (key !== undefined) {
      const value = name === arg ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
      values[key] = value;
      continue;
    }
    if (arg.startsWith("-")) throw new UsageError(`unknown global option ${arg}`);
    break;
  }
  // `-c FILE` is also accepted after the command (`agent-auth serve -c policy.yaml`).
  const rest: string[] = [];
  for (let j = i + 1; j < argv.length; j++) {
    const arg = argv[j]!;
    if (arg === "--") {
      // Everything after `--` belongs to the command (mcp-proxy's server command line).
      rest.push(...argv.slice(j));
      break;
    }
    if (arg === "-c" || arg === "--config") {
      const value = argv[++j];
      if (value === undefined || value === "") throw new UsageError(`${arg} needs a value`);
      values["configPath"] = value;
    } else if (arg.startsWith("--config=")) values["configPath"] = arg.slice("--config=".length);
    else rest.push(arg);
  }
  return {
    configPath: values["configPath"]!,
    server: values["server"],
    redis: values["redis"],
    redisPrefix: values["redisPrefix"],
    tlsCa: values["tlsCa"],
    tlsCert: values["tlsCert"],
    tlsKey: values["tlsKey"],
    token: values["token"],
    command: argv[i],
    args: rest,
    help,
  };
}

/** Runs the CLI and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const g = parseGlobal(argv, io.env);
    if (g.help || g.command === undefined || g.command === "help") {
      (g.command === undefined && !g.help ? io.stderr : io.stdout)(USAGE);
      return g.command === undefined && !g.help ? EXIT_USAGE : EXIT_OK;
    }
    switch (g.command) {
      case "version":
        return (await import("./commands/version.ts")).versionCommand(io);
      case "serve":
        return await (await import("./commands/serve.ts")).serveCommand(io, g, g.args);
      case "validate":
        return await (await import("./commands/validate.ts")).validateCommand(io, g, g.args);
      case "inspect":
        return await (await import("./commands/inspect.ts")).inspectCommand(io, g, g.args);
      case "check":
        return await (await import("./commands/check.ts")).checkCommand(io, g, g.args);
      case "sessions":
        return await (await import("./commands/sessions.ts")).sessionsCommand(io, g, g.args);
      case "delegate":
        return await (await import("./commands/delegations.ts")).delegateCommand(io, g, g.args);
      case "delegations":
        return await (await import("./commands/delegations.ts")).delegationsCommand(io, g, g.args);
      case "audit":
        return await (await import("./commands/audit.ts")).auditCommand(io, g, g.args);
      case "mcp-proxy":
        return await (await import("./commands/mcp-proxy.ts")).mcpProxyCommand(io, g, g.args);
      default:
        throw new UsageError(`unknown command '${g.command}'`);
    }
  } catch (error) {
    if (isUsageError(error)) {
      io.stderr(`Error: ${error.message}\nRun 'agent-auth --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (isClientError(error)) {
      io.stderr(`Error: ${error.message}\n`);
      for (const v of error.fieldViolations) io.stderr(`  - ${v.field}: ${v.description}\n`);
      return EXIT_FAILURE;
    }
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }
}

/** Entry point when run as a program. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), processIo());
}
