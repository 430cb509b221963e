import { performance } from "node:perf_hooks";
import { checkAction, checkScope, withApprovalSuffixes, type CompiledPolicy, type CompiledProfile } from "../policy/index.ts";
import * as reasons from "../model/reasons.ts";
import type { NormalizedRequest } from "../model/request.ts";
import type { StateOutcome } from "../state/outcome.ts";
import { AuthDecision, TIER_ORDER } from "../model/types.ts";

/** What decides a request before any state is read: the profile's verdict. */
export interface Screening {
  readonly profile: CompiledProfile | undefined;
  /** The reason when the profile denies outright (deny list, scope). */
  readonly deny: string | undefined;
  /** The profile's allow list covers the action. */
  readonly profileAllows: boolean;
  /** No profile verdict yet: a delegation (or the user-permission provider) may still allow. */
  readonly needDelegations: boolean;
}

/** The profile steps of the pipeline: deny list, scope, allow list. Pure. */
export function screen(policy: CompiledPolicy, req: NormalizedRequest): Screening {
  const profile = policy.profiles.get(req.agent);
  let deny: string | undefined;
  let profileAllows = false;
  if (profile !== undefined) {
    const permission = checkAction(profile, req.action);
    if (permission === "deny") deny = reasons.deniedByProfile(req.action, profile.name);
    else if (req.scope !== "" && !checkScope(profile, req.scope)) deny = reasons.scopeNotAllowed(req.scope, profile.name);
    else profileAllows = permission === "allow";
  }
  return { profile, deny, profileAllows, needDelegations: deny === undefined && !profileAllows };
}

/** What allowed the action, if anything. */
export type AllowSource =
  | { readonly kind: "profile" }
  | { readonly kind: "delegation"; readonly fromUser: string }
  | { readonly kind: "provider" }
  | undefined;

export const BY_PROFILE: AllowSource = Object.freeze({ kind: "profile" });
export const BY_PROVIDER: AllowSource = Object.freeze({ kind: "provider" });

/** Everything a decision's last steps need. */
export interface Conclusion {
  readonly policy: CompiledPolicy;
  readonly req: NormalizedRequest;
  readonly screening: Screening;
  readonly source: AllowSource;
  readonly decisionId: string;
  /** `performance.now()` when the decision started. */
  readonly start: number;
  /** The evaluation time to report, when fixed in advance; else the time since `start`. */
  readonly elapsedMs?: number | undefined;
}

const SUFFIXES = ["", reasons.requiresApproval("soft"), reasons.requiresApproval("strong")] as const;
const USER_PERMISSION_REASONS = withApprovalSuffixes(reasons.ALLOWED_BY_USER_PERMISSIONS);

/** Everything after the state read — profile deny, A2A, "not authorized", approval tier. Pure. */
export function conclude(c: Conclusion): AuthDecision {
  const { policy, req, screening } = c;
  if (screening.deny !== undefined) return denial(policy, screening.deny, elapsed(c), c.decisionId);
  if (req.targetAgent !== "") {
    const a2a = policy.a2a.evaluate(req);
    if (!a2a.allowed) return denial(policy, a2a.reason, elapsed(c), c.decisionId);
  }
  const source = c.source;
  if (source === undefined) return denial(policy, reasons.notAuthorized(req.action, req.agent), elapsed(c), c.decisionId);
  const profile = screening.profile;
  const { tier, policy: approvalPolicy } = policy.approval.evaluate(req, profile === undefined ? 0 : profile.defaultTierRank);
  const rank = TIER_ORDER[tier] as 0 | 1 | 2;
  let reason: string;
  if (source.kind === "delegation") reason = reasons.delegatedBy(source.fromUser) + SUFFIXES[rank];
  else if (profile !== undefined) reason = profile.allowReasons[rank];
  else reason = USER_PERMISSION_REASONS[rank];
  return new AuthDecision(true, tier, reason, rank > 0, approvalPolicy, elapsed(c), c.decisionId, policy.revision);
}

function elapsed(c: Conclusion): number {
  return c.elapsedMs ?? performance.now() - c.start;
}

/** A denial: tier autonomous, no approval, as the original reports it. */
export function denial(policy: CompiledPolicy, reason: string, elapsedMs: number, decisionId: string): AuthDecision {
  return new AuthDecision(false, "autonomous", reason, false, "", elapsedMs, decisionId, policy.revision);
}

/** The reason for a failed session check. */
export function sessionDenial(outcome: Exclude<StateOutcome, { kind: "ok" }>, req: NormalizedRequest): string {
  switch (outcome.kind) {
    case "session_invalid":
      return reasons.INVALID_SESSION;
    case "agent_mismatch":
      return reasons.sessionAgentMismatch(outcome.expected, req.agent);
    case "user_mismatch":
      return reasons.sessionUserMismatch(outcome.expected, req.user);
    case "scope_outside":
      return reasons.scopeOutsideSession(req.scope, outcome.pattern);
    case "scope_required":
      return reasons.sessionScopeRequired(outcome.pattern);
  }
}
