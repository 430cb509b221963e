import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { JsonObject } from "@bufbuild/protobuf";
import { ApprovalStatus, type Approval, type ApprovalService } from "../../gen/agentauth/v1/approval_pb.ts";
import { AuditEventKind } from "../../gen/agentauth/v1/audit_pb.ts";
import { Tier } from "../../gen/agentauth/v1/decision_pb.ts";
import type { ApprovalFilter, ApprovalPage, ApprovalStatus as StatusName, ApprovalTask } from "../approvals/types.ts";
import type { ApprovalEventKind } from "../audit/event.ts";
import type { AuthDecision } from "../model/types.ts";
import type { normalizeRequest } from "../model/request.ts";
import { AgentAuthError } from "./agent-auth-error.ts";
import type { DeciderRequest } from "./decider.ts";
import { decisionFromWire } from "./from-wire.ts";
import { toAgentAuthError } from "./retry.ts";
import type { RequestOptions, TypedClient } from "./typed-client.ts";

/** A request for approval: the request to approve, why, and where to report. */
export interface ApprovalRequestOptions extends DeciderRequest {
  /** Why the approval is needed, shown to approvers. */
  readonly justification?: string | undefined;
  /** The same key for the same request returns the task already created. */
  readonly idempotencyKey?: string | undefined;
  /** Who asks (ignored by a server with caller authentication: the caller is). Default: the request's agent. */
  readonly requestedBy?: string | undefined;
  /** Where the server POSTs the task on each transition (must be on its allow-list). */
  readonly callbackUrl?: string | undefined;
}

/** An approver's answer. */
export interface ApprovalDecisionInput {
  readonly id: string;
  /** True approves, false denies. */
  readonly approve: boolean;
  /**
   * The approver. A server with caller authentication uses the caller's name
   * and accepts another only from an `approvals-relay` caller; without
   * caller authentication it is required.
   */
  readonly approver?: string | undefined;
  readonly comment?: string | undefined;
}

/** Which approval transitions to watch, and where to resume. */
export interface ApprovalWatchOptions {
  readonly agents?: readonly string[];
  readonly users?: readonly string[];
  /** Only these transitions; absent or empty: all. */
  readonly kinds?: readonly ApprovalEventKind[];
  /** Resume after this cursor (the last one received); absent: from now; "0-0": the retained history first. */
  readonly afterCursor?: string;
}

/** One approval transition. */
export interface ApprovalEventRecord {
  /** Resume after it with `watch({ afterCursor })`. */
  readonly cursor: string;
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly kind: ApprovalEventKind;
  /** The task, with the status the transition left it in. */
  readonly task: ApprovalTask;
  /** The decision that redeemed it (redeemed) or demanded it; "" when unknown. */
  readonly decisionId: string;
}

/**
 * Approvals over gRPC with the engine's shapes — string statuses, ISO times —
 * failing with {@link AgentAuthError} (PERMISSION_DENIED for the four-eyes
 * rule, FAILED_PRECONDITION for a task that can no longer change, …).
 */
export interface ApprovalsClient {
  /** Creates a pending task for a request that is allowed but needs approval (FAILED_PRECONDITION otherwise). */
  request(input: ApprovalRequestOptions, options?: RequestOptions): Promise<{ decision: AuthDecision; task: ApprovalTask }>;
  /** The task; undefined when unknown. */
  get(id: string, options?: RequestOptions): Promise<ApprovalTask | undefined>;
  /** One page of tasks, oldest first; continue with `after: next` until `next` is "". */
  list(filter?: ApprovalFilter, page?: { readonly after?: string; readonly limit?: number }, options?: RequestOptions): Promise<ApprovalPage>;
  /** Approves or denies a pending task. */
  decide(input: ApprovalDecisionInput, options?: RequestOptions): Promise<ApprovalTask>;
  /** Cancels a pending task; `by` is used only by a server without caller authentication. */
  cancel(id: string, by?: string, options?: RequestOptions): Promise<ApprovalTask>;
  /** Transitions as they happen; stopping the iteration (or aborting `options.signal`) ends the call. No deadline by default. */
  watch(options?: ApprovalWatchOptions, requestOptions?: RequestOptions): AsyncIterable<ApprovalEventRecord>;
}

const STATUS_NAMES: Readonly<Record<number, StatusName>> = {
  [ApprovalStatus.PENDING]: "pending",
  [ApprovalStatus.APPROVED]: "approved",
  [ApprovalStatus.DENIED]: "denied",
  [ApprovalStatus.EXPIRED]: "expired",
  [ApprovalStatus.CANCELLED]: "cancelled",
  [ApprovalStatus.USED]: "used",
};

const STATUS_ENUMS: Readonly<Record<StatusName, ApprovalStatus>> = Object.fromEntries(Object.entries(STATUS_NAMES).map(([n, name]) => [name, Number(n)])) as Record<StatusName, ApprovalStatus>;

const KINDS: Readonly<Record<ApprovalEventKind, AuditEventKind>> = {
  approval_requested: AuditEventKind.APPROVAL_REQUESTED,
  approval_approved: AuditEventKind.APPROVAL_APPROVED,
  approval_denied: AuditEventKind.APPROVAL_DENIED,
  approval_expired: AuditEventKind.APPROVAL_EXPIRED,
  approval_cancelled: AuditEventKind.APPROVAL_CANCELLED,
  approval_redeemed: AuditEventKind.APPROVAL_REDEEMED,
};

const KIND_NAMES: Readonly<Record<number, ApprovalEventKind>> = Object.fromEntries(Object.entries(KINDS).map(([name, n]) => [n, name as ApprovalEventKind]));

function iso(t: Timestamp | undefined): string {
  return t === undefined ? "" : timestampDate(t).toISOString();
}

/** A task from the wire, as the engine reports it. */
export function approvalFromWire(a: Approval): ApprovalTask {
  return Object.freeze({
    id: a.id,
    status: STATUS_NAMES[a.status] ?? "pending",
    agent: a.agent,
    user: a.user,
    action: a.action,
    resource: a.resource,
    scope: a.scope,
    sessionId: a.sessionId,
    metadataDigest: a.metadataDigest,
    tier: a.tier === Tier.STRONG ? "strong" : "soft",
    approvalPolicy: a.approvalPolicy,
    policyRevision: a.policyRevision,
    justification: a.justification,
    requestedBy: a.requestedBy,
    idempotencyKey: a.idempotencyKey,
    callbackUrl: a.callbackUrl,
    createdAt: iso(a.createdAt),
    expiresAt: iso(a.expiresAt),
    decidedAt: iso(a.decidedAt),
    decidedBy: a.decidedBy,
    comment: a.comment,
    maxUses: a.maxUses,
    usesLeft: a.usesLeft,
    requestDecisionId: a.requestDecisionId,
  });
}

/** The plain approvals calls over the typed ones; `call` adds retries and deadlines, `check` the request's shape. */
export function approvalsClient(
  rpc: TypedClient<typeof ApprovalService>,
  call: <T>(work: (o: RequestOptions) => Promise<T>, o?: RequestOptions) => Promise<T>,
  check: (request: DeciderRequest) => ReturnType<typeof normalizeRequest>,
): ApprovalsClient {
  return {
    async request(input, o) {
      const req = check(input);
      const r = await call(
        (c) =>
          rpc.requestApproval(
            {
              request: {
                agent: req.agent,
                user: req.user,
                action: req.action,
                resource: req.resource,
                scope: req.scope,
                targetAgent: req.targetAgent,
                sessionId: req.sessionId,
                metadata: req.metadata as JsonObject,
              },
              justification: input.justification ?? "",
              idempotencyKey: input.idempotencyKey ?? "",
              requestedBy: input.requestedBy ?? "",
              callbackUrl: input.callbackUrl ?? "",
            },
            c,
          ),
        o,
      );
      return { decision: decisionFromWire(r.decision), task: approvalFromWire(r.approval!) };
    },
    async get(id, o) {
      try {
        const r = await call((c) => rpc.getApproval({ id }, c), o);
        return approvalFromWire(r.approval!);
      } catch (error) {
        if (error instanceof AgentAuthError && error.code === "NOT_FOUND") return undefined;
        throw error;
      }
    },
    async list(filter = {}, page = {}, o) {
      const r = await call(
        (c) =>
          rpc.listApprovals(
            {
              status: filter.status === undefined ? ApprovalStatus.UNSPECIFIED : STATUS_ENUMS[filter.status],
              agent: filter.agent ?? "",
              user: filter.user ?? "",
              pageSize: page.limit ?? 0,
              pageToken: page.after ?? "",
            },
            c,
          ),
        o,
      );
      return { tasks: r.approvals.map(approvalFromWire), next: r.nextPageToken };
    },
    async decide(input, o) {
      const r = await call((c) => rpc.decideApproval({ id: input.id, approve: input.approve, approver: input.approver ?? "", comment: input.comment ?? "" }, c), o);
      return approvalFromWire(r.approval!);
    },
    async cancel(id, by, o) {
      const r = await call((c) => rpc.cancelApproval({ id, cancelledBy: by ?? "" }, c), o);
      return approvalFromWire(r.approval!);
    },
    watch(w = {}, o = {}) {
      const stream = rpc.watchApprovals(
        { filter: { agents: [...(w.agents ?? [])], users: [...(w.users ?? [])], kinds: (w.kinds ?? []).map((k) => KINDS[k]) }, afterCursor: w.afterCursor ?? "" },
        { deadlineMs: Infinity, ...o },
      );
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const r of stream) {
              const kind = KIND_NAMES[r.kind];
              if (kind === undefined || r.approval === undefined) continue;
              yield Object.freeze({ cursor: r.cursor, time: iso(r.time), kind, task: approvalFromWire(r.approval), decisionId: r.decisionId });
            }
          } catch (error) {
            throw toAgentAuthError(error);
          }
        },
      };
    },
  };
}
