import type { Decider, DeciderRequest } from "../../client/decider.ts";
import type { RequestMetadata } from "../../model/types.ts";
import { ApprovalRequiredError, AuthorizationDeniedError } from "./errors.ts";

/** A request field: fixed, or computed from the guarded call's arguments. */
export type FromArgs<A extends unknown[], T> = T | ((...args: A) => T);

/** What a guarded call is decided as. */
export interface GuardOptions<A extends unknown[]> {
  readonly agent: FromArgs<A, string>;
  /** The user the agent acts for; a function of the arguments when one guarded tool serves many users. */
  readonly user: FromArgs<A, string>;
  readonly action: FromArgs<A, string>;
  readonly resource?: FromArgs<A, string | undefined>;
  /** Fields approval and A2A conditions read by name (e.g. `amount`). */
  readonly metadata?: FromArgs<A, RequestMetadata | undefined>;
  /** The session the call belongs to. */
  readonly session?: FromArgs<A, string | undefined>;
  readonly scope?: FromArgs<A, string | undefined>;
  readonly targetAgent?: FromArgs<A, string | undefined>;
}

/**
 * Wraps `fn` so that each call is authorized first, keeping its parameter
 * and return types (the result becomes a promise, as deciding is
 * asynchronous).
 *
 * Allowed with no approval needed → `fn` runs. Denied →
 * {@link AuthorizationDeniedError} carrying the decision. Allowed but
 * needing approval → {@link ApprovalRequiredError} carrying the decision
 * (requesting the approval and waiting for it come with approvals). When no
 * decision can be had (the server is unreachable, the request is malformed)
 * the decider's error is thrown. In every case but the first, `fn` never runs.
 */
export function guard<A extends unknown[], R>(decider: Decider, options: GuardOptions<A>, fn: (...args: A) => R): (...args: A) => Promise<Awaited<R>> {
  return async function guarded(this: unknown, ...args: A): Promise<Awaited<R>> {
    const request = requestOf(options, args);
    const decision = await decider.authorize(request);
    if (!decision.allowed) throw new AuthorizationDeniedError(decision, request);
    // Approvals plug in here: request a task (decider.requestApproval), and with
    // a wait option poll it (decider.getApproval) and authorize again with its id.
    if (decision.requiresApproval) throw new ApprovalRequiredError(decision, request);
    return await fn.apply(this, args);
  };
}

function requestOf<A extends unknown[]>(o: GuardOptions<A>, args: A): DeciderRequest {
  return {
    agent: valueOf(o.agent, args)!,
    user: valueOf(o.user, args)!,
    action: valueOf(o.action, args)!,
    resource: valueOf(o.resource, args),
    metadata: valueOf(o.metadata, args),
    sessionId: valueOf(o.session, args),
    scope: valueOf(o.scope, args),
    targetAgent: valueOf(o.targetAgent, args),
  };
}

function valueOf<A extends unknown[], T>(field: FromArgs<A, T> | undefined, args: A): T | undefined {
  return typeof field === "function" ? (field as (...a: A) => T)(...args) : field;
}
