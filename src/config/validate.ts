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

/**
 * Every rule a well-typed config must satisfy, in the original library's order
 * and words, plus our condition checks (syntax and `$variables`, right after
 * each policy's tier or effect check) and stream length.
 * `at(path)` gives the YAML position of a field, when known.
 */
export function validateConfig(
  c: AuthConfig,
  at: (path: string) => { line: number; column: number } | undefined,
  expressionLimits: Partial<ExpressionLimits>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string): void => {
    const p = at(path);
    issues.push(p === undefined ? { path, message } : { path, message, line: p.line, column: p.column });
  };
  const condition = (path: string, source: string): void => {
    if (source.trim() === "") return;
    try {
      const expr = compileExpression(source, { variables: c.variables, limits: expressionLimits });
      for (const name of expr.variables) {
        if (!c.variables.has(name)) add(path, `${path}: undefined variable '$${name}'`);
      }
    } catch (error) {
      add(path, `${path}: ${isExpressionSyntaxError(error) ? error.message : String(error)}`);
    }
  };

  if (c.version !== "1.0") add("version", `Unsupported config version: '${c.version}' (expected '1.0')`);

  for (const [name, role] of c.roles) {
    if (role.extends !== "" && !c.roles.has(role.extends)) add(`roles.${name}.extends`, `roles.${name}: extends '${role.extends}' does not exist`);
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
    if (p.role !== "" && !c.roles.has(p.role)) add(`${path}.role`, `${path}: role '${p.role}' does not exist`);
    if (!VALID_TIERS.has(p.defaultTier)) add(`${path}.default_tier`, `${path}: invalid default_tier '${p.defaultTier}', expected one of ${TIERS}`);
    if (p.maxSessionDuration < 1) add(`${path}.max_session_duration`, `${path}: max_session_duration must be >= 1`);
    if (p.maxSessionDuration > c.sessions.maxDuration) {
      add(`${path}.max_session_duration`, `${path}: max_session_duration (${p.maxSessionDuration}) exceeds sessions.max_duration (${c.sessions.maxDuration})`);
    }
  }

  const approvalNames = new Set<string>();
  c.approvalPolicies.forEach((p, i) => {
    const prefix = `approval_policies[${i}]`;
    if (p.name === "") add(`${prefix}.name`, `${prefix}: 'name' is required`);
    else if (approvalNames.has(p.name)) add(`${prefix}.name`, `${prefix}: duplicate approval policy name '${p.name}'`);
    else approvalNames.add(p.name);
    if (!VALID_TIERS.has(p.tier)) add(`${prefix}.tier`, `${prefix} (${p.name}): invalid tier '${p.tier}', expected one of ${TIERS}`);
    condition(`${prefix}.condition`, p.condition);
  });

  const ruleNames = new Set<string>();
  c.delegation.rules.forEach((r, i) => {
    const prefix = `delegation.rules[${i}]`;
    if (r.name === "") add(`${prefix}.name`, `${prefix}: 'name' is required`);
    else if (ruleNames.has(r.name)) add(`${prefix}.name`, `${prefix}: duplicate delegation rule name '${r.name}'`);
    else ruleNames.add(r.name);
    if (r.maxDuration < 1) add(`${prefix}.max_duration`, `${prefix} (${r.name}): max_duration must be >= 1`);
    if (r.maxDuration > c.delegation.maxDuration) {
      add(`${prefix}.max_duration`, `${prefix} (${r.name}): max_duration (${r.maxDuration}) exceeds delegation.max_duration (${c.delegation.maxDuration})`);
    }
  });

  if (!VALID_EFFECTS.has(c.a2a.default)) add("a2a.default", `a2a.default: invalid default '${c.a2a.default}', expected one of ${EFFECTS}`);
  const a2aNames = new Set<string>();
  c.a2a.policies.forEach((p, i) => {
    const prefix = `a2a.policies[${i}]`;
    if (p.name === "") add(`${prefix}.name`, `${prefix}: 'name' is required`);
    else if (a2aNames.has(p.name)) add(`${prefix}.name`, `${prefix}: duplicate A2A policy name '${p.name}'`);
    else a2aNames.add(p.name);
    if (!VALID_EFFECTS.has(p.effect)) add(`${prefix}.effect`, `${prefix} (${p.name}): invalid effect '${p.effect}', expected one of ${EFFECTS}`);
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
  return issues;
}
