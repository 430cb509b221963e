import { UsageError } from "./io.ts";

/** A required option's value, or a usage error naming it. */
export function requireOption(command: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new UsageError(`${command}: missing option --${name}`, command.split(" ")[0]);
  return value;
}

/** An optional whole number (e.g. `--duration`). */
export function intOption(command: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`${command}: --${name} must be a whole number, got '${text}'`, command.split(" ")[0]);
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
    if (eq <= 0) throw new UsageError(`${command}: --metadata expects key=value, got '${item}'`, command);
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
