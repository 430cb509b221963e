import { normalizeRequest } from "../model/request.ts";
import type { AuthDecision, AuthRequest } from "../model/types.ts";
import { parseGlob } from "../policy/index.ts";
import type { AuthEngine } from "./auth-engine.ts";

/** A candidate the engine would allow, with the decision it would give (which may need approval). */
export interface SearchHit {
  readonly name: string;
  readonly decision: AuthDecision;
}

/** Concrete actions an agent would be allowed, and the patterns that could allow more. */
export interface ActionSearchResult {
  readonly hits: readonly SearchHit[];
  /** Allow patterns (profile, role, delegations) whose matching actions cannot be listed, sorted. */
  readonly patterns: readonly string[];
}

/** Candidates asked at once: enough to fill the Redis store's batches, few enough to bound memory. */
const CONCURRENCY = 64;

/**
 * The agents that would be allowed `request` (its agent left out) for its
 * user: every agent with a profile, and every agent holding an active
 * delegation from that user, each decided by the engine exactly as a request
 * would be, without being recorded. Allows that need approval are hits too
 * (their decision says which tier). Sorted by name. Throws
 * InvalidRequestError for a malformed request, as a decision would.
 */
export async function searchAgents(engine: AuthEngine, request: Omit<AuthRequest, "agent">): Promise<SearchHit[]> {
  // Checked up front, so that a malformed request is refused even when there is no candidate to ask about.
  normalizeRequest({ ...request, agent: "-" }, engine.limits);
  const candidates = new Set(engine.policy.profiles.keys());
  if (typeof request.user === "string" && request.user !== "") {
    for (const d of await engine.listDelegations({ user: request.user })) candidates.add(d.toAgent);
  }
  return allowed(engine, [...candidates].sort(), (agent) => ({ ...request, agent }));
}

/**
 * The concrete actions `request`'s agent would be allowed for its user on its
 * resource: the literal actions of the agent's profile (its role's, inherited
 * ones included, and its allow list) and of the user's active delegations to
 * it, each decided by the engine without being recorded. Patterns (`pr:*`)
 * cannot be enumerated: they are returned as they are, for the caller to say
 * so. Sorted by action.
 */
export async function searchActions(engine: AuthEngine, request: Omit<AuthRequest, "action">): Promise<ActionSearchResult> {
  normalizeRequest({ ...request, action: "-" }, engine.limits);
  const literal = new Set<string>();
  const patterns = new Set<string>();
  const sort = (p: string): void => {
    if (p === "") return;
    if (isLiteral(p)) literal.add(p);
    else patterns.add(p);
  };
  const profile = typeof request.agent === "string" ? engine.policy.profiles.get(request.agent) : undefined;
  for (const p of profile?.allow.patterns ?? []) sort(p);
  if (typeof request.agent === "string" && request.agent !== "" && typeof request.user === "string" && request.user !== "") {
    for (const d of await engine.listDelegations({ agent: request.agent, user: request.user })) {
      // Grants name their receiving agent exactly; the filter is a listing convenience, checked again here.
      if (d.toAgent === request.agent && d.fromUser === request.user) for (const a of d.actions) sort(a);
    }
  }
  const hits = await allowed(engine, [...literal].sort(), (action) => ({ ...request, action }));
  return { hits, patterns: [...patterns].sort() };
}

/** The candidates whose request the engine would allow, in the given order. */
async function allowed(engine: AuthEngine, names: readonly string[], requestOf: (name: string) => AuthRequest): Promise<SearchHit[]> {
  const hits: SearchHit[] = [];
  for (let i = 0; i < names.length; i += CONCURRENCY) {
    const chunk = names.slice(i, i + CONCURRENCY);
    const decisions = await Promise.all(chunk.map((name) => engine.preview(requestOf(name))));
    decisions.forEach((decision, j) => {
      if (decision.allowed) hits.push({ name: chunk[j]!, decision });
    });
  }
  return hits;
}

function isLiteral(pattern: string): boolean {
  return parseGlob(pattern).every((t) => t.kind === "literal");
}
