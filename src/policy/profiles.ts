import type { AgentProfileConfig } from "../config/types.ts";
import * as reasons from "../model/reasons.ts";
import { TIER_ORDER, type ApprovalTier } from "../model/types.ts";
import { compilePatternSet, type PatternSet } from "./fnmatch.ts";
import type { ResolvedRole } from "./roles.ts";

/** A profile compiled for decisions: pattern sets built once. */
export interface CompiledProfile {
  readonly name: string;
  readonly role: string;
  /** Role chain, root first. */
  readonly roleChain: readonly string[];
  readonly deny: PatternSet;
  /** Role actions plus `allow`, minus patterns listed verbatim in `deny`. */
  readonly allow: PatternSet;
  /** Undefined when the profile allows every scope. */
  readonly scopes: PatternSet | undefined;
  readonly maxSessionDuration: number;
  readonly defaultTier: ApprovalTier;
  readonly defaultTierRank: number;
  readonly description: string;
  /** "Allowed by profile 'p'" with the approval suffix for each tier rank, built once. */
  readonly allowReasons: readonly [string, string, string];
}

/** Compiles one profile against the resolved roles. */
export function compileProfile(
  profile: AgentProfileConfig,
  roles: ReadonlyMap<string, ResolvedRole>,
): CompiledProfile {
  const role = profile.role === "" ? undefined : roles.get(profile.role);
  const effective = new Set(role?.actions);
  for (const a of profile.allow) effective.add(a);
  // Deny is checked first anyway; removing verbatim duplicates only keeps `inspect` honest.
  for (const d of profile.deny) effective.delete(d);
  const tier = profile.defaultTier as ApprovalTier;
  return Object.freeze({
    name: profile.name,
    role: profile.role,
    roleChain: role?.chain ?? [],
    deny: compilePatternSet(profile.deny),
    allow: compilePatternSet(effective),
    scopes: profile.scopes.length === 0 ? undefined : compilePatternSet(profile.scopes),
    maxSessionDuration: profile.maxSessionDuration,
    defaultTier: tier,
    defaultTierRank: TIER_ORDER[tier] ?? 0,
    description: profile.description,
    allowReasons: Object.freeze(withApprovalSuffixes(reasons.allowedByProfile(profile.name))),
  });
}

/** "deny" if a deny pattern matches, else "allow" if an allow pattern matches, else undefined. */
export function checkAction(profile: CompiledProfile, action: string): "deny" | "allow" | undefined {
  if (profile.deny.matches(action)) return "deny";
  if (profile.allow.matches(action)) return "allow";
  return undefined;
}

/** True when the profile allows the scope (an empty scope list allows all). */
export function checkScope(profile: CompiledProfile, scope: string): boolean {
  return profile.scopes === undefined || profile.scopes.matches(scope);
}

/** A reason followed by nothing, " (requires soft approval)" and " (requires strong approval)". */
export function withApprovalSuffixes(reason: string): [string, string, string] {
  return [reason, reason + reasons.requiresApproval("soft"), reason + reasons.requiresApproval("strong")];
}
