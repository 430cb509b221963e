import { parseArgs } from "node:util";
import type { CliIo } from "./io.ts";
import { UsageError } from "./io.ts";
import type { GlobalOptions } from "./global-options.ts";

/** One option of a command, as `parseArgs` reads it, with what `--help` says about it. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** The value's placeholder in help (`FILE`, `N`); string options only. */
  readonly value?: string;
  readonly help: string;
}

/** Runs a command: its arguments are the words after the command name, global options removed. */
export type CommandRunner = (io: CliIo, g: GlobalOptions, args: readonly string[]) => number | Promise<number>;

/**
 * A command of the `agent-auth` program: its name, what `--help` prints, its
 * options, and how to load it (commands are imported only when they run, so
 * `version` does not pay for gRPC and Redis).
 */
export interface CommandSpec<O extends Readonly<Record<string, OptionSpec>> = Readonly<Record<string, OptionSpec>>> {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage lines (without "Usage: "). */
  readonly usage: readonly string[];
  /** A paragraph or two after the usage. */
  readonly description: string;
  readonly options: O;
  /** Words after the options (`test PATH…`), when the command takes any. */
  readonly positionals?: { readonly name: string; readonly help: string } | undefined;
  /** At least one runnable example (docs/cli.md repeats them; a test runs them). */
  readonly examples: readonly string[];
  readonly load: () => Promise<CommandRunner>;
}

/** Declares a command (keeps the option types for {@link parseCommandArgs}). */
export function defineCommand<const O extends Readonly<Record<string, OptionSpec>>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** `--output/-o`: console (default) or json. */
export const outputOption = {
  output: { type: "string", short: "o", default: "console", value: "console|json", help: "console (readable, default) or json" },
} as const satisfies Record<string, OptionSpec>;

type Values<O extends Readonly<Record<string, OptionSpec>>> = {
  -readonly [K in keyof O]: O[K]["type"] extends "boolean"
    ? O[K]["multiple"] extends true
      ? boolean[]
      : boolean | (O[K]["default"] extends boolean ? never : undefined)
    : O[K]["multiple"] extends true
      ? string[] | undefined
      : string | (O[K]["default"] extends string ? never : undefined);
};

/**
 * Parses a command's arguments strictly against its spec: an unknown option,
 * a missing value, or a stray word (for a command without positionals) is a
 * usage error naming the command. `--` ends the options.
 */
export function parseCommandArgs<O extends Readonly<Record<string, OptionSpec>>>(spec: CommandSpec<O>, args: readonly string[]): { values: Values<O>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = {
      type: o.type,
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.multiple === undefined ? {} : { multiple: o.multiple }),
      ...(o.default === undefined ? {} : { default: o.default }),
    };
  }
  try {
    const r = parseArgs({ args: [...args], options, strict: true, allowPositionals: spec.positionals !== undefined });
    return { values: r.values as Values<O>, positionals: r.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/ To specify a positional argument.*$/s, "") : String(error);
    throw new UsageError(`${spec.name}: ${message}`, spec.name);
  }
}

/** Validates the `--output` value. */
export function outputMode(command: string, value: unknown): "console" | "json" {
  if (value === "console" || value === "json") return value;
  throw new UsageError(`${command}: --output must be 'console' or 'json', got '${String(value)}'`, command);
}

/** `agent-auth COMMAND --help`: usage, description, every option, examples. */
export function renderCommandHelp(spec: CommandSpec): string {
  const out: string[] = [];
  out.push(...spec.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}${u}`), "", spec.description.trim(), "");
  const rows: [string, string][] = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short === undefined ? "    " : `-${o.short}, `}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`;
    const more = [o.multiple === true ? "repeatable" : "", o.default !== undefined && o.default !== false && o.default !== "" ? `default ${String(o.default)}` : ""].filter(Boolean).join("; ");
    return [flag, more === "" ? o.help : `${o.help} (${more})`];
  });
  if (spec.positionals !== undefined) rows.unshift([spec.positionals.name, spec.positionals.help]);
  if (rows.length > 0) {
    const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)));
    out.push("Options:");
    for (const [flag, help] of rows) out.push(flag.length > width ? `  ${flag}\n  ${" ".repeat(width)}  ${help}` : `  ${flag.padEnd(width)}  ${help}`);
    out.push("");
  }
  out.push("Global options (-c FILE, --server HOST:PORT, --token, TLS, Redis) may come before or after the command: see 'agent-auth help'.", "");
  out.push(spec.examples.length === 1 ? "Example:" : "Examples:", ...spec.examples.map((e) => `  ${e}`), "");
  return out.join("\n");
}
