/** Where a command writes, what it may read, and how it ends. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Colour and table borders are for terminals only. */
  readonly color: boolean;
  /** stderr is a terminal (a person reads the server's log). Default false. */
  readonly interactive?: boolean;
}

/** Exit codes, as the original CLI: 0 allowed / ok, 1 denied or error, 2 usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command-line mistake: printed with a one-line hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError" as const;
  /** The command whose `--help` the hint points to; undefined for the program's. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof Error && e.name === "UsageError";
}

/** The process's own streams. */
export function processIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    color: process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined,
    interactive: process.stderr.isTTY === true,
  };
}
