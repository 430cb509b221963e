import { traceExpression } from "../expr/index.ts";
import * as reasons from "../model/reasons.ts";
import type { NormalizedRequest } from "../model/request.ts";
import type { ApprovalTier } from "../model/types.ts";
import { a2aFields, approvalFields, checkAction, checkScope, fnmatch, type CompiledPolicy } from "../policy/index.ts";
import type { StateOutcome } from "../state/outcome.ts";
import { sessionDenial } from "./decide.ts";

/** One step of a decision's path. */
export interface ExplainStep {
  /** `session`, `state`, `profile`, `deny`, `scope`, `allow`, `delegation`, `user_permissions`, `a2a`, `a2a_rule`, `authorization`, `approval_policy`, `tier`. */
  readonly step: string;
  /** `pass`, `deny`, `allow`, `none`, `skip`, `match`, `no_match`, `error`, `found`, `missing`, `set`. */
  readonly outcome: string;
  /** The step in one sentence. */
  readonly summary: string;
  /** The step as data (patterns, names, condition steps). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** The decision an explanation arrives at (the fields of a decision, without id or timing). */
export interface ExplainedDecision {
  readonly allowed: boolean;
  readonly tier: ApprovalTier;
  readonly reason: string;
  readonly requires_approval: boolean;
  readonly approval_policy: string;
  readonly policy_revision: string;
}

/** The path of a decision, step by step, and where it ends. */
export interface Explanation {
  readonly steps: readonly ExplainStep[];
  readonly decision: ExplainedDecision;
  /** What the explanation assumed (e.g. no state was read). */
  readonly notes: readonly string[];
}

/** What the state told the explanation. */
export interface ExplainState {
  /** The outcome of the state read; "unavailable" when it failed; undefined when none was made. */
  readonly outcome: StateOutcome | "unavailable" | undefined;
  /** The user-permission provider's answer; undefined when it has none or was not asked. */
  readonly provider: boolean | "error" | undefined;
  readonly notes?: readonly string[];
}

/**
 * Walks the decision pipeline for a request and says what each step found —
 * session, profile, deny list, scope, allow list and the role that granted
 * the action, delegation, user permissions, A2A rules, approval policies with
 * their conditions' values, the tier and who set it — and the decision it
 * arrives at. Built apart from the decision path (which must stay lean) over
 * the same compiled policy; a property test holds its decision equal to
 * `AuthEngine.decide`'s.
 */
export function explainDecision(policy: CompiledPolicy, req: NormalizedRequest, state: ExplainState): Explanation {
  const steps: ExplainStep[] = [];
  const add = (step: string, outcome: string, summary: string, details: Record<string, unknown> = {}): void => void steps.push({ step, outcome, summary, details });
  const finish = (allowed: boolean, tier: ApprovalTier, reason: string, approvalPolicy = ""): Explanation => ({
    steps,
    decision: { allowed, tier, reason, requires_approval: allowed && tier !== "autonomous", approval_policy: approvalPolicy, policy_revision: policy.revision },
    notes: state.notes ?? [],
  });
  const deny = (reason: string): Explanation => finish(false, "autonomous", reason);

  // The state read comes first: when it fails, nothing else is decided.
  const outcome = state.outcome;
  if (outcome === "unavailable") {
    add("state", "error", "the state store could not be read: the request is denied (fail closed)");
    return deny(reasons.STATE_UNAVAILABLE);
  }
  if (req.sessionId === "") add("session", "skip", "no session named: no session check");
  else if (outcome !== undefined && outcome.kind !== "ok") {
    const reason = sessionDenial(outcome, req);
    add("session", "deny", `session '${req.sessionId}': ${reason}`, { session_id: req.sessionId, result: outcome.kind });
    return deny(reason);
  } else add("session", "pass", `session '${req.sessionId}' is active, for this agent and user${req.scope === "" ? "" : ", and the scope is within it"}`, { session_id: req.sessionId });

  const profile = policy.profiles.get(req.agent);
  if (profile === undefined) {
    add("profile", "missing", `no profile named '${req.agent}': only a delegation or user permissions can allow; tier starts at autonomous`, { agent: req.agent });
  } else {
    const chain = profile.roleChain;
    add("profile", "found", `profile '${profile.name}'${profile.role === "" ? " (no role)" : ` with role '${profile.role}'${chain.length > 1 ? ` (extends ${[...chain].reverse().slice(1).join(" → ")})` : ""}`}, default tier ${profile.defaultTier}`, {
      profile: profile.name,
      role: profile.role,
      role_chain: [...chain].reverse(),
      default_tier: profile.defaultTier,
    });
  }

  let profileAllows = false;
  if (profile !== undefined) {
    const config = policy.config.profiles.get(profile.name)!;
    const verdict = checkAction(profile, req.action);
    if (verdict === "deny") {
      const pattern = config.deny.find((p) => fnmatch(req.action, p)) ?? "";
      add("deny", "deny", `deny pattern '${pattern}' of profile '${profile.name}' matches action '${req.action}'`, { pattern, patterns: config.deny });
      return deny(reasons.deniedByProfile(req.action, profile.name));
    }
    add("deny", "pass", config.deny.length === 0 ? "the profile denies nothing" : `no deny pattern matches '${req.action}'`, { patterns: config.deny });
    if (req.scope === "") add("scope", "skip", "the request has no scope: no scope check");
    else if (!checkScope(profile, req.scope)) {
      add("scope", "deny", `scope '${req.scope}' matches none of the profile's scopes`, { scope: req.scope, patterns: config.scopes });
      return deny(reasons.scopeNotAllowed(req.scope, profile.name));
    } else if (config.scopes.length === 0) add("scope", "pass", "the profile allows every scope", { scope: req.scope });
    else {
      const pattern = config.scopes.find((p) => fnmatch(req.scope, p)) ?? "";
      add("scope", "pass", `scope '${req.scope}' matches the profile's scope '${pattern}'`, { scope: req.scope, pattern });
    }
    profileAllows = verdict === "allow";
    if (profileAllows) {
      const grant = grantOf(policy, profile.name, req.action);
      add("allow", "allow", `action '${req.action}' is allowed by ${grant.text}`, grant.details);
    } else {
      add("allow", "none", `no allow pattern of profile '${profile.name}'${profile.role === "" ? "" : ` or its role '${profile.role}'`} matches '${req.action}'`);
    }
  }

  let source: { kind: "profile" } | { kind: "delegation"; fromUser: string } | { kind: "provider" } | undefined = profileAllows ? { kind: "profile" } : undefined;
  if (!profileAllows) {
    const grant = outcome?.kind === "ok" ? outcome.grant : undefined;
    if (grant !== undefined) {
      source = { kind: "delegation", fromUser: grant.fromUser };
      add("delegation", "allow", `delegation ${grant.id} from user '${grant.fromUser}' covers '${req.action}'`, { delegation_id: grant.id, from_user: grant.fromUser });
    } else {
      add("delegation", "none", outcome === undefined ? "delegations were not read" : `no active delegation from user '${req.user}' to '${req.agent}' covers '${req.action}'`);
      if (state.provider === undefined) add("user_permissions", "skip", "no user-permissions provider");
      else if (state.provider === "error") {
        add("user_permissions", "error", "the user-permissions provider failed: the request is denied (fail closed)");
        return deny(reasons.USER_PERMISSIONS_UNAVAILABLE);
      } else if (state.provider) {
        source = { kind: "provider" };
        add("user_permissions", "allow", `the user-permissions provider lists '${req.action}' for '${req.user}'`);
      } else add("user_permissions", "none", `the user-permissions provider does not list '${req.action}' for '${req.user}'`);
    }
  }

  if (req.targetAgent !== "") {
    const a2a = explainA2A(policy, req, add);
    if (!a2a.allowed) return deny(a2a.reason);
  } else add("a2a", "skip", "no target agent: no agent-to-agent check");

  if (source === undefined) {
    add("authorization", "deny", `nothing allows '${req.action}' for '${req.agent}'`);
    return deny(reasons.notAuthorized(req.action, req.agent));
  }

  const start = profile?.defaultTierRank ?? 0;
  let rank = start;
  const firstOfRank: (string | undefined)[] = [undefined, undefined, undefined];
  for (const p of policy.approval.policies) {
    const trace = traceExpression(p.condition, req, approvalFields, policy.config.variables);
    const matched = trace.value !== false;
    const tier = TIER_BY_RANK[p.rank]!;
    const details = { policy: p.name, tier, condition: p.condition.source, value: trace.value, steps: trace.steps, ...(trace.error === undefined ? {} : { error: trace.error }) };
    if (trace.value === "error") add("approval_policy", "match", `approval policy '${p.name}' (${tier}): the condition could not be evaluated (${trace.error}), so it counts as matched (fail closed)`, details);
    else if (matched) add("approval_policy", "match", `approval policy '${p.name}' (${tier}): the condition holds`, details);
    else add("approval_policy", "no_match", `approval policy '${p.name}' (${tier}): the condition does not hold${trace.steps.length === 0 ? "" : ` — ${trace.steps[trace.steps.length - 1]}`}`, details);
    if (!matched) continue;
    if (p.rank > rank) rank = p.rank;
    firstOfRank[p.rank] ??= p.name;
  }
  const tier = TIER_BY_RANK[rank]!;
  const setBy = rank === 0 ? "" : (firstOfRank[rank] ?? "");
  if (setBy !== "") add("tier", "set", `tier ${tier}, set by approval policy '${setBy}' (the first matching policy with the highest tier)`, { tier, approval_policy: setBy });
  else add("tier", "set", `tier ${tier}, ${profile === undefined ? "the default for an agent without a profile" : `the default tier of profile '${profile.name}'`}${rank === 0 ? "" : "; no matching policy raised it"}`, { tier, approval_policy: "" });

  const suffix = rank === 0 ? "" : reasons.requiresApproval(tier);
  const reason =
    // As the original words it: an agent with a profile is "allowed by profile" whatever allowed it, a delegation aside.
    source.kind === "delegation" ? reasons.delegatedBy(source.fromUser) + suffix : profile !== undefined ? reasons.allowedByProfile(profile.name) + suffix : reasons.ALLOWED_BY_USER_PERMISSIONS + suffix;
  return finish(true, tier, reason, setBy);
}

const TIER_BY_RANK: readonly ApprovalTier[] = ["autonomous", "soft", "strong"];

/** Which pattern allowed the action: the profile's own `allow`, or a role of its chain (nearest first). */
function grantOf(policy: CompiledPolicy, profileName: string, action: string): { text: string; details: Record<string, unknown> } {
  const config = policy.config.profiles.get(profileName)!;
  const own = config.allow.find((p) => !config.deny.includes(p) && fnmatch(action, p));
  if (own !== undefined) return { text: `the profile's allow pattern '${own}'`, details: { pattern: own, source: "profile" } };
  const chain = [...(policy.profiles.get(profileName)?.roleChain ?? [])].reverse();
  for (const role of chain) {
    const pattern = policy.config.roles.get(role)?.actions.find((p) => !config.deny.includes(p) && fnmatch(action, p));
    if (pattern === undefined) continue;
    const via = role === config.role ? `role '${role}'` : `role '${role}', inherited through ${chain.slice(0, chain.indexOf(role)).map((r) => `'${r}'`).join(" → ")}`;
    return { text: `pattern '${pattern}' of ${via}`, details: { pattern, source: "role", role, via: chain.slice(0, chain.indexOf(role) + 1) } };
  }
  return { text: "the profile", details: {} };
}

/** The A2A rules, one step each, then the verdict: the first matching deny wins, else the first matching allow, else the default. */
function explainA2A(policy: CompiledPolicy, req: NormalizedRequest, add: (step: string, outcome: string, summary: string, details?: Record<string, unknown>) => void): { allowed: boolean; reason: string } {
  let allowLabel: string | undefined;
  for (const rule of policy.a2a.rules) {
    const applies = rule.from(req.agent) && rule.to(req.targetAgent) && rule.action(req.action);
    const base = { rule: rule.name, effect: rule.deny ? "deny" : "allow", from_agent: rule.fromAgent, to_agent: rule.toAgent, action: rule.actionPattern };
    if (!applies) {
      add("a2a_rule", "no_match", `A2A rule '${rule.name}' (${rule.fromAgent} → ${rule.toAgent}, action '${rule.actionPattern}') does not apply`, base);
      continue;
    }
    const trace = traceExpression(rule.condition, req, a2aFields, policy.config.variables);
    // A condition that fails makes a deny rule match and an allow rule not (fail closed).
    const matched = trace.value === "error" ? rule.deny : trace.value;
    const why = trace.value === "error" ? ` (its condition could not be evaluated: ${trace.error})` : rule.condition.source.trim() === "" ? "" : matched ? " (its condition holds)" : " (its condition does not hold)";
    add("a2a_rule", matched ? "match" : "no_match", `A2A ${rule.deny ? "deny" : "allow"} rule '${rule.name}' ${matched ? "matches" : "does not match"}${why}`, { ...base, value: trace.value, steps: trace.steps });
    if (!matched) continue;
    if (rule.deny) {
      const reason = `Denied by A2A policy: ${rule.label}`;
      add("a2a", "deny", `'${req.agent}' may not call '${req.targetAgent}': denied by rule '${rule.name}'`);
      return { allowed: false, reason };
    }
    allowLabel ??= rule.label;
  }
  if (allowLabel !== undefined) {
    add("a2a", "pass", `'${req.agent}' may call '${req.targetAgent}' (an allow rule matched, no deny rule did)`);
    return { allowed: true, reason: `Allowed by A2A policy: ${allowLabel}` };
  }
  const d = policy.a2a.defaultResult;
  add("a2a", d.allowed ? "pass" : "deny", `no A2A rule matched: the default (${policy.config.a2a.default}) applies`);
  return d;
}


