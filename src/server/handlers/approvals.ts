import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ApprovalSchema, ApprovalStatus, type Approval, type ApprovalService } from "../../../gen/agentauth/v1/approval_pb.ts";
import { AuditEventKind } from "../../../gen/agentauth/v1/audit_pb.ts";
import type { AuthorizeRequest } from "../../../gen/agentauth/v1/authorization_pb.ts";
import type { ApprovalStatus as StatusName, ApprovalTask } from "../../approvals/types.ts";
import { APPROVAL_EVENT_KINDS, type AuditEvent } from "../../audit/event.ts";
import type { AuthRequest } from "../../model/types.ts";
import { chooseApprover } from "../approver-identity.ts";
import type { CallerConfig } from "../server-config.ts";
import type { CallContext, ServiceImpl } from "../grpc/adapter.ts";
import { invalidArgument, notFound, permissionDenied } from "../grpc/errors.ts";
import { KIND_ENUMS, kindsFilter, subscribeEntries } from "./audit.ts";
import type { ServiceContext } from "./context.ts";
import { decisionToProto, engineError, nextPageToken, page, requestableForMs, tierToProto, timestamp } from "./convert.ts";

const STATUS_ENUMS: Readonly<Record<StatusName, ApprovalStatus>> = {
  pending: ApprovalStatus.PENDING,
  approved: ApprovalStatus.APPROVED,
  denied: ApprovalStatus.DENIED,
  expired: ApprovalStatus.EXPIRED,
  cancelled: ApprovalStatus.CANCELLED,
  used: ApprovalStatus.USED,
};

const STATUS_NAMES: Readonly<Record<number, StatusName>> = Object.fromEntries(Object.entries(STATUS_ENUMS).map(([name, n]) => [n, name as StatusName]));

/** An ISO time as a wire timestamp; "" (not yet) as absent. */
function optionalTimestamp(iso: string): ReturnType<typeof timestamp> | undefined {
  return iso === "" ? undefined : timestamp(iso);
}

/** An approval task on the wire. */
export function approvalToProto(t: ApprovalTask): Approval {
  return create(ApprovalSchema, {
    id: t.id,
    status: STATUS_ENUMS[t.status],
    agent: t.agent,
    user: t.user,
    action: t.action,
    resource: t.resource,
    scope: t.scope,
    sessionId: t.sessionId,
    metadataDigest: t.metadataDigest,
    tier: tierToProto(t.tier),
    approvalPolicy: t.approvalPolicy,
    policyRevision: t.policyRevision,
    justification: t.justification,
    requestedBy: t.requestedBy,
    idempotencyKey: t.idempotencyKey,
    callbackUrl: t.callbackUrl,
    createdAt: optionalTimestamp(t.createdAt),
    expiresAt: optionalTimestamp(t.expiresAt),
    decidedAt: optionalTimestamp(t.decidedAt),
    decidedBy: t.decidedBy,
    comment: t.comment,
    maxUses: t.maxUses,
    usesLeft: t.usesLeft,
    requestDecisionId: t.requestDecisionId,
  });
}

/**
 * What the transition of an approval event left: the task as read now with
 * the status the event recorded, or — when the task's history is gone — what
 * the event itself says.
 */
function transitionTask(event: AuditEvent, task: ApprovalTask | undefined): Approval {
  const detail = event.approval!;
  const status = detail.status as StatusName;
  if (task !== undefined) return approvalToProto({ ...task, status: STATUS_ENUMS[status] === undefined ? task.status : status });
  const r = event.request;
  return create(ApprovalSchema, {
    id: detail.taskId,
    status: STATUS_ENUMS[status] ?? ApprovalStatus.UNSPECIFIED,
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    scope: r.scope,
    sessionId: r.sessionId,
    decidedBy: detail.by,
    comment: detail.comment,
  });
}

/** The request of a RequestApproval call as the engine takes it. */
function authRequestOf(r: AuthorizeRequest | undefined): AuthRequest {
  if (r === undefined) throw invalidArgument("request", "is required");
  if (r.approvalId !== "") throw invalidArgument("request.approval_id", "must be empty: an approval is requested for the request itself");
  return {
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    scope: r.scope,
    targetAgent: r.targetAgent,
    sessionId: r.sessionId,
    ...(r.metadata === undefined ? {} : { metadata: r.metadata as JsonObject }),
  };
}

/**
 * The authenticated caller of a call, or undefined when the server has no
 * caller authentication (the call got past the caller hook, so credentials
 * that identify nobody mean there is no check).
 */
function callerOf(ctx: ServiceContext, call: CallContext): CallerConfig | undefined {
  const check = ctx.callerCheck;
  if (check === undefined) return undefined;
  const who = check.identify({ authorization: call.metadata.get("authorization").map(String), peerCertificate: call.peerCertificate });
  // The caller hook refused the call already when nobody was identified.
  if (!("caller" in who)) throw permissionDenied(`caller not identified: ${who.reason}`);
  return who.caller;
}

/**
 * Who decides: the caller itself (group `approve`), or — for a caller with
 * `approvals-relay` — the approver it names. Without caller authentication
 * the named approver is taken as given.
 */
function approverOf(caller: CallerConfig | undefined, named: string): string {
  const choice = chooseApprover(caller, named);
  if ("approver" in choice) return choice.approver;
  // The message starts with the field it is about when the field is missing.
  if (choice.refusal === "invalid") throw invalidArgument("approver", choice.message.replace(/^approver: /, ""));
  throw permissionDenied(choice.message);
}

/**
 * Who cancels a task: its requester, or a caller with `approvals-relay`
 * (which may name who it cancels for); anyone else is refused. Without caller
 * authentication the named canceller (default: the requester) is taken as
 * given.
 */
function cancellerOf(caller: CallerConfig | undefined, t: ApprovalTask, named: string): string {
  if (caller === undefined) return named !== "" ? named : t.requestedBy;
  if (caller.groups.has("approvals-relay")) return named !== "" ? named : caller.name;
  if (caller.name === t.requestedBy) return caller.name;
  throw permissionDenied(
    `caller '${caller.name}' may not cancel approval '${t.id}': only its requester '${t.requestedBy}' or a caller with the 'approvals-relay' group may cancel it`,
  );
}

/** ApprovalService over the engine: callers' identities decide who requests, approves and cancels. */
export function approvalService(ctx: ServiceContext): ServiceImpl<typeof ApprovalService> {
  const guard = async <T>(work: () => Promise<T>, fieldPrefix = ""): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw engineError(error, fieldPrefix);
    }
  };
  const task = async (id: string): Promise<ApprovalTask> => {
    if (id === "") throw invalidArgument("id", "is required");
    const t = await ctx.engine.getApproval(id);
    if (t === undefined) throw notFound(`approval '${id}'`);
    return t;
  };
  return {
    requestApproval: (r, call) =>
      guard(async () => {
        const request = authRequestOf(r.request);
        if (r.callbackUrl !== "") {
          const problem = ctx.callbacks === undefined ? "the server accepts no callbacks (no approvals.callback_allow in its config)" : ctx.callbacks.refusal(r.callbackUrl);
          if (problem !== undefined) throw invalidArgument("callback_url", problem);
        }
        const caller = callerOf(ctx, call);
        const requestedBy = caller?.name ?? r.requestedBy;
        const { decision, task: t } = await ctx.engine.requestApproval({
          ...request,
          ...(r.justification === "" ? {} : { justification: r.justification }),
          ...(r.idempotencyKey === "" ? {} : { idempotencyKey: r.idempotencyKey }),
          ...(requestedBy === "" ? {} : { requestedBy }),
          ...(r.callbackUrl === "" ? {} : { callbackUrl: r.callbackUrl }),
        });
        ctx.metrics?.observeDecision(decision);
        return { decision: decisionToProto(decision, requestableForMs(ctx)), approval: approvalToProto(t) };
      }, "request."),

    getApproval: (r) => guard(async () => ({ approval: approvalToProto(await task(r.id)) })),

    listApprovals: (r) =>
      guard(async () => {
        const status = r.status === ApprovalStatus.UNSPECIFIED ? undefined : STATUS_NAMES[r.status];
        if (r.status !== ApprovalStatus.UNSPECIFIED && status === undefined) throw invalidArgument("status", `unknown status ${r.status}`);
        const p = page(r.pageSize, r.pageToken);
        const listed = await ctx.engine.listApprovals(
          { ...(status === undefined ? {} : { status }), ...(r.agent === "" ? {} : { agent: r.agent }), ...(r.user === "" ? {} : { user: r.user }) },
          p,
        );
        return { approvals: listed.tasks.map(approvalToProto), nextPageToken: nextPageToken(listed.next) };
      }),

    decideApproval: (r, call) =>
      guard(async () => {
        if (r.id === "") throw invalidArgument("id", "is required");
        const approver = approverOf(callerOf(ctx, call), r.approver);
        const t = await ctx.engine.decideApproval({ id: r.id, approve: r.approve, approver, ...(r.comment === "" ? {} : { comment: r.comment }) });
        return { approval: approvalToProto(t) };
      }),

    cancelApproval: (r, call) =>
      guard(async () => {
        if (r.id === "") throw invalidArgument("id", "is required");
        const by = cancellerOf(callerOf(ctx, call), await task(r.id), r.cancelledBy);
        return { approval: approvalToProto(await ctx.engine.cancelApproval(r.id, by)) };
      }),

    async *watchApprovals(r, call) {
      const kinds = kindsFilter(r.filter?.kinds ?? [], "filter.kinds");
      kinds.forEach((k, i) => {
        if (k === "decision") throw invalidArgument(`filter.kinds[${i}]`, "must be an approval kind (AUDIT_EVENT_KIND_APPROVAL_*)");
      });
      const filter = { agents: r.filter?.agents ?? [], users: r.filter?.users ?? [], kinds: kinds.length > 0 ? kinds : APPROVAL_EVENT_KINDS };
      for await (const entry of subscribeEntries(ctx, filter, r.afterCursor, call)) {
        const event = entry.event;
        if (event.kind === undefined || event.approval === undefined) continue;
        let t: ApprovalTask | undefined;
        try {
          t = await ctx.engine.getApproval(event.approval.taskId);
        } catch {
          // The event alone still says what happened.
          t = undefined;
        }
        yield {
          cursor: ctx.hub.cursorText(entry.cursor),
          time: timestampFromMs(event.time),
          kind: KIND_ENUMS[event.kind] ?? AuditEventKind.UNSPECIFIED,
          approval: transitionTask(event, t),
          decisionId: event.approval.linkedDecisionId,
        };
      }
    },
  };
}

