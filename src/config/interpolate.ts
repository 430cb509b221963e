/** `${NAME}` references (NAME: letters, digits, underscore — Unicode letters too, like Python's `\w`). */
const REFERENCE = /\$\{([\p{L}\p{N}_]+)\}/gu;

/**
 * Replaces `${NAME}` with the variable's value; names not set are left as
 * written. Applies to string values only (never keys), as the original did.
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!text.includes("${")) return text;
  return text.replace(REFERENCE, (whole, name: string) => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return value === undefined ? whole : value;
  });
}
