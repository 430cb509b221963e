import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ApprovalUseStatus, DecisionSchema, Effect, Tier, type Decision } from "../../../gen/agentauth/v1/decision_pb.ts";
import { SessionStatus, type Session as SessionMessage, SessionSchema } from "../../../gen/agentauth/v1/session_pb.ts";
import { DelegationStatus, type Delegation as DelegationMessage, DelegationSchema } from "../../../gen/agentauth/v1/delegation_pb.ts";
import type { AuthDecision, DelegationGrant, Session } from "../../model/types.ts";
import type { AuthEngine } from "../../engine/auth-engine.ts";
import { isDelegationValidationError, isInvalidRequestError, isStateUnavailableError } from "../../model/errors.ts";
import { isInvalidListPositionError } from "../../state/store.ts";
import { isApprovalError, type ApprovalErrorCode } from "../../approvals/types.ts";
import { failedPrecondition, invalidArgument, RpcError, unavailable } from "../grpc/errors.ts";
import { status } from "@grpc/grpc-js";

const TIERS: Readonly<Record<string, Tier>> = { autonomous: Tier.AUTONOMOUS, soft: Tier.SOFT, strong: Tier.STRONG };

/** A tier name as the wire enum. */
export function tierToProto(tier: string): Tier {
  return TIERS[tier] ?? Tier.UNSPECIFIED;
}

/** The approval fields of a wire decision; absent from a decision that involves no approval. */
type ApprovalFields = "approvalId" | "approvedBy" | "approvalStatus" | "approvalRequestable" | "requestableUntil";

/** A wire decision as plain fields (what the Authorize encoder takes). */
export type DecisionFields = Omit<Decision, "$typeName" | "evaluationTime" | ApprovalFields> & { evaluationTime: { seconds: bigint; nanos: number } } & Partial<Pick<Decision, ApprovalFields>>;

const USE_STATUS: Readonly<Record<string, ApprovalUseStatus>> = {
  "": ApprovalUseStatus.REDEEMED,
  unknown: ApprovalUseStatus.UNKNOWN,
  pending: ApprovalUseStatus.PENDING,
  denied: ApprovalUseStatus.DENIED,
  expired: ApprovalUseStatus.EXPIRED,
  cancelled: ApprovalUseStatus.CANCELLED,
  used: ApprovalUseStatus.USED,
  mismatch: ApprovalUseStatus.MISMATCH,
};

/**
 * Every field of the wire decision as a plain object. A denial carries
 * TIER_AUTONOMOUS, as the library, the audit log, the CLI and the metrics say.
 * `requestableForMs` (the policy's approvals.pending_ttl) dates
 * `requestable_until` on a decision that needs approval; the approval fields
 * are only added to decisions that involve an approval.
 */
export function decisionFields(d: AuthDecision, requestableForMs?: number): DecisionFields {
  const ms = d.evaluationTimeMs;
  const seconds = Math.floor(ms / 1000);
  const fields = plainDecisionFields(d, ms, seconds);
  return d.requiresApproval || d.approval !== undefined ? withApprovalFields(fields, d, requestableForMs) : fields;
}

/** How long a task requested now would wait for an answer: the policy's approvals.pending_ttl, in ms. */
export function requestableForMs(ctx: { readonly engine: AuthEngine }): number {
  return ctx.engine.policy.config.approvals.pendingTtl * 1000;
}

function withApprovalFields(fields: DecisionFields, d: AuthDecision, requestableForMs: number | undefined): DecisionFields {
  const a = d.approval;
  const requestable = d.allowed && d.requiresApproval;
  return {
    ...fields,
    ...(a === undefined ? {} : { approvalId: a.approvalId, approvedBy: a.approvedBy, approvalStatus: USE_STATUS[a.approvalStatus] ?? ApprovalUseStatus.UNKNOWN }),
    ...(requestable ? { approvalRequestable: true } : {}),
    ...(requestable && requestableForMs !== undefined ? { requestableUntil: timestampFromMs(Date.now() + requestableForMs) } : {}),
  };
}

function plainDecisionFields(d: AuthDecision, ms: number, seconds: number): DecisionFields {
  return {
    effect: d.allowed ? Effect.ALLOW : Effect.DENY,
    tier: tierToProto(d.tier),
    requiresApproval: d.requiresApproval,
    approvalPolicy: d.approvalPolicy,
    reason: d.reason,
    decisionId: d.decisionId,
    policyRevision: d.policyRevision,
    evaluationTime: { seconds: seconds === 0 ? 0n : BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) },
  };
}

/** The wire decision as a protobuf message. */
export function decisionToProto(d: AuthDecision, requestableForMs?: number): Decision {
  return create(DecisionSchema, decisionFields(d, requestableForMs));
}

export function timestamp(iso: string): Timestamp {
  return timestampFromMs(Date.parse(iso));
}

const SESSION_STATUS = { active: SessionStatus.ACTIVE, expired: SessionStatus.EXPIRED, revoked: SessionStatus.REVOKED } as const;
const DELEGATION_STATUS = { active: DelegationStatus.ACTIVE, expired: DelegationStatus.EXPIRED, revoked: DelegationStatus.REVOKED } as const;

export function sessionToProto(s: Session): SessionMessage {
  return create(SessionSchema, {
    sessionId: s.sessionId,
    agent: s.agent,
    user: s.user,
    scope: s.scope,
    createdAt: timestamp(s.createdAt),
    expiresAt: timestamp(s.expiresAt),
    status: SESSION_STATUS[s.status],
  });
}

export function delegationToProto(d: DelegationGrant): DelegationMessage {
  return create(DelegationSchema, {
    delegationId: d.delegationId,
    fromUser: d.fromUser,
    toAgent: d.toAgent,
    actions: [...d.actions],
    grantedAt: timestamp(d.grantedAt),
    expiresAt: timestamp(d.expiresAt),
    reason: d.reason,
    status: DELEGATION_STATUS[d.status],
  });
}

/** An optional int64 duration as seconds, or a field violation. */
export function durationSeconds(value: bigint | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (value < 1n || value > 3_153_600_000n) throw invalidArgument(field, `must be between 1 and 3153600000 seconds, got ${value}`);
  return Number(value);
}

/** Engine errors as gRPC errors: bad input, refused delegations, an unreachable store. */
export function engineError(error: unknown, fieldPrefix = ""): unknown {
  if (isInvalidRequestError(error)) return invalidArgument(fieldPrefix + error.field, error.problem);
  if (isDelegationValidationError(error)) return failedPrecondition(error.message);
  if (isStateUnavailableError(error)) return unavailable(error.message);
  if (isInvalidListPositionError(error)) return invalidArgument("page_token", "is not a token returned by this service");
  if (isApprovalError(error)) return new RpcError(APPROVAL_ERROR_CODES[error.code], error.message, [], { reason: `APPROVAL_${error.code.toUpperCase()}` });
  return error;
}

/** The gRPC status of each approval error: the four-eyes rule and approver patterns refuse with PERMISSION_DENIED. */
const APPROVAL_ERROR_CODES: Readonly<Record<ApprovalErrorCode, status>> = {
  not_found: status.NOT_FOUND,
  not_allowed: status.PERMISSION_DENIED,
  terminal: status.FAILED_PRECONDITION,
  not_requestable: status.FAILED_PRECONDITION,
  invalid: status.INVALID_ARGUMENT,
  limit: status.RESOURCE_EXHAUSTED,
};

const NOT_A_TOKEN = "is not a token returned by this service";

/** The listing request of page_size / page_token: where to continue, how many at most. */
export function page(pageSize: number, pageToken: string): { after: string; limit: number } {
  if (pageSize < 0 || pageSize > 1000) throw invalidArgument("page_size", `must be between 0 and 1000, got ${pageSize}`);
  let after = "";
  if (pageToken !== "") {
    const text = Buffer.from(pageToken, "base64url").toString("utf8");
    if (!text.startsWith("p1:")) throw invalidArgument("page_token", NOT_A_TOKEN);
    after = text.slice(3);
  }
  return { after, limit: pageSize === 0 ? 100 : pageSize };
}

/** The page token for a listing's `next` ("" stays "": the listing is complete). */
export function nextPageToken(next: string): string {
  return next === "" ? "" : Buffer.from(`p1:${next}`, "utf8").toString("base64url");
}
