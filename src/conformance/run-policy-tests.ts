import { relative } from "node:path";
import { isConfigError, loadConfigWithWarnings, type AuthConfig, type ConfigIssue } from "../config/index.ts";
import { AuthEngine } from "../engine/auth-engine.ts";
import { compileRegex } from "../expr/regex.ts";
import { ManualClock } from "../model/clock.ts";
import { isInvalidRequestError } from "../model/errors.ts";
import type { AuthDecision, AuthRequest } from "../model/types.ts";
import { createMemoryStore } from "../state/memory/memory-store.ts";
import { isPolicyTestFileError, PolicyTestFileError, readPolicyTestFile, type PolicyTest, type PolicyTestFile } from "./policy-test-file.ts";
import { runSetupOp } from "./setup-ops.ts";

/** The outcome of one test. */
export interface PolicyTestResult {
  readonly name: string;
  readonly line: number;
  readonly passed: boolean;
  /** One entry per difference: `reason: expected "…", got "…"`. */
  readonly differences: readonly string[];
}

/** The outcome of one test file: its tests' results, or why it could not be used. */
export interface PolicyTestFileResult {
  readonly file: string;
  readonly policy: string | undefined;
  readonly results: readonly PolicyTestResult[];
  /** Set when the file or its policy cannot be used (then no test counts as run). */
  readonly error: PolicyTestFileError | undefined;
  /** The policy's warnings (unknown keys, lint). */
  readonly warnings: readonly ConfigIssue[];
}

/**
 * Runs a test file: loads its policy with the file's environment only and its
 * variable overrides, then runs each test on a fresh engine with a stopped
 * clock, an empty memory store and no audit log. A broken file, an invalid
 * policy or a malformed request is an error naming the file and line, never a
 * pass.
 */
export async function runPolicyTestFile(file: string): Promise<PolicyTestFileResult> {
  let spec: PolicyTestFile;
  try {
    spec = readPolicyTestFile(file);
  } catch (error) {
    if (isPolicyTestFileError(error)) return { file, policy: undefined, results: [], error, warnings: [] };
    throw error;
  }
  let config: AuthConfig;
  let warnings: readonly ConfigIssue[];
  try {
    const loaded = loadConfigWithWarnings(spec.policy, { env: spec.env });
    config = loaded.config;
    warnings = loaded.warnings;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    const problems = error.issues.map((i) => `  - ${i.message}${i.line === undefined || i.message.includes("line ") ? "" : ` (line ${i.line})`}`).join("\n");
    return { file, policy: spec.policy, results: [], error: new PolicyTestFileError(file, spec.policyLine, `the policy ${relative(".", spec.policy)} cannot be used:\n${problems}`), warnings: error.warnings };
  }
  for (const name of spec.variables.keys()) {
    if (!config.variables.has(name)) {
      return { file, policy: spec.policy, results: [], error: new PolicyTestFileError(file, undefined, `variables.${name}: the policy has no variable '${name}' (it has: ${[...config.variables.keys()].join(", ") || "none"})`), warnings };
    }
  }
  if (spec.variables.size > 0) config = { ...config, variables: new Map([...config.variables, ...spec.variables]) as AuthConfig["variables"] };
  const results: PolicyTestResult[] = [];
  for (const test of spec.tests) {
    try {
      results.push(await runTest(config, test));
    } catch (error) {
      if (!isInvalidRequestError(error)) throw error;
      return { file, policy: spec.policy, results: [], error: new PolicyTestFileError(file, test.line, `test '${test.name}': the request is malformed: ${error.message}`), warnings };
    }
  }
  return { file, policy: spec.policy, results, error: undefined, warnings };
}

async function runTest(config: AuthConfig, test: PolicyTest): Promise<PolicyTestResult> {
  const clock = new ManualClock();
  const engine = new AuthEngine(config, { clock, store: createMemoryStore({ clock }) });
  const differences: string[] = [];
  try {
    const ids = new Map<string, string>();
    for (const [i, step] of test.setup.entries()) {
      const problem = await runSetupOp({ engine, clock, ids }, step.op, step.args, step.expectError);
      if (problem !== undefined) differences.push(`setup[${i}] (${step.op}, line ${step.line}): ${problem}`);
    }
    const r = test.request;
    const request: AuthRequest = {
      agent: r.agent,
      user: r.user,
      action: r.action,
      resource: r.resource,
      scope: r.scope,
      targetAgent: r.targetAgent,
      sessionId: r.session === undefined ? undefined : (ids.get(r.session) ?? r.session),
      approvalId: r.approval === undefined ? undefined : (ids.get(r.approval) ?? r.approval),
      metadata: r.metadata,
    };
    differences.push(...compare(test, await engine.authorize(request)));
  } finally {
    await engine.close();
  }
  return { name: test.name, line: test.line, passed: differences.length === 0, differences };
}

/** Every expected field that differs, in a stable order. */
function compare(test: PolicyTest, d: AuthDecision): string[] {
  const e = test.expect;
  const got: Readonly<Record<string, unknown>> = {
    allowed: d.allowed,
    tier: d.tier,
    requires_approval: d.requiresApproval,
    approval_policy: d.approvalPolicy,
    reason: d.reason,
    approval_status: d.approvalStatus,
  };
  const out: string[] = [];
  for (const field of ["allowed", "tier", "requires_approval", "approval_policy", "reason", "approval_status"] as const) {
    if (e[field] !== undefined && e[field] !== got[field]) out.push(`${field}: expected ${JSON.stringify(e[field])}, got ${JSON.stringify(got[field])}`);
  }
  if (e.reason_matches !== undefined && !compileRegex(e.reason_matches, e.reason_matches, 0)(d.reason)) {
    out.push(`reason: expected a match of /${e.reason_matches}/, got ${JSON.stringify(d.reason)}`);
  }
  return out;
}
