import type { AuditEvent } from "./event.ts";

/** Which decisions a subscriber or query wants; empty lists and undefined match everything. */
export interface AuditFilter {
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
  if (agents === undefined && users === undefined && actions === undefined && tiers === undefined && effect === undefined) {
    return () => true;
  }
  return (e) =>
    (agents === undefined || agents.has(e.request.agent)) &&
    (users === undefined || users.has(e.request.user)) &&
    (actions === undefined || actions.has(e.request.action)) &&
    (effect === undefined || (effect === "allow") === e.decision.allowed) &&
    (tiers === undefined || (e.decision.allowed && tiers.has(e.decision.tier)));
}

function set(xs: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return xs === undefined || xs.length === 0 ? undefined : new Set(xs);
}
