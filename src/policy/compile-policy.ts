import type { AuthConfig } from "../config/types.ts";
import type { ExpressionLimits } from "../expr/index.ts";
import { A2AEvaluator } from "./a2a.ts";
import { ApprovalEvaluator } from "./approval.ts";
import { DelegationRules } from "./delegation-rules.ts";
import { compileProfile, type CompiledProfile } from "./profiles.ts";
import { policyRevision } from "./revision.ts";
import { resolveRoles, type ResolvedRole } from "./roles.ts";

/** Everything a decision needs from the policy, compiled once. Immutable. */
export interface CompiledPolicy {
  readonly config: AuthConfig;
  readonly revision: string;
  readonly roles: ReadonlyMap<string, ResolvedRole>;
  readonly profiles: ReadonlyMap<string, CompiledProfile>;
  readonly approval: ApprovalEvaluator;
  readonly a2a: A2AEvaluator;
  readonly delegationRules: DelegationRules;
}

/** Options for {@link compilePolicy}. */
export interface CompilePolicyOptions {
  readonly expressionLimits?: Partial<ExpressionLimits>;
}

/**
 * Compiles a validated config: roles resolved, patterns and conditions
 * compiled, approval policies indexed. Pure; the result can be swapped in
 * atomically by replacing one reference.
 */
export function compilePolicy(config: AuthConfig, options: CompilePolicyOptions = {}): CompiledPolicy {
  const roles = resolveRoles(config.roles);
  const profiles = new Map<string, CompiledProfile>();
  for (const [name, profile] of config.profiles) profiles.set(name, compileProfile(profile, roles));
  const limits = options.expressionLimits;
  return Object.freeze({
    config,
    revision: policyRevision(config),
    roles,
    profiles,
    approval: new ApprovalEvaluator(config.approvalPolicies, config.variables, limits),
    a2a: new A2AEvaluator(config.a2a, config.variables, limits),
    delegationRules: new DelegationRules(config.delegation),
  });
}
