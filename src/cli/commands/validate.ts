import { readFileSync } from "node:fs";
import { isConfigError, loadConfigWithWarnings, type AuthConfig, type ConfigIssue } from "../../config/index.ts";
import { Code, isClientError } from "../../client/index.ts";
import { serverClient } from "../backend.ts";
import type { GlobalOptions } from "../global-options.ts";
import { validateSpec } from "../specs/validate.ts";
import { policyRevision } from "../../policy/index.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../io.ts";
import { formatIssue, policyEnv, printWarnings } from "../load-policy.ts";
import { green, paint, red, yellow } from "../table.ts";

/**
 * `agent-auth -c FILE validate [--strict] [-o json]`: every problem and every
 * warning (warnings also beside errors); --strict fails on warnings too.
 * With --server, the server validates the file's text (ValidatePolicy).
 */
export async function validateCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(validateSpec, args);
  const output = outputMode("validate", values.output);
  const strict = values.strict;
  if (g.server !== undefined) return validateRemote(io, g, output, strict);
  let errors: readonly ConfigIssue[] = [];
  let warnings: readonly ConfigIssue[];
  let config: AuthConfig | undefined;
  try {
    const parsed = loadConfigWithWarnings(g.configPath, policyEnv(io));
    config = parsed.config;
    warnings = parsed.warnings;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    errors = error.issues;
    warnings = error.warnings;
  }
  const failed = errors.length > 0 || (strict && warnings.length > 0);
  if (output === "json") {
    const counts = config === undefined ? undefined : countsOf(config);
    io.stdout(JSON.stringify({ valid: !failed, ...(config === undefined ? {} : { revision: policyRevision(config), counts }), errors, warnings, strict }, null, 2) + "\n");
    return failed ? EXIT_FAILURE : EXIT_OK;
  }
  printWarnings(io, warnings);
  if (errors.length > 0) {
    io.stderr(paint(io.color, red, "Validation failed:") + "\n");
    for (const issue of errors) io.stderr(`  - ${formatIssue(issue)}\n`);
    return EXIT_FAILURE;
  }
  if (failed) {
    io.stderr(`${paint(io.color, red, "Validation failed:")} ${warnings.length} warning${warnings.length === 1 ? "" : "s"} (--strict treats warnings as errors)\n`);
    return EXIT_FAILURE;
  }
  const c = countsOf(config!);
  io.stdout(
    `${paint(io.color, green, "Config is valid:")} ${c.roles} roles, ${c.profiles} profiles, ` +
      `${c.approval_policies} approval policies, ${c.a2a_policies} A2A policies${warnings.length === 0 ? "" : ` (${warnings.length} warning${warnings.length === 1 ? "" : "s"})`}\n`,
  );
  return EXIT_OK;
}

function countsOf(config: AuthConfig) {
  return {
    roles: config.roles.size,
    profiles: config.profiles.size,
    approval_policies: config.approvalPolicies.length,
    delegation_rules: config.delegation.rules.length,
    a2a_policies: config.a2a.policies.length,
  };
}

async function validateRemote(io: CliIo, g: GlobalOptions, output: "console" | "json", strict: boolean): Promise<number> {
  let yaml: string;
  try {
    yaml = readFileSync(g.configPath, "utf8");
  } catch {
    io.stderr(`Error: Auth config file not found: ${g.configPath}\n`);
    return EXIT_FAILURE;
  }
  const client = serverClient(g);
  try {
    const r = await client.policy.validatePolicy({ yaml });
    const s = r.summary;
    const failed = strict && r.warnings.length > 0;
    if (output === "json") {
      io.stdout(JSON.stringify({ valid: !failed, revision: r.revision, counts: s, errors: [], warnings: r.warnings, strict }, null, 2) + "\n");
    } else {
      for (const w of r.warnings) io.stderr(`${paint(io.color, yellow, "Warning:")} ${w.message}${w.line > 0 ? ` (line ${w.line})` : ""}\n`);
      if (failed) io.stderr(`${paint(io.color, red, "Validation failed:")} ${r.warnings.length} warnings (--strict treats warnings as errors)\n`);
      else io.stdout(`${paint(io.color, green, "Config is valid:")} ${s?.roles ?? 0} roles, ${s?.profiles ?? 0} profiles, ${s?.approvalPolicies ?? 0} approval policies, ${s?.a2aPolicies ?? 0} A2A policies\n`);
    }
    return failed ? EXIT_FAILURE : EXIT_OK;
  } catch (error) {
    if (!isClientError(error) || error.code !== Code.INVALID_ARGUMENT) throw error;
    if (output === "json") {
      io.stdout(JSON.stringify({ valid: false, errors: error.fieldViolations.map((v) => ({ path: v.field, message: v.description })) }, null, 2) + "\n");
    } else {
      io.stderr(paint(io.color, red, "Validation failed:") + "\n");
      for (const v of error.fieldViolations) io.stderr(`  - ${v.description}\n`);
    }
    return EXIT_FAILURE;
  } finally {
    client.close();
  }
}
