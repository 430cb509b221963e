import { fnmatch } from "../policy/fnmatch.ts";
import type { ApprovalRedemption, ApprovalUse } from "./approval-records.ts";
import type { DelegationRecord, SessionRecord } from "./store.ts";

/** What the state-dependent part of a decision needs to know. */
export interface OutcomeQuery {
  /** "" when the request names no session. */
  readonly sessionId: string;
  readonly agent: string;
  readonly user: string;
  /** The request's scope ("" for none), checked against the session's scope pattern. */
  readonly scope: string;
  readonly action: string;
  /** Whether a delegation could still allow the action (the profile did not). */
  readonly delegations: boolean;
  /** A session with a scope demands one of the request (`sessions.require_scope`). Default false. */
  readonly requireScope?: boolean | undefined;
  /** The approval the request presented, redeemed in the same read when the decision may use it. */
  readonly approval?: ApprovalRedemption | undefined;
}

/**
 * The state-dependent part of a decision: the session check's result and, when
 * asked, the first grant covering the action. Both backends compute exactly
 * this — the memory store in TypeScript, the Redis store in one Lua call.
 */
export type StateOutcome = SessionOutcome & {
  /** What became of the presented approval; absent when none was presented. */
  readonly approval?: ApprovalUse | undefined;
};

/** The session check's result and the grant, without the approval part. */
export type SessionOutcome =
  | { readonly kind: "session_invalid" }
  | { readonly kind: "agent_mismatch"; readonly expected: string }
  | { readonly kind: "user_mismatch"; readonly expected: string }
  | { readonly kind: "scope_outside"; readonly pattern: string }
  | { readonly kind: "scope_required"; readonly pattern: string }
  | { readonly kind: "ok"; readonly grant: { readonly id: string; readonly fromUser: string } | undefined };

/** The outcomes that carry no detail, shared by every store. */
export const OK_NO_GRANT: StateOutcome = Object.freeze({ kind: "ok", grant: undefined });
export const SESSION_INVALID: StateOutcome = Object.freeze({ kind: "session_invalid" });

/** The state an outcome is computed from. */
export interface DecisionState {
  /** The named session if it exists and has not expired (it may be revoked). */
  readonly session: SessionRecord | undefined;
  /** Grants from `user` to `agent`, oldest first (expired and revoked ones are skipped). */
  readonly delegations: readonly DelegationRecord[];
}

/** Computes the outcome from fetched state at time `now`. */
export function resolveOutcome(state: DecisionState, q: OutcomeQuery, now: number): StateOutcome {
  if (q.sessionId !== "") {
    const s = state.session;
    if (s === undefined || s.revokedAt !== undefined || now >= s.expiresAt) return SESSION_INVALID;
    if (s.agent !== q.agent) return { kind: "agent_mismatch", expected: s.agent };
    if (s.user !== "" && s.user !== q.user) return { kind: "user_mismatch", expected: s.user };
    if (s.scope !== "") {
      if (q.scope !== "") {
        if (!fnmatch(q.scope, s.scope)) return { kind: "scope_outside", pattern: s.scope };
      } else if (q.requireScope === true) return { kind: "scope_required", pattern: s.scope };
    }
  }
  if (!q.delegations) return OK_NO_GRANT;
  for (const d of state.delegations) {
    if (d.revokedAt !== undefined || now >= d.expiresAt) continue;
    if (d.toAgent !== q.agent || d.fromUser !== q.user) continue;
    for (const pattern of d.actions) {
      if (fnmatch(q.action, pattern)) return { kind: "ok", grant: { id: d.id, fromUser: d.fromUser } };
    }
  }
  return OK_NO_GRANT;
}
