import { toJson } from "@bufbuild/protobuf";
import { DescribePolicyResponseSchema } from "../../../gen/agentauth/v1/policy_pb.ts";
import { Tier } from "../../../gen/agentauth/v1/decision_pb.ts";
import { configToJson, type AuthConfig } from "../../config/index.ts";
import { serverClient } from "../backend.ts";
import type { GlobalOptions } from "../global-options.ts";
import { inspectSpec } from "../specs/inspect.ts";
import { compilePolicy } from "../../policy/index.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../io.ts";
import { loadPolicyOrReport, printWarnings } from "../load-policy.ts";
import { bold, green, paint, red, renderTable, yellow } from "../table.ts";

/**
 * `agent-auth -c FILE inspect [-o json]`: the policy as readable tables.
 * With --server, what the server is deciding with (DescribePolicy).
 */
export async function inspectCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(inspectSpec, args);
  const output = outputMode("inspect", values.output);
  if (g.server !== undefined) return inspectRemote(io, g, output);
  const loaded = loadPolicyOrReport(io, g.configPath);
  if (loaded === undefined) return EXIT_FAILURE;
  const { config, warnings } = loaded;
  const policy = compilePolicy(config);
  if (output === "json") {
    const effective: Record<string, string[]> = {};
    for (const [name, role] of policy.roles) effective[name] = [...role.actions];
    io.stdout(JSON.stringify({ revision: policy.revision, effective_role_actions: effective, config: configToJson(config) }, null, 2) + "\n");
    return EXIT_OK;
  }
  printWarnings(io, warnings);
  io.stdout(describe(config, policy.revision, io.color, (name) => [...(policy.roles.get(name)?.actions ?? [])]));
  return EXIT_OK;
}

function describe(config: AuthConfig, revision: string, color: boolean, effective: (role: string) => string[]): string {
  const h = (s: string): string => paint(color, bold, s);
  const tier = (t: string): string => paint(color, t === "strong" ? red : t === "soft" ? yellow : green, t);
  const list = (xs: readonly string[], empty = "-"): string => (xs.length === 0 ? empty : xs.join(", "));
  const out: string[] = [];
  const m = config.metadata;
  out.push(h(m.name === "" ? "(unnamed policy)" : m.name));
  if (m.description !== "") out.push(`  ${m.description}`);
  out.push(`  Version: ${config.version}    Revision: ${revision}`);
  if (m.author !== "") out.push(`  Author: ${m.author}`);
  if (config.variables.size > 0) {
    out.push("", h(`Variables (${config.variables.size})`));
    out.push(renderTable(["Name", "Value"], [...config.variables].map(([k, v]) => [`$${k}`, JSON.stringify(v)]), color).trimEnd());
  }
  if (config.roles.size > 0) {
    out.push("", h(`Roles (${config.roles.size})`));
    const rows = [...config.roles.values()].map((r) => [r.name, r.extends || "-", list(r.actions), list(effective(r.name)), r.description || "-"]);
    out.push(renderTable(["Name", "Extends", "Actions", "Effective actions", "Description"], rows, color).trimEnd());
  }
  if (config.profiles.size > 0) {
    out.push("", h(`Profiles (${config.profiles.size})`));
    const rows = [...config.profiles.values()].map((p) => [
      p.name,
      p.role || "-",
      tier(p.defaultTier),
      list(p.allow),
      list(p.deny),
      list(p.scopes, "*"),
      `${p.maxSessionDuration}s`,
    ]);
    out.push(renderTable(["Name", "Role", "Default tier", "Allow", "Deny", "Scopes", "Max session"], rows, color).trimEnd());
  }
  if (config.approvalPolicies.length > 0) {
    out.push("", h(`Approval policies (${config.approvalPolicies.length})`));
    const rows = config.approvalPolicies.map((p) => [p.name, tier(p.tier), p.condition || "(always)", p.description || "-"]);
    out.push(renderTable(["Name", "Tier", "Condition", "Description"], rows, color).trimEnd());
  }
  const d = config.delegation;
  out.push("", h("Delegation"));
  out.push(`  Enabled: ${d.enabled ? "yes" : "no"}    Default duration: ${d.defaultDuration}s    Max duration: ${d.maxDuration}s`);
  if (d.rules.length > 0) {
    const rows = d.rules.map((r) => [r.name, list(r.allowedActions, "*"), `${r.maxDuration}s`, r.requireReason ? "yes" : "no"]);
    out.push(renderTable(["Rule", "Allowed actions", "Max duration", "Requires reason"], rows, color).trimEnd());
  }
  out.push("", h(`A2A policies (${config.a2a.policies.length})`), `  Default: ${config.a2a.default}`);
  if (config.a2a.policies.length > 0) {
    const rows = config.a2a.policies.map((p) => [
      p.name,
      p.fromAgent,
      p.toAgent,
      p.action,
      paint(color, p.effect === "allow" ? green : red, p.effect),
      p.condition || "-",
    ]);
    out.push(renderTable(["Name", "From", "To", "Action", "Effect", "Condition"], rows, color).trimEnd());
  }
  const s = config.sessions;
  out.push("", h("Sessions"), `  Default duration: ${s.defaultDuration}s    Max duration: ${s.maxDuration}s`);
  const a = config.audit;
  out.push("", h("Audit"), `  Enabled: ${a.enabled ? "yes" : "no"}    Path: ${a.path}    Durability: ${a.durability}`);
  return out.join("\n") + "\n";
}

async function inspectRemote(io: CliIo, g: GlobalOptions, output: "console" | "json"): Promise<number> {
  const client = serverClient(g);
  try {
    const r = await client.policy.describePolicy({});
    if (output === "json") {
      io.stdout(JSON.stringify(toJson(DescribePolicyResponseSchema, r), null, 2) + "\n");
      return EXIT_OK;
    }
    const c = io.color;
    const tierName = (t: Tier): string => (t === Tier.STRONG ? "strong" : t === Tier.SOFT ? "soft" : "autonomous");
    const out = [
      paint(c, bold, r.name === "" ? "(unnamed policy)" : r.name),
      ...(r.description === "" ? [] : [`  ${r.description}`]),
      `  Version: ${r.version}    Revision: ${r.revision}    Server: ${g.server}`,
      "",
      paint(c, bold, `Roles (${r.roles.length})`),
      renderTable(["Name", "Extends", "Actions", "Effective actions"], r.roles.map((x) => [x.name, x.extends || "-", x.actions.join(", ") || "-", x.effectiveActions.join(", ") || "-"]), c).trimEnd(),
      "",
      paint(c, bold, `Profiles (${r.profiles.length})`),
      renderTable(
        ["Name", "Role", "Default tier", "Allow", "Deny", "Scopes", "Max session"],
        r.profiles.map((p) => [p.name, p.role || "-", tierName(p.defaultTier), p.allow.join(", ") || "-", p.deny.join(", ") || "-", p.scopes.join(", ") || "*", `${p.maxSessionDurationSeconds}s`]),
        c,
      ).trimEnd(),
      "",
      `Approval policies: ${r.summary?.approvalPolicies ?? 0}    Delegation rules: ${r.summary?.delegationRules ?? 0}    A2A policies: ${r.summary?.a2aPolicies ?? 0}`,
      ...(r.reloadErrors.length === 0
        ? []
        : ["", paint(c, red, `The policy file ${r.source} is invalid; still serving revision ${r.revision}:`), ...r.reloadErrors.map((e) => `  - ${e}`)]),
      "",
      paint(c, bold, `Replicas (${r.replicas.length})${new Set(r.replicas.map((x) => x.revision)).size > 1 ? " — NOT converged" : ""}`),
      renderTable(
        ["Replica", "Address", "Revision", "Policy file"],
        r.replicas.map((x) => [x.replica, x.address, x.revision, x.reloadErrors.length === 0 ? "ok" : `invalid (${x.reloadErrors.length} problems)`]),
        c,
      ).trimEnd(),
    ];
    io.stdout(out.join("\n") + "\n");
    return EXIT_OK;
  } finally {
    client.close();
  }
}
