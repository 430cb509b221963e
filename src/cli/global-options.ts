import type { CliIo } from "./io.ts";
import { UsageError } from "./io.ts";
import type { CommandSpec } from "./command-spec.ts";

/** Options of the program itself, accepted before or after the command. */
export interface GlobalOptions {
  readonly configPath: string;
  readonly server: string | undefined;
  readonly redis: string | undefined;
  readonly redisPrefix: string | undefined;
  readonly tlsCa: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly token: string | undefined;
}

/** What the command line asks for: a command with its own words, help, or the version. */
export interface CommandLine {
  readonly globals: GlobalOptions;
  readonly command: string | undefined;
  /** The command's words, global options taken out (`--` and what follows kept). */
  readonly args: readonly string[];
  readonly help: boolean;
  readonly version: boolean;
}

/** The global options with what `agent-auth help` says about them. */
export const GLOBAL_OPTIONS: readonly { readonly names: readonly string[]; readonly key: keyof GlobalOptions; readonly value: string; readonly env?: string; readonly help: string }[] = [
  { names: ["-c", "--config"], key: "configPath", value: "FILE", env: "AGENT_AUTH_CONFIG", help: "policy file (default agent_auth.yaml)" },
  { names: ["--server"], key: "server", value: "HOST[:PORT]", env: "AGENT_AUTH_SERVER", help: "talk to a running server; port 50051 unless given; http://, https:// (TLS) accepted" },
  { names: ["--redis"], key: "redis", value: "URL", env: "AGENT_AUTH_REDIS_URL", help: "work on the shared state in Redis directly" },
  { names: ["--redis-prefix"], key: "redisPrefix", value: "P", help: "Redis key prefix (default agent-auth)" },
  { names: ["--tls-ca"], key: "tlsCa", value: "FILE", help: "CA to trust for --server over TLS" },
  { names: ["--tls-cert"], key: "tlsCert", value: "FILE", help: "client certificate for --server (mutual TLS), with --tls-key" },
  { names: ["--tls-key"], key: "tlsKey", value: "FILE", help: "client key for --tls-cert" },
  { names: ["--token"], key: "token", value: "TOKEN", env: "AGENT_AUTH_TOKEN", help: "bearer token for --server" },
];

const BY_NAME = new Map(GLOBAL_OPTIONS.flatMap((o) => o.names.map((n) => [n, o] as const)));

/**
 * Splits argv into global options, the command and its words. Global options
 * may stand anywhere on the line, except where the command has an option of
 * the same name (`serve --tls-cert` is the server's certificate); `--` ends
 * option parsing. `-h`/`--help` and `-V`/`--version` work anywhere too.
 */
export function parseCommandLine(argv: readonly string[], env: CliIo["env"], commands: readonly CommandSpec[]): CommandLine {
  const values: Record<string, string | undefined> = {
    configPath: env["AGENT_AUTH_CONFIG"] || "agent_auth.yaml",
    server: env["AGENT_AUTH_SERVER"] || undefined,
    redis: env["AGENT_AUTH_REDIS_URL"] || undefined,
    token: env["AGENT_AUTH_TOKEN"] || undefined,
  };
  let help = false;
  let version = false;
  let command: CommandSpec | undefined;
  let commandName: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      if (commandName === undefined) throw new UsageError("'--' must follow a command");
      args.push(...argv.slice(i));
      break;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const own = command === undefined ? undefined : ownOption(command, name);
    if (own !== undefined) {
      // The command's option (and its value, which may look like an option).
      args.push(arg);
      if (own.type === "string" && eq < 0 && i + 1 < argv.length) args.push(argv[++i]!);
      continue;
    }
    const global = BY_NAME.get(name);
    if (global !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value (${global.value})`, commandName);
      values[global.key] = value;
      continue;
    }
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (arg === "-V" || arg === "--version") {
      version = true;
      continue;
    }
    if (commandName === undefined) {
      if (arg.startsWith("-")) throw new UsageError(`unknown global option ${arg}`);
      commandName = arg;
      command = commands.find((c) => c.name === arg);
      continue;
    }
    args.push(arg);
  }
  return {
    globals: {
      configPath: values["configPath"]!,
      server: values["server"],
      redis: values["redis"],
      redisPrefix: values["redisPrefix"],
      tlsCa: values["tlsCa"],
      tlsCert: values["tlsCert"],
      tlsKey: values["tlsKey"],
      token: values["token"],
    },
    command: commandName,
    args,
    help,
    version,
  };
}

/** The command's own option named `name` (`--x`, `-x`), if it has one. */
function ownOption(command: CommandSpec, name: string): { type: "string" | "boolean" } | undefined {
  if (name.startsWith("--")) return command.options[name.slice(2)];
  if (/^-[A-Za-z]$/.test(name)) return Object.values(command.options).find((o) => o.short === name.slice(1));
  return undefined;
}
