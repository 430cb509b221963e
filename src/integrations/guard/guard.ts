import type { Decider, DeciderRequest } from "../../client/decider.ts";
import type { RequestMetadata } from "../../model/types.ts";
import { createApprovalFlow } from "../approval-flow.ts";
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
  /**
   * When a call needs approval, wait up to this many milliseconds for an
   * approver's answer: approved → the call is redeemed and `fn` runs; denied,
   * expired or cancelled → AuthorizationDeniedError with the task; still
   * pending → ApprovalRequiredError with the task. Default: do not wait.
   */
  readonly waitForApproval?: number | undefined;
  /** Ends a wait for approval early (the call rejects with the signal's reason). */
  readonly signal?: AbortSignal | undefined;
  /** Shown to approvers with the task requested for a call. */
  readonly justification?: FromArgs<A, string | undefined>;
  /** Request an approval task for a call that needs one (default true); false: only report the decision. */
  readonly requestApproval?: boolean | undefined;
}

/**
 * Wraps `fn` so that each call is authorized first, keeping its parameter
 * and return types (the result becomes a promise, as deciding is
 * asynchronous).
 *
 * Allowed with no approval needed → `fn` runs. Denied →
 * {@link AuthorizationDeniedError} carrying the decision. Allowed but
 * needing approval → an approval task is requested (once per distinct call:
 * the same arguments get the same task) and {@link ApprovalRequiredError}
 * carries the decision and the task; once an approver approves it, the same
 * call is redeemed and `fn` runs. With `waitForApproval: ms` the call waits
 * for the approver instead (see {@link GuardOptions.waitForApproval}). When
 * no decision can be had (the server is unreachable, the request is
 * malformed, the task cannot be requested) the decider's error is thrown.
 * In every case but an allow, `fn` never runs.
 */
export function guard<A extends unknown[], R>(decider: Decider, options: GuardOptions<A>, fn: (...args: A) => R): (...args: A) => Promise<Awaited<R>> {
  const approvals = createApprovalFlow(decider, { request: options.requestApproval });
  const wait = options.waitForApproval;
  if (wait !== undefined && !(wait >= 0)) throw new RangeError(`guard: waitForApproval must be a number of milliseconds >= 0, got ${wait}`);
  return async function guarded(this: unknown, ...args: A): Promise<Awaited<R>> {
    const request = requestOf(options, args);
    let outcome = await approvals.decide(request, { justification: valueOf(options.justification, args) });
    if (outcome.kind === "approval" && wait !== undefined) outcome = await approvals.wait(request, outcome, { timeoutMs: wait, signal: options.signal });
    if (outcome.kind === "denied") throw new AuthorizationDeniedError(outcome.decision, request, outcome.task);
    if (outcome.kind === "approval") throw new ApprovalRequiredError(outcome.decision, request, outcome.task);
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
