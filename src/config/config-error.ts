/** One problem in a policy file: where it is and what is wrong. */
export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `profiles.bot.default_tier` ("" for the whole file). */
  readonly path: string;
  /** The message, e.g. `profiles.bot: invalid default_tier 'hard', expected one of […]`. */
  readonly message: string;
  /** 1-based YAML line, when known. */
  readonly line?: number;
  /** 1-based YAML column, when known. */
  readonly column?: number;
}

/**
 * A policy file is invalid. `errors` lists every problem found, in a stable
 * order, with the original library's messages; `issues` are the same problems
 * with their path and YAML position.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError" as const;
  readonly errors: readonly string[];

  constructor(
    readonly issues: readonly ConfigIssue[],
    /** Warnings found beside the errors (unknown keys, lint), shown with them. */
    readonly warnings: readonly ConfigIssue[] = [],
  ) {
    const errors = issues.map((i) => i.message);
    super("Invalid auth config:\n  " + errors.join("\n  "));
    this.errors = Object.freeze(errors);
  }
}

/** True for a {@link ConfigError}, also one from another copy of this module. */
export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof Error && e.name === "ConfigError";
}
