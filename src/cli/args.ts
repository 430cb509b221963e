import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./io.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses a command's arguments strictly; unknown options and stray words are usage errors. */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>["values"] {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${command}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `--output/-o`: console (default) or json. */
export const outputOption = { output: { type: "string", short: "o", default: "console" } } as const;

/** Validates the `--output` value. */
export function outputMode(command: string, value: unknown): "console" | "json" {
  if (value === "console" || value === "json") return value;
  throw new UsageError(`${command}: --output must be 'console' or 'json', got '${String(value)}'`);
}

/** A required option's value, or a usage error naming it. */
export function requireOption(command: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new UsageError(`${command}: missing option --${name}`);
  return value;
}

/** An optional whole number (e.g. `--duration`). */
export function intOption(command: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`${command}: --${name} must be a whole number, got '${text}'`);
  return Number(text);
}

/**
 * `--metadata k=v` values: each value is read as JSON when it parses (`5000`,
 * `true`, `["a"]`, `"quoted"`), else taken as plain text.
 */
export function metadataOption(command: string, values: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of (values as string[] | undefined) ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${command}: --metadata expects key=value, got '${item}'`);
    const key = item.slice(0, eq);
    const raw = item.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: plain text.
    }
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
