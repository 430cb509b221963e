import { isConfigError, loadConfigWithWarnings, parseEnvPrefixes, type AuthConfig, type ConfigIssue, type ConfigLimits, type ParseConfigOptions } from "../config/index.ts";
import type { CliIo } from "./io.ts";
import { paint, red, yellow } from "./table.ts";

/** One problem as a line: its message, then where it is: `… (line 3, column 7)`. */
export function formatIssue(issue: ConfigIssue): string {
  if (issue.line === undefined || issue.message.includes(`(line ${issue.line}`) || issue.message.includes(`at line ${issue.line}`)) return issue.message;
  return `${issue.message} (line ${issue.line}${issue.column === undefined ? "" : `, column ${issue.column}`})`;
}

/**
 * How commands interpolate `${ENV}` in policy files: from the command's
 * environment, limited to the prefixes in AGENT_AUTH_ENV_PREFIXES when set.
 */
export function policyEnv(io: CliIo): Pick<ParseConfigOptions, "env" | "envPrefixes"> {
  return { env: io.env, envPrefixes: parseEnvPrefixes(io.env["AGENT_AUTH_ENV_PREFIXES"]) };
}

/**
 * Loads the policy for a command. On a config error prints every problem
 * (never a stack trace) and returns undefined; the caller exits 1.
 */
export function loadPolicyOrReport(io: CliIo, path: string, limits?: Partial<ConfigLimits>): { config: AuthConfig; warnings: readonly ConfigIssue[] } | undefined {
  try {
    return loadConfigWithWarnings(path, { ...policyEnv(io), ...(limits === undefined ? {} : { limits }) });
  } catch (error) {
    if (!isConfigError(error)) throw error;
    printWarnings(io, error.warnings);
    io.stderr(paint(io.color, red, "Validation failed:") + "\n");
    for (const issue of error.issues) io.stderr(`  - ${formatIssue(issue)}\n`);
    return undefined;
  }
}

/** Prints warnings (unknown keys and the like) to stderr. */
export function printWarnings(io: CliIo, warnings: readonly ConfigIssue[]): void {
  for (const w of warnings) io.stderr(`${paint(io.color, yellow, "Warning:")} ${formatIssue(w)}\n`);
}
