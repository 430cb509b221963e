import { createHash } from "node:crypto";
import { canonicalJson } from "../approvals/binding.ts";
import { waitForApproval, type ApprovalTicket, type Decider, type DeciderDecision, type DeciderRequest } from "../client/decider.ts";

/**
 * What became of a request, approvals included: `allowed` (outright, or by
 * redeeming an approval), `denied` (by the policy, or by an approver: then
 * `task` is the denied task), or `approval` (a human must approve it first:
 * `task` is the pending task requested for it, absent when none was).
 */
export type ApprovalOutcome =
  | { readonly kind: "allowed"; readonly decision: DeciderDecision }
  | { readonly kind: "denied"; readonly decision: DeciderDecision; readonly task?: ApprovalTicket | undefined }
  | { readonly kind: "approval"; readonly decision: DeciderDecision; readonly task?: ApprovalTicket | undefined };

/** How the integrations handle decisions that need approval. */
export interface ApprovalFlowOptions {
  /** Request a task for a decision that needs approval (default true); false: report the decision alone. */
  readonly request?: boolean | undefined;
  /** Requests whose last task is remembered (the oldest is forgotten first). Default 1000. */
  readonly remember?: number | undefined;
}

/**
 * The approval handling every integration shares. It remembers, per exact
 * request (agent, user, action, resource, scope, session, target agent,
 * metadata), the task it last saw for it, and presents that task when the
 * same request comes again, so that a call approved meanwhile goes through.
 */
export interface ApprovalFlow {
  /**
   * Decides `request`, presenting `presented` (an approval id the caller
   * carries) or else the task remembered for it. When the decision still
   * needs approval: a presented task that is pending is reported as it is;
   * one that was denied makes the outcome `denied`; otherwise (none, or one
   * expired, used, cancelled or bound to another request) a task is
   * requested, idempotently: the same request asked twice, in this process
   * or another, gets the same task.
   */
  decide(
    request: DeciderRequest,
    options?: {
      readonly presented?: string | undefined;
      readonly justification?: string | undefined;
      /**
       * Sees a failure to request the task (e.g. a caller without the right
       * to request approvals); the outcome is then `approval` without a task.
       * Without it the failure rejects the call.
       */
      readonly onRequestError?: ((error: unknown) => void) | undefined;
    },
  ): Promise<ApprovalOutcome>;
  /**
   * Waits up to `timeoutMs` for an approver to answer the pending task of an
   * `approval` outcome, then redeems it: `allowed` once redeemed, `denied`
   * (with the task) when it was denied, expired or cancelled, `approval` when
   * it is still pending.
   */
  wait(request: DeciderRequest, outcome: ApprovalOutcome, options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined }): Promise<ApprovalOutcome>;
}

/** Past answered tasks of one request followed through idempotency keys before asking without one. */
const MAX_KEY_CHAIN = 16;

/** Approval handling over `decider` for one integration instance. */
export function createApprovalFlow(decider: Decider, options: ApprovalFlowOptions = {}): ApprovalFlow {
  const capacity = Math.max(1, options.remember ?? 1000);
  const remembered = new Map<string, string>();
  const remember = (key: string, id: string): void => {
    remembered.delete(key);
    remembered.set(key, id);
    if (remembered.size > capacity) remembered.delete(remembered.keys().next().value!);
  };
  const forget = (key: string, id: string): void => {
    if (remembered.get(key) === id) remembered.delete(key);
  };
  const ticket = async (id: string, status: ApprovalTicket["status"]): Promise<ApprovalTicket> => (await decider.getApproval?.(id)) ?? { id, status };

  /** Requests a task, following the chain of idempotency keys past tasks already answered. */
  const requestTask = async (request: DeciderRequest, key: string, after: string, decision: DeciderDecision, justification: string | undefined): Promise<ApprovalOutcome> => {
    const ask = decider.requestApproval!.bind(decider);
    const base = { ...request, approvalId: undefined, ...(justification === undefined ? {} : { justification }) };
    for (let step = 0; step <= MAX_KEY_CHAIN; step++) {
      const { task } = await ask(step === MAX_KEY_CHAIN ? base : { ...base, idempotencyKey: idempotencyKey(key, after) });
      if (task.status === "pending") {
        remember(key, task.id);
        // The request's own decision: it says what became of an approval it presented.
        return { kind: "approval", decision, task };
      }
      if (task.status === "approved") {
        const redeemed = await decider.authorize({ ...request, approvalId: task.id });
        if (redeemed.allowed && !redeemed.requiresApproval) {
          remember(key, task.id);
          return { kind: "allowed", decision: redeemed };
        }
        if (!redeemed.allowed) return { kind: "denied", decision: redeemed };
      }
      after = task.id;
    }
    return { kind: "approval", decision };
  };

  const flow: ApprovalFlow = {
    async decide(request, o = {}) {
      const key = shapeKey(request);
      const presented = o.presented || remembered.get(key);
      const decision = await decider.authorize(presented === undefined ? request : { ...request, approvalId: presented });
      if (!decision.allowed) return { kind: "denied", decision };
      if (!decision.requiresApproval) return { kind: "allowed", decision };
      if (presented !== undefined) {
        if (decision.approvalStatus === "pending") {
          remember(key, presented);
          return { kind: "approval", decision, task: await ticket(presented, "pending") };
        }
        forget(key, presented);
        if (decision.approvalStatus === "denied") return { kind: "denied", decision, task: await ticket(presented, "denied") };
      }
      if (options.request === false || decider.requestApproval === undefined) return { kind: "approval", decision };
      if (o.onRequestError === undefined) return requestTask(request, key, presented ?? "", decision, o.justification);
      try {
        return await requestTask(request, key, presented ?? "", decision, o.justification);
      } catch (error) {
        o.onRequestError(error);
        return { kind: "approval", decision };
      }
    },

    async wait(request, outcome, o) {
      const pending = outcome.kind === "approval" ? outcome.task : undefined;
      if (pending === undefined || pending.status !== "pending") return outcome;
      const task = await waitForApproval(decider, pending.id, o);
      if (task === undefined) return { kind: "denied", decision: outcome.decision, task: { ...pending, status: "expired" } };
      if (task.status === "pending") return { kind: "approval", decision: outcome.decision, task };
      if (task.status !== "approved") {
        forget(shapeKey(request), task.id);
        return { kind: "denied", decision: outcome.decision, task };
      }
      return flow.decide(request, { presented: task.id });
    },
  };
  return flow;
}

/** A digest of every field an approval binds, to know the same request again. */
function shapeKey(r: DeciderRequest): string {
  const fields = [r.agent, r.user, r.action, r.resource ?? "", r.scope ?? "", r.sessionId ?? "", r.targetAgent ?? "", r.metadata ?? {}];
  return createHash("sha256").update(canonicalJson(fields), "utf8").digest("hex");
}

/** The idempotency key of the task asked for this request after `after` (an answered task's id, "" for the first). */
function idempotencyKey(key: string, after: string): string {
  return `agent-auth-integration:${createHash("sha256").update(`${key}\n${after}`, "utf8").digest("hex")}`;
}
