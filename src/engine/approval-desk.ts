import { randomUUID } from "node:crypto";
import type { ApprovalEventKind, AuditEvent } from "../audit/event.ts";
import { approverRefusal } from "../approvals/approvers.ts";
import { bindingDigest, metadataDigest } from "../approvals/binding.ts";
import { taskOf } from "../approvals/task.ts";
import {
  APPROVAL_STATUSES,
  ApprovalError,
  type ApprovalFilter,
  type ApprovalPage,
  type ApprovalPageRequest,
  type ApprovalRequestInput,
  type ApprovalTask,
  type DecideApprovalInput,
} from "../approvals/types.ts";
import type { Clock } from "../model/clock.ts";
import { normalizeRequest, type NormalizedRequest, type RequestLimits } from "../model/request.ts";
import { AuthDecision, type AuthRequest } from "../model/types.ts";
import type { CompiledPolicy } from "../policy/index.ts";
import type { ApprovalRecord } from "../state/approval-records.ts";
import { MAX_LIST_LIMIT, type StateStore } from "../state/store.ts";

/** The approval operations of an engine (see the AuthEngine methods of the same names). */
export interface ApprovalOperations {
  requestApproval(input: ApprovalRequestInput): Promise<{ decision: AuthDecision; task: ApprovalTask }>;
  decideApproval(input: DecideApprovalInput): Promise<ApprovalTask>;
  getApproval(id: string): Promise<ApprovalTask | undefined>;
  listApprovals(filter: ApprovalFilter, page: ApprovalPageRequest): Promise<ApprovalPage>;
  cancelApproval(id: string, by: string): Promise<ApprovalTask>;
}

/** What the desk needs of its engine. */
export interface ApprovalDeskHost {
  policy(): CompiledPolicy;
  readonly store: StateStore;
  readonly clock: Clock;
  readonly limits: RequestLimits;
  /** Decides (and records) a request. */
  authorize(request: AuthRequest): Promise<AuthDecision>;
  /** Records an approval event; resolves once the sinks that make decisions wait have it. */
  record(event: AuditEvent): Promise<void>;
}

/** The approval operations over the engine's store, policy and audit sinks. */
export class ApprovalDesk implements ApprovalOperations {
  readonly #host: ApprovalDeskHost;

  constructor(host: ApprovalDeskHost) {
    this.#host = host;
  }

  async requestApproval(input: ApprovalRequestInput): Promise<{ decision: AuthDecision; task: ApprovalTask }> {
    const host = this.#host;
    const max = host.limits.maxStringLength;
    const justification = text(input.justification, "justification", max);
    const idempotencyKey = text(input.idempotencyKey, "idempotency_key", max);
    const requestedBy = text(input.requestedBy, "requested_by", max);
    const callbackUrl = text(input.callbackUrl, "callback_url", max);
    const request: AuthRequest = {
      agent: input.agent,
      user: input.user,
      action: input.action,
      resource: input.resource,
      sessionId: input.sessionId,
      scope: input.scope,
      targetAgent: input.targetAgent,
      metadata: input.metadata,
    };
    const req = normalizeRequest(request, host.limits);
    const decision = await host.authorize(request);
    if (!decision.allowed) throw new ApprovalError("not_requestable", `the request is denied, not requestable: ${decision.reason}`);
    if (!decision.requiresApproval || decision.tier === "autonomous") {
      throw new ApprovalError("not_requestable", `the request needs no approval: ${decision.reason}`);
    }
    const policy = host.policy();
    const settings = policy.config.approvals;
    const now = host.clock.now();
    const digest = metadataDigest(req.metadata);
    const record: ApprovalRecord = {
      id: randomUUID(),
      status: "pending",
      agent: req.agent,
      user: req.user,
      action: req.action,
      resource: req.resource,
      scope: req.scope,
      sessionId: req.sessionId,
      metadataDigest: digest,
      binding: bindingDigest(req, digest),
      tier: decision.tier,
      approvalPolicy: decision.approvalPolicy,
      policyRevision: decision.policyRevision,
      justification,
      requestedBy: requestedBy === "" ? req.agent : requestedBy,
      idempotencyKey,
      callbackUrl,
      requestDecisionId: decision.decisionId,
      createdAt: now,
      expiresAt: now + settings.pendingTtl * 1000,
      decidedAt: 0,
      decidedBy: "",
      comment: "",
      maxUses: settings.maxUses,
      usesLeft: settings.maxUses,
      historyMs: settings.historyTtl * 1000,
    };
    const created = await host.store.approvals.create(record, settings.maxPending);
    switch (created.kind) {
      case "created":
        await this.#event("approval_requested", created.record, record.requestedBy, justification, decision.decisionId, req);
        return { decision, task: taskOf(created.record, now) };
      case "existing": {
        const existing = created.read.record;
        if (created.read.expiredNow) await this.#event("approval_expired", existing, "", "", "");
        if (existing.binding !== record.binding) {
          throw new ApprovalError("invalid", `idempotency key '${idempotencyKey}' was used for another request (approval ${existing.id})`);
        }
        return { decision, task: taskOf(existing, now) };
      }
      case "limit":
        throw new ApprovalError(
          "limit",
          `agent '${req.agent}' has ${created.pending} pending approvals for user '${req.user}'; the limit is ${settings.maxPending} (approvals.max_pending)`,
        );
    }
  }

  async decideApproval(input: DecideApprovalInput): Promise<ApprovalTask> {
    const host = this.#host;
    const max = host.limits.maxStringLength;
    const id = requiredText(input.id, "id", max);
    const approver = requiredText(input.approver, "approver", max);
    const comment = text(input.comment, "comment", max);
    if (typeof input.approve !== "boolean") throw new ApprovalError("invalid", "approve: expected true or false");
    const read = await host.store.approvals.get(id);
    if (read === undefined) throw new ApprovalError("not_found", `no approval '${id}'`);
    if (read.expiredNow) await this.#event("approval_expired", read.record, "", "", "");
    const now = host.clock.now();
    if (read.record.status !== "pending") throw terminal(taskOf(read.record, now));
    const refusal = approverRefusal(host.policy().config.approvals, read.record, approver);
    if (refusal !== undefined) throw new ApprovalError("not_allowed", refusal, taskOf(read.record, now));
    const grantTtl = host.policy().config.approvals.grantTtl;
    const to = input.approve ? "approved" : "denied";
    const changed = await host.store.approvals.transition(id, { to, at: now, by: approver, comment, expiresAt: now + grantTtl * 1000 });
    switch (changed.kind) {
      case "changed":
        await this.#event(input.approve ? "approval_approved" : "approval_denied", changed.record, approver, comment, "");
        return taskOf(changed.record, now);
      case "terminal":
        if (changed.read.expiredNow) await this.#event("approval_expired", changed.read.record, "", "", "");
        throw terminal(taskOf(changed.read.record, now));
      case "not_found":
        throw new ApprovalError("not_found", `no approval '${id}'`);
    }
  }

  async getApproval(id: string): Promise<ApprovalTask | undefined> {
    const host = this.#host;
    const read = await host.store.approvals.get(requiredText(id, "id", host.limits.maxStringLength));
    if (read === undefined) return undefined;
    if (read.expiredNow) await this.#event("approval_expired", read.record, "", "", "");
    return taskOf(read.record, host.clock.now());
  }

  async listApprovals(filter: ApprovalFilter, page: ApprovalPageRequest): Promise<ApprovalPage> {
    const host = this.#host;
    if (filter.status !== undefined && !APPROVAL_STATUSES.includes(filter.status)) {
      throw new ApprovalError("invalid", `status: '${String(filter.status)}' is not one of ${APPROVAL_STATUSES.join(", ")}`);
    }
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_LIST_LIMIT) {
      throw new ApprovalError("invalid", `limit: expected an integer from 1 to ${MAX_LIST_LIMIT}, got ${String(page.limit)}`);
    }
    let result;
    try {
      result = await host.store.approvals.list(filter, page);
    } catch (error) {
      if (error instanceof Error && error.name === "InvalidListPositionError") throw new ApprovalError("invalid", `after: ${error.message}`);
      throw error;
    }
    for (const r of result.expiredNow) await this.#event("approval_expired", r, "", "", "");
    const now = host.clock.now();
    return { tasks: result.records.map((r) => taskOf(r, now)), next: result.next };
  }

  async cancelApproval(id: string, by: string): Promise<ApprovalTask> {
    const host = this.#host;
    const max = host.limits.maxStringLength;
    const taskId = requiredText(id, "id", max);
    const who = text(by, "by", max);
    const now = host.clock.now();
    const changed = await host.store.approvals.transition(taskId, { to: "cancelled", at: now, by: who, comment: "", expiresAt: now });
    switch (changed.kind) {
      case "changed":
        await this.#event("approval_cancelled", changed.record, who, "", "");
        return taskOf(changed.record, now);
      case "terminal":
        if (changed.read.expiredNow) await this.#event("approval_expired", changed.read.record, "", "", "");
        throw terminal(taskOf(changed.read.record, now));
      case "not_found":
        throw new ApprovalError("not_found", `no approval '${taskId}'`);
    }
  }

  /** Records an approval transition of `record` (the task after it). */
  #event(kind: ApprovalEventKind, record: ApprovalRecord, by: string, comment: string, linkedDecisionId: string, req?: NormalizedRequest): Promise<void> {
    return this.#host.record(approvalEvent(this.#host.policy(), this.#host.clock.now(), kind, record, by, comment, linkedDecisionId, req));
  }
}

/** Reasons of approval events, by kind. */
const EVENT_REASON: Readonly<Record<ApprovalEventKind, (by: string) => string>> = {
  approval_requested: (by) => `Approval requested by '${by}'`,
  approval_approved: (by) => `Approval granted by '${by}'`,
  approval_denied: (by) => `Approval denied by '${by}'`,
  approval_expired: () => "Approval expired",
  approval_cancelled: (by) => `Approval cancelled by '${by}'`,
  approval_redeemed: (by) => `Approval redeemed (approved by '${by}')`,
};

/**
 * The audit event of an approval transition: the request the task binds
 * (without its metadata: the task holds only its digest, unless `req` is
 * given), a record-only decision whose id is the event's and whose reason
 * says what happened, and the task's side (`approval`).
 */
export function approvalEvent(
  policy: CompiledPolicy,
  time: number,
  kind: ApprovalEventKind,
  r: Pick<ApprovalRecord, "id" | "agent" | "user" | "action" | "resource" | "scope" | "sessionId" | "approvalPolicy"> & { readonly status: string },
  by: string,
  comment: string,
  linkedDecisionId: string,
  req?: NormalizedRequest,
  eventId: string = randomUUID(),
): AuditEvent {
  const request: NormalizedRequest = req ?? {
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    scope: r.scope,
    sessionId: r.sessionId,
    targetAgent: "",
    metadata: NO_METADATA,
  };
  const decision = new AuthDecision(false, "autonomous", EVENT_REASON[kind](by), false, r.approvalPolicy, 0, eventId, policy.revision);
  const config = policy.config;
  return {
    kind,
    approval: { taskId: r.id, status: r.status, by, comment, linkedDecisionId },
    time,
    request,
    decision,
    configName: config.metadata.name,
    configVersion: config.version,
  };
}

const NO_METADATA = Object.freeze(Object.create(null) as Record<string, unknown>);

function terminal(task: ApprovalTask): ApprovalError {
  return new ApprovalError("terminal", `approval '${task.id}' is ${task.status} and can no longer change`, task);
}

function text(value: unknown, field: string, max: number): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new ApprovalError("invalid", `${field}: expected a string`);
  if (value.length > max) throw new ApprovalError("invalid", `${field}: is ${value.length} characters long; the limit is ${max} (limits.max_string_length)`);
  if (!value.isWellFormed()) throw new ApprovalError("invalid", `${field}: is not well-formed Unicode`);
  return value;
}

function requiredText(value: unknown, field: string, max: number): string {
  const t = text(value, field, max);
  if (t === "") throw new ApprovalError("invalid", `${field}: is required`);
  return t;
}
