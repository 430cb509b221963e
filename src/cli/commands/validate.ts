import { readFileSync } from "node:fs";
import { isConfigError, loadConfigWithWarnings } from "../../config/index.ts";
import { Code, isClientError } from "../../client/index.ts";
import { serverClient } from "../backend.ts";
import type { GlobalOptions } from "../main.ts";
import { policyRevision } from "../../policy/index.ts";
import { outputMode, outputOption, parseCommandArgs } from "../args.ts";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../io.ts";
import { formatIssue, printWarnings } from "../load-policy.ts";
import { green, paint, red } from "../table.ts";

/**
 * `agent-auth -c FILE validate [-o json]`: every problem, conditions included.
 * With --server, the server validates the file's text (ValidatePolicy).
 */
export async function validateCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const values = parseCommandArgs("validate", args, { ...outputOption });
  const output = outputMode("validate", values.output);
  if (g.server !== undefined) return validateRemote(io, g, output);
  const configPath = g.configPath;
  try {
    const { config, warnings } = loadConfigWithWarnings(configPath);
    const counts = {
      roles: config.roles.size,
      profiles: config.profiles.size,
      approval_policies: config.approvalPolicies.length,
      delegation_rules: config.delegation.rules.length,
      a2a_policies: config.a2a.policies.length,
    };
    if (output === "json") {
      io.stdout(JSON.stringify({ valid: true, revision: policyRevision(config), counts, warnings }, null, 2) + "\n");
      return EXIT_OK;
    }
    printWarnings(io, warnings);
    io.stdout(
      `${paint(io.color, green, "Config is valid:")} ${counts.roles} roles, ${counts.profiles} profiles, ` +
        `${counts.approval_policies} approval policies, ${counts.a2a_policies} A2A policies\n`,
    );
    return EXIT_OK;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    if (output === "json") {
      io.stdout(JSON.stringify({ valid: false, errors: error.issues }, null, 2) + "\n");
      return EXIT_FAILURE;
    }
    io.stderr(paint(io.color, red, "Validation failed:") + "\n");
    for (const issue of error.issues) io.stderr(`  - ${formatIssue(issue)}\n`);
    return EXIT_FAILURE;
  }
}

async function validateRemote(io: CliIo, g: GlobalOptions, output: "console" | "json"): Promise<number> {
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
    if (output === "json") {
      io.stdout(JSON.stringify({ valid: true, revision: r.revision, counts: s, warnings: r.warnings }, null, 2) + "\n");
    } else {
      for (const w of r.warnings) io.stderr(`Warning: ${w.message}${w.line > 0 ? ` (line ${w.line})` : ""}\n`);
      io.stdout(`${paint(io.color, green, "Config is valid:")} ${s?.roles ?? 0} roles, ${s?.profiles ?? 0} profiles, ${s?.approvalPolicies ?? 0} approval policies, ${s?.a2aPolicies ?? 0} A2A policies\n`);
    }
    return EXIT_OK;
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
