/** A structured logger: a message and fields per line. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** How log lines look: `json` for machines (one object per line), `pretty` for people. */
export type LogFormat = "json" | "pretty";

/** Writes JSON lines (`{"time","level","msg",…}`) to a stream (stderr by default). */
export function createJsonLogger(write: (line: string) => void = (l) => void process.stderr.write(l), base: Record<string, unknown> = {}): Logger {
  const log = (level: string, msg: string, fields?: Record<string, unknown>): void => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...base, ...fields };
    if (entry["error"] instanceof Error) {
      const e = entry["error"];
      entry["error"] = { name: e.name, message: e.message, stack: e.stack };
    }
    write(JSON.stringify(entry) + "\n");
  };
  return {
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

/**
 * Writes lines for people: `12:30:04 WARN  message  key=value …`, with colour
 * when asked. Errors show their message, not their stack.
 */
export function createPrettyLogger(write: (line: string) => void = (l) => void process.stderr.write(l), options: { readonly color?: boolean } = {}): Logger {
  const colour = options.color === true;
  const paint = (code: number, s: string): string => (colour ? `\u001b[${code}m${s}\u001b[39m` : s);
  const LEVELS: Readonly<Record<string, string>> = { info: paint(32, "INFO "), warn: paint(33, "WARN "), error: paint(31, "ERROR") };
  const log = (level: string, msg: string, fields: Record<string, unknown> = {}): void => {
    const parts = Object.entries(fields).map(([k, v]) => `${k}=${show(v)}`);
    write(`${new Date().toISOString().slice(11, 19)} ${LEVELS[level] ?? level} ${msg}${parts.length === 0 ? "" : `  ${parts.join(" ")}`}\n`);
  };
  return {
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

/** A logger of the given format. */
export function createLogger(format: LogFormat, write?: (line: string) => void, options: { readonly color?: boolean } = {}): Logger {
  return format === "json" ? createJsonLogger(write) : createPrettyLogger(write, options);
}

function show(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w.:/@\-[\]]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
