import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, type AuditEvent as AuditEventMessage, type AuditFilter as FilterMessage, type AuditService } from "../../../gen/agentauth/v1/audit_pb.ts";
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
  return { agents: f.agents, users: f.users, actions: f.actions, effect, tiers };
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

/** AuditService: live, filtered, resumable decisions and pages of history. */
export function auditService(ctx: ServiceContext): ServiceImpl<typeof AuditService> {
  return {
    async *subscribe(request, call) {
      const filter = toFilter(request.filter);
      const hub = ctx.hub;
      let sub;
      try {
        // Counted until the call is gone, not merely until the subscription ends.
        sub = await hub.subscribe({ filter, after: request.afterCursor, signal: call.signal });
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
        for await (const entry of sub) yield { event: entryToProto(entry, hub) };
      } catch (error) {
        throw hubError(error, "after_cursor");
      } finally {
        call.signal.removeEventListener("abort", stop);
        sub.close();
      }
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
