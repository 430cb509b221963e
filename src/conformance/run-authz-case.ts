import { isConfigError, parseConfig, type AuthConfig } from "../config/index.ts";
import { AuthEngine } from "../engine/auth-engine.ts";
import { createMemoryStore } from "../state/memory/memory-store.ts";
import { ManualClock } from "../model/clock.ts";
import type { AuthzCase, CaseResult, ExpectedDecision, SetupOp } from "./cases.ts";
import { runSetupOp } from "./setup-ops.ts";

const DECISION_FIELDS = ["allowed", "tier", "requires_approval", "approval_policy", "reason"] as const;

/**
 * Runs one authorization case on a fresh engine with a stopped clock, the
 * case's environment and user permissions, and no audit.
 */
export async function runAuthzCase(c: AuthzCase): Promise<CaseResult> {
  const differences: string[] = [];
  const done = (): CaseResult => ({ id: c.id, passed: differences.length === 0, differences });
  const expectsConfigError = Object.hasOwn(c.expect, "config_error");

  let config: AuthConfig;
  try {
    config = parseConfig(c.config, { env: c.env ?? {} });
  } catch (error) {
    if (isConfigError(error)) {
      if (!expectsConfigError) differences.push(`config: unexpected ConfigError: ${error.errors.join("; ")}`);
    } else {
      differences.push(`config: crashed instead of a ConfigError: ${String(error)}`);
    }
    return done();
  }
  if (expectsConfigError) {
    differences.push("config: loaded, but a ConfigError was expected");
    return done();
  }

  const clock = new ManualClock();
  const permissions = c.user_permissions;
  const engine = new AuthEngine(config, {
    clock,
    store: createMemoryStore({ clock }),
    userPermissions: permissions === undefined ? undefined : (user) => new Set(Object.hasOwn(permissions, user) ? permissions[user] : []),
  });
  try {
    const ids = new Map<string, string>();
    for (const [i, op] of c.setup.entries()) {
      const problem = await runOp(engine, clock, ids, op);
      if (problem !== undefined) differences.push(`setup[${i}] (${op.op}): ${problem}`);
    }
    if (c.request === null) {
      differences.push("request: missing");
      return done();
    }
    const r = c.request;
    const sessionId = r.session_id !== null && r.session_id.startsWith("$") ? (ids.get(r.session_id.slice(1)) ?? r.session_id) : r.session_id;
    const decision = await engine.authorize({
      agent: r.agent,
      user: r.user,
      action: r.action,
      resource: r.resource,
      scope: r.scope,
      targetAgent: r.target_agent,
      sessionId,
      metadata: r.metadata,
    });
    const got: Record<string, unknown> = {
      allowed: decision.allowed,
      tier: decision.tier,
      requires_approval: decision.requiresApproval,
      approval_policy: decision.approvalPolicy,
      reason: decision.reason,
    };
    const expected = c.expect as ExpectedDecision;
    for (const field of DECISION_FIELDS) {
      if (got[field] !== expected[field]) {
        differences.push(`${field}: expected ${JSON.stringify(expected[field])}, got ${JSON.stringify(got[field])}`);
      }
    }
  } catch (error) {
    differences.push(`crashed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await engine.close();
  }
  return done();
}

async function runOp(engine: AuthEngine, clock: ManualClock, ids: Map<string, string>, op: SetupOp): Promise<string | undefined> {
  const { op: name, expect_error: expectError, error, ...args } = op;
  // An expected failure without its text accepts any error message.
  return runSetupOp({ engine, clock, ids }, name, args, expectError === true ? (error ?? ANY_ERROR) : undefined).then((problem) =>
    problem !== undefined && error === undefined && expectError === true && problem.startsWith("expected the error") && !problem.endsWith("but it succeeded") ? undefined : problem,
  );
}

const ANY_ERROR = "(any error)";
