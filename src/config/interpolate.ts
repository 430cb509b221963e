/** `${NAME}` references (NAME: letters, digits, underscore — Unicode letters too, like Python's `\w`). */
const REFERENCE = /\$\{([\p{L}\p{N}_]+)\}/gu;

/** Options for {@link interpolate}. */
export interface InterpolateOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Only variables whose names start with one of these prefixes are read; a
   * reference to any other is left as written. Undefined: every variable.
   */
  readonly prefixes?: readonly string[] | undefined;
  /** Sees each reference left as written because no prefix allows its variable. */
  readonly onRefused?: ((name: string) => void) | undefined;
}

/**
 * Replaces `${NAME}` with the variable's value; names not set (or outside the
 * allowed prefixes) are left as written. Applies to string values only (never
 * keys), as the original did.
 */
export function interpolate(text: string, options: InterpolateOptions): string {
  if (!text.includes("${")) return text;
  const { env, prefixes, onRefused } = options;
  return text.replace(REFERENCE, (whole, name: string) => {
    if (prefixes !== undefined && !prefixes.some((p) => name.startsWith(p))) {
      onRefused?.(name);
      return whole;
    }
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return value === undefined ? whole : value;
  });
}

/**
 * The allowed prefixes from a comma-separated list (`AGENT_AUTH_ENV_PREFIXES`):
 * undefined when the list is unset (every variable may be read); an empty or
 * blank list allows none.
 */
export function parseEnvPrefixes(list: string | undefined): readonly string[] | undefined {
  if (list === undefined) return undefined;
  return Object.freeze(
    list
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== ""),
  );
}
