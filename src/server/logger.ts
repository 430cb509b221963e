/** A structured logger: one JSON object per line. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

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

/** A logger that drops everything (tests). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
