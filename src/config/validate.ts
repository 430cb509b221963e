import { compileExpression, isExpressionSyntaxError, type ExpressionLimits } from "../expr/index.ts";
import type { ConfigIssue } from "./config-error.ts";
import type { AuthConfig } from "./types.ts";

const TIERS = "['autonomous', 'soft', 'strong']";
const VALID_TIERS = new Set(["autonomous", "soft", "strong"]);
const EFFECTS = "['allow', 'deny']";
const VALID_EFFECTS = new Set(["allow", "deny"]);
/** `audit.buffer_bytes` bounds: room for a few records at least, and a heap that stays bounded. */
const MIN_AUDIT_BUFFER = 64 * 1024;
const MAX_AUDIT_BUFFER = 1024 * 1024 * 1024;
/** `approvals.max_uses` bound: an approval is for a few uses, not a standing grant (that is a delegation). */
const MAX_APPROVAL_USES = 1000;

/** Where validation finds what it reports about a field besides its value. */
export interface ConfigSource {
  /** The YAML position of a field, when known. */
  at(path: string): { line: number; column: number } | undefined;
  /** How a message shows the value of a field: as written when `${ENV}` interpolation changed it. */
  shown(path: string, value: string): string;
  /** Whether the field's value came out of `${ENV}` interpolation. */
  interpolated(path: string): boolean;
}

/**
 * Every rule a well-typed config must satisfy, in the original library's order
 * and words, plus our condition checks (syntax and `$variables`, right after
 * each policy's tier or effect check) and stream length. A value that came
 * out of `${ENV}` interpolation is shown as written, never as its value.
 */
export function validateConfig(c: AuthConfig, source: ConfigSource, expressionLimits: Partial<ExpressionLimits>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string): void => {
    const p = source.at(path);
    issues.push(p === undefined ? { path, message } : { path, message, line: p.line, column: p.column });
  };
  const q = (path: string, value: string): string => source.shown(path, value);
  const condition = (path: string, text: string): void => {
    if (text.trim() === "") return;
    const problems: string[] = [];
    try {
      const expr = compileExpression(text, { variables: c.variables, limits: expressionLimits });
      for (const name of expr.variables) {
        if (!c.variables.has(name)) problems.push(`${path}: undefined variable '$${name}'`);
      }
    } catch (error) {
      problems.push(`${path}: ${isExpressionSyntaxError(error) ? error.message : String(error)}`);
    }
    if (problems.length === 0) return;
    // A problem's details (a token, a variable name, a position) would come from the variable's value.
    if (source.interpolated(path)) add(path, `${path}: the condition '${q(path, text)}' is not valid once its \${…} references are replaced (their values are not shown)`);
    else for (const m of problems) add(path, m);
  };

  if (c.version !== "1.0") add("version", `Unsupported config version: '${q("version", c.version)}' (expected '1.0')`);

  for (const [name, role] of c.roles) {
    const path = `roles.${name}.extends`;
    if (role.extends !== "" && !c.roles.has(role.extends)) add(path, `roles.${name}: extends '${q(path, role.extends)}' does not exist`);
  }
  for (const name of c.roles.keys()) {
    const chain: string[] = [];
    for (let current = name; current !== ""; current = c.roles.get(current)?.extends ?? "") {
      if (chain.includes(current)) {
        add(`roles.${name}.extends`, `roles.${name}: circular inheritance detected: ${chain.join(" -> ")} -> ${current}`);
        break;
      }
      chain.push(current);
    }
  }

  for (const [name, p] of c.profiles) {
    const path = `profiles.${name}`;
    if (p.role !== "" && !c.roles.has(p.role)) add(`${path}.role`, `${path}: role '${q(`${path}.role`, p.role)}' does not exist`);
    if (!VALID_TIERS.has(p.defaultTier)) add(`${path}.default_tier`, `${path}: invalid default_tier '${q(`${path}.default_tier`, p.defaultTier)}', expected one of ${TIERS}`);
    if (p.maxSessionDuration < 1) add(`${path}.max_session_duration`, `${path}: max_session_duration must be >= 1`);
    if (p.maxSessionDuration > c.sessions.maxDuration) {
      add(`${path}.max_session_duration`, `${path}: max_session_duration (${p.maxSessionDuration}) exceeds sessions.max_duration (${c.sessions.maxDuration})`);
    }
  }

  const approvalNames = new Set<string>();
  c.approvalPolicies.forEach((p, i) => {
    const prefix = `approval_policies[${i}]`;
    const name = q(`${prefix}.name`, p.name);
    if (p.name === "") add(`${prefix}.name`, `${prefix}: 'name' is required`);
    else if (approvalNames.has(p.name)) add(`${prefix}.name`, `${prefix}: duplicate approval policy name '${name}'`);
    else approvalNames.add(p.name);
    if (!VALID_TIERS.has(p.tier)) add(`${prefix}.tier`, `${prefix} (${name}): invalid tier '${q(`${prefix}.tier`, p.tier)}', expected one of ${TIERS}`);
    condition(`${prefix}.condition`, p.condition);
  });

  const ruleNames = new Set<string>();
  c.delegation.rules.forEach((r, i) => {
    const prefix = `delegation.rules[${i}]`;
    const name = q(`${prefix}.name`, r.name);
    if (r.name === "") add(`${prefix}.name`, `${prefix}: 'name' is required`);
    else if (ruleNames.has(r.name)) add(`${prefix}.name`, `${prefix}: duplicate delegation rule name '${name}'`);
    else ruleNames.add(r.name);
    if (r.maxDuration < 1) add(`${prefix}.max_duration`, `${prefix} (${name}): max_duration must be >= 1`);
    if (r.maxDuration > c.delegation.maxDuration) {
      add(`${prefix}.max_duration`, `${prefix} (${name}): max_duration (${r.maxDuration}) exceeds delegation.max_duration (${c.delegation.maxDuration})`);
    }
  });

  if (!VALID_EFFECTS.has(c.a2a.default)) add("a2a.default", `a2a.default: invalid default '${q("a2a.default", c.a2a.default)}', expected one of ${EFFECTS}`);
  const a2aNames = new Set<string>();
  c.a2a.policies.forEach((p, i) => {
    const prefix = `a2a.policies[${i}]`;
    const name = q(`${prefix}.name`, p.name);
    if (p.name === "") add(`${prefix}.name`, `${prefix}: 'name' is required`);
    else if (a2aNames.has(p.name)) add(`${prefix}.name`, `${prefix}: duplicate A2A policy name '${name}'`);
    else a2aNames.add(p.name);
    if (!VALID_EFFECTS.has(p.effect)) add(`${prefix}.effect`, `${prefix} (${name}): invalid effect '${q(`${prefix}.effect`, p.effect)}', expected one of ${EFFECTS}`);
    condition(`${prefix}.condition`, p.condition);
  });

  const s = c.sessions;
  if (s.defaultDuration < 1) add("sessions.default_duration", "sessions.default_duration must be >= 1");
  if (s.maxDuration < 1) add("sessions.max_duration", "sessions.max_duration must be >= 1");
  if (s.defaultDuration > s.maxDuration) {
    add("sessions.default_duration", `sessions.default_duration (${s.defaultDuration}) exceeds sessions.max_duration (${s.maxDuration})`);
  }
  if (c.audit.streamMaxLength < 1) add("audit.stream_max_length", "audit.stream_max_length must be >= 1");
  if (c.audit.bufferBytes < MIN_AUDIT_BUFFER || c.audit.bufferBytes > MAX_AUDIT_BUFFER) {
    add("audit.buffer_bytes", `audit.buffer_bytes must be >= ${MIN_AUDIT_BUFFER} and <= ${MAX_AUDIT_BUFFER}, got ${c.audit.bufferBytes}`);
  }
  const ap = c.approvals;
  const positive: [string, number][] = [
    ["approvals.pending_ttl", ap.pendingTtl],
    ["approvals.grant_ttl", ap.grantTtl],
    ["approvals.max_uses", ap.maxUses],
    ["approvals.history_ttl", ap.historyTtl],
    ["approvals.max_pending", ap.maxPending],
  ];
  for (const [path, value] of positive) if (value < 1) add(path, `${path} must be >= 1, got ${value}`);
  if (ap.maxUses > MAX_APPROVAL_USES) add("approvals.max_uses", `approvals.max_uses must be <= ${MAX_APPROVAL_USES}, got ${ap.maxUses}`);
  for (const tier of ["soft", "strong"] as const) {
    const path = `approvals.approvers.${tier}`;
    const list = ap.approvers[tier];
    if (list.length === 0) add(path, `${path}: names no approver, so no ${tier}-tier request could ever be approved (omit it for the default)`);
    list.forEach((pattern, i) => {
      const p = `${path}[${i}]`;
      if (pattern.trim() === "") add(p, `${p}: an approver pattern must not be empty`);
      else if (pattern === "self" && tier === "strong") {
        add(p, `${p}: 'self' is not allowed under strong: the four-eyes rule forbids the request's own user from approving a strong-tier request`);
      }
    });
  }
  return issues;
}
