import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuditEventKind, AuditEventSchema, type AuditEvent as AuditEventMessage, type AuditFilter as FilterMessage, type AuditService } from "../../../gen/agentauth/v1/audit_pb.ts";
import type { AuditKind } from "../../audit/event.ts";
import type { CallContext } from "../grpc/adapter.ts";
import { Effect, Tier } from "../../../gen/agentauth/v1/decision_pb.ts";
import {
  isAuditHistoryResetError,
  isCursorExpiredError,
  isCursorOutOfRangeError,
  isInvalidCursorError,
  isSubscriberOverflowError,
  isTooManySubscribersError,
} from "../../audit/errors.ts";
import type { AuditFilter } from "../../audit/filter.ts";
import type { AuditEntry, AuditHub, QueryPage } from "../../audit/hub.ts";
import type { ServiceImpl } from "../grpc/adapter.ts";
import { invalidArgument, outOfRange, resourceExhausted, unavailable } from "../grpc/errors.ts";
import type { ServiceContext } from "./context.ts";
import { decisionToProto } from "./convert.ts";

const TIER_NAMES: Readonly<Record<number, string>> = { [Tier.AUTONOMOUS]: "autonomous", [Tier.SOFT]: "soft", [Tier.STRONG]: "strong" };

/** Audit record kinds by wire enum (UNSPECIFIED reads as a decision). */
export const KIND_NAMES: Readonly<Record<number, AuditKind>> = {
  [AuditEventKind.UNSPECIFIED]: "decision",
  [AuditEventKind.DECISION]: "decision",
  [AuditEventKind.APPROVAL_REQUESTED]: "approval_requested",
  [AuditEventKind.APPROVAL_APPROVED]: "approval_approved",
  [AuditEventKind.APPROVAL_DENIED]: "approval_denied",
  [AuditEventKind.APPROVAL_EXPIRED]: "approval_expired",
  [AuditEventKind.APPROVAL_CANCELLED]: "approval_cancelled",
  [AuditEventKind.APPROVAL_REDEEMED]: "approval_redeemed",
};

/** The wire enum of each audit record kind. */
export const KIND_ENUMS: Readonly<Record<AuditKind, AuditEventKind>> = {
  decision: AuditEventKind.DECISION,
  approval_requested: AuditEventKind.APPROVAL_REQUESTED,
  approval_approved: AuditEventKind.APPROVAL_APPROVED,
  approval_denied: AuditEventKind.APPROVAL_DENIED,
  approval_expired: AuditEventKind.APPROVAL_EXPIRED,
  approval_cancelled: AuditEventKind.APPROVAL_CANCELLED,
  approval_redeemed: AuditEventKind.APPROVAL_REDEEMED,
};

/** Wire kinds as record kinds; an unknown value is INVALID_ARGUMENT naming `field`. */
export function kindsFilter(kinds: readonly AuditEventKind[], field: string): AuditKind[] {
  return kinds.map((k, i) => {
    const name = KIND_NAMES[k];
    if (name === undefined) throw invalidArgument(`${field}[${i}]`, `unknown kind ${k}`);
    return name;
  });
}

/** A wire filter as a hub filter; unknown enum values are INVALID_ARGUMENT. */
function toFilter(f: FilterMessage | undefined): AuditFilter {
  if (f === undefined) return {};
  let effect: AuditFilter["effect"];
  if (f.effect === Effect.ALLOW) effect = "allow";
  else if (f.effect === Effect.DENY) effect = "deny";
  else if (f.effect !== Effect.UNSPECIFIED) throw invalidArgument("filter.effect", `unknown effect ${f.effect}`);
  const tiers = f.tiers.map((t, i) => {
    const name = TIER_NAMES[t];
    if (name === undefined) throw invalidArgument(`filter.tiers[${i}]`, `unknown tier ${t}`);
    return name;
  });
  return { agents: f.agents, users: f.users, actions: f.actions, effect, tiers, kinds: kindsFilter(f.kinds, "filter.kinds") };
}

/** An audit entry on the wire, its cursor with the hub's epoch. */
export function entryToProto(entry: AuditEntry, hub: AuditHub): AuditEventMessage {
  const { request: r, decision } = entry.event;
  return create(AuditEventSchema, {
    cursor: hub.cursorText(entry.cursor),
    time: timestampFromMs(entry.event.time),
    decisionId: decision.decisionId,
    agent: r.agent,
    user: r.user,
    action: r.action,
    resource: r.resource,
    scope: r.scope,
    targetAgent: r.targetAgent,
    sessionId: r.sessionId,
    decision: decisionToProto(decision),
    configName: entry.event.configName,
    configVersion: entry.event.configVersion,
    ...(entry.event.metadata === undefined ? {} : { metadata: entry.event.metadata as JsonObject }),
    kind: entry.event.kind === undefined ? AuditEventKind.DECISION : KIND_ENUMS[entry.event.kind],
    approvalId: entry.event.approval?.taskId ?? decision.approvalId ?? "",
  });
}

function ms(t: Timestamp | undefined): number | undefined {
  return t === undefined ? undefined : timestampDate(t).getTime();
}

/** Hub errors as gRPC errors a client can act on; `field` names the request's cursor field. */
function hubError(error: unknown, field: "after_cursor" | "page_token"): unknown {
  if (isSubscriberOverflowError(error)) {
    return resourceExhausted(error.message, { reason: "SUBSCRIBER_TOO_SLOW", metadata: { last_cursor: error.lastCursor } });
  }
  if (isCursorExpiredError(error)) return outOfRange(error.message, { reason: "CURSOR_EXPIRED", metadata: { cursor: error.cursor, oldest_cursor: error.oldest } });
  if (isCursorOutOfRangeError(error)) {
    return outOfRange(error.message, { reason: error.reason === "epoch" ? "CURSOR_EPOCH" : "CURSOR_AHEAD", metadata: { cursor: error.cursor, head_cursor: error.head } });
  }
  if (isAuditHistoryResetError(error)) return unavailable(error.message);
  if (isInvalidCursorError(error)) return invalidArgument(field, error.message);
  if (isTooManySubscribersError(error)) return resourceExhausted(error.message, { reason: "TOO_MANY_SUBSCRIBERS", metadata: { limit: String(error.limit) } });
  return error;
}

/**
 * The hub's entries for one streaming call: from `after` (or now), ended with
 * the hub's error as a status the client can act on (also while a write
 * waits for a client that does not read), closed when the call goes.
 */
export async function* subscribeEntries(ctx: ServiceContext, filter: AuditFilter, after: string, call: CallContext): AsyncGenerator<AuditEntry> {
  const hub = ctx.hub;
  let sub;
  try {
    // Counted until the call is gone, not merely until the subscription ends.
    sub = await hub.subscribe({ filter, after, signal: call.signal });
  } catch (error) {
    throw hubError(error, "after_cursor");
  }
  // Announced even while a write waits for a client that does not read:
  // the call ends at once (its status, else a reset), not when it next reads.
  sub.onEnd((error) => {
    if (isSubscriberOverflowError(error)) ctx.metrics?.subscriberOverflows.inc();
    call.endStream?.(error === undefined ? undefined : hubError(error, "after_cursor"));
  });
  const stop = (): void => sub.close();
  call.signal.addEventListener("abort", stop, { once: true });
  try {
    yield* sub;
  } catch (error) {
    throw hubError(error, "after_cursor");
  } finally {
    call.signal.removeEventListener("abort", stop);
    sub.close();
  }
}

/** AuditService: live, filtered, resumable decisions and pages of history. */
export function auditService(ctx: ServiceContext): ServiceImpl<typeof AuditService> {
  return {
    async *subscribe(request, call) {
      const hub = ctx.hub;
      for await (const entry of subscribeEntries(ctx, toFilter(request.filter), request.afterCursor, call)) yield { event: entryToProto(entry, hub) };
    },

    async query(request) {
      const filter = toFilter(request.filter);
      if (request.pageSize < 0 || request.pageSize > 1000) throw invalidArgument("page_size", `must be between 0 and 1000, got ${request.pageSize}`);
      const limit = request.pageSize === 0 ? 100 : request.pageSize;
      const hub = ctx.hub;
      let page: QueryPage;
      try {
        page = await hub.query({ filter, after: request.pageToken, since: ms(request.since), until: ms(request.until), limit, newestFirst: request.newestFirst });
      } catch (error) {
        throw hubError(error, "page_token");
      }
      return { events: page.entries.map((e) => entryToProto(e, hub)), nextPageToken: page.next === "" ? "" : hub.cursorText(page.next) };
    },
  };
}
