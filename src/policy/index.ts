export { compilePolicy, type CompiledPolicy, type CompilePolicyOptions } from "./compile-policy.ts";
export { resolveRoles, type ResolvedRole } from "./roles.ts";
export { compileProfile, checkAction, checkScope, withApprovalSuffixes, type CompiledProfile } from "./profiles.ts";
export { ApprovalEvaluator, type ApprovalResult, type CompiledApprovalPolicy } from "./approval.ts";
export { A2AEvaluator, type A2AResult, type CompiledA2APolicy } from "./a2a.ts";
export { DelegationRules } from "./delegation-rules.ts";
export { policyRevision } from "./revision.ts";
export { approvalFields, a2aFields } from "./condition-fields.ts";
export {
  compileGlob,
  compilePatternSet,
  fnmatch,
  parseGlob,
  type GlobToken,
  type PatternSet,
} from "./fnmatch.ts";
