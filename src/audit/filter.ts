import type { AuditEvent, AuditKind } from "./event.ts";

/**
 * Which records a subscriber or query wants; empty lists and undefined match
 * everything — except `kinds`, whose default is decisions only, so readers
 * that know nothing of approvals keep seeing just decisions.
 */
export interface AuditFilter {
  /** Record kinds: `decision` and the approval event kinds. Absent or empty: decisions only. */
  readonly kinds?: readonly AuditKind[] | undefined;
  readonly agents?: readonly string[] | undefined;
  readonly users?: readonly string[] | undefined;
  readonly actions?: readonly string[] | undefined;
  /** `allow` or `deny`; undefined for both. */
  readonly effect?: "allow" | "deny" | undefined;
  /** Tiers of allowed decisions; a denial has no tier and never matches a tier filter. */
  readonly tiers?: readonly string[] | undefined;
}

/** Compiles a filter to a predicate. */
export function compileAuditFilter(filter: AuditFilter = {}): (e: AuditEvent) => boolean {
  const agents = set(filter.agents);
  const users = set(filter.users);
  const actions = set(filter.actions);
  const tiers = set(filter.tiers);
  const effect = filter.effect;
  const kinds = set(filter.kinds);
  const decisions = kinds === undefined || kinds.has("decision");
  const kindMatches = kinds === undefined ? (e: AuditEvent) => e.kind === undefined : (e: AuditEvent) => (e.kind === undefined ? decisions : kinds.has(e.kind));
  if (agents === undefined && users === undefined && actions === undefined && tiers === undefined && effect === undefined) {
    return kindMatches;
  }
  return (e) =>
    kindMatches(e) &&
    (agents === undefined || agents.has(e.request.agent)) &&
    (users === undefined || users.has(e.request.user)) &&
    (actions === undefined || actions.has(e.request.action)) &&
    (effect === undefined || (effect === "allow") === e.decision.allowed) &&
    (tiers === undefined || (e.decision.allowed && tiers.has(e.decision.tier)));
}

function set(xs: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return xs === undefined || xs.length === 0 ? undefined : new Set(xs);
}
