import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema, type AuditEvent as AuditEventMessage, type AuditFilter as FilterMessage, type AuditService } from "../../../gen/agentauth/v1/audit_pb.ts";
import { Effect, Tier } from "../../../gen/agentauth/v1/decision_pb.ts";
import { isCursorExpiredError, isInvalidCursorError, isSubscriberOverflowError, isTooManySubscribersError } from "../../audit/errors.ts";
import type { AuditFilter } from "../../audit/filter.ts";
import type { AuditEntry } from "../../audit/hub.ts";
import type { ServiceImpl } from "../grpc/adapter.ts";
import { invalidArgument, outOfRange, resourceExhausted } from "../grpc/errors.ts";
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

/** An audit entry on the wire. */
export function entryToProto(entry: AuditEntry): AuditEventMessage {
  const { request: r, decision } = entry.event;
  return create(AuditEventSchema, {
    cursor: entry.cursor,
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

/** Hub errors as gRPC errors a client can act on. */
function streamError(error: unknown, ctx?: ServiceContext): unknown {
  if (isSubscriberOverflowError(error)) {
    ctx?.metrics?.subscriberOverflows.inc();
    return resourceExhausted(error.message, { reason: "SUBSCRIBER_TOO_SLOW", metadata: { last_cursor: error.lastCursor } });
  }
  if (isCursorExpiredError(error)) return outOfRange(error.message, { reason: "CURSOR_EXPIRED", metadata: { cursor: error.cursor, oldest_cursor: error.oldest } });
  if (isInvalidCursorError(error)) return invalidArgument("after_cursor", error.message);
  if (isTooManySubscribersError(error)) return resourceExhausted(error.message, { reason: "TOO_MANY_SUBSCRIBERS", metadata: { limit: String(error.limit) } });
  return error;
}

/** AuditService: live, filtered, resumable decisions and pages of history. */
export function auditService(ctx: ServiceContext): ServiceImpl<typeof AuditService> {
  return {
    async *subscribe(request, call) {
      const filter = toFilter(request.filter);
      let sub;
      try {
        sub = await ctx.hub.subscribe({ filter, after: request.afterCursor });
      } catch (error) {
        throw streamError(error);
      }
      const stop = (): void => sub.close();
      call.signal.addEventListener("abort", stop, { once: true });
      try {
        for await (const entry of sub) yield { event: entryToProto(entry) };
      } catch (error) {
        throw streamError(error, ctx);
      } finally {
        call.signal.removeEventListener("abort", stop);
        sub.close();
      }
    },

    async query(request) {
      const filter = toFilter(request.filter);
      if (request.pageSize < 0 || request.pageSize > 1000) throw invalidArgument("page_size", `must be between 0 and 1000, got ${request.pageSize}`);
      const limit = request.pageSize === 0 ? 100 : request.pageSize;
      let entries: AuditEntry[];
      try {
        entries = await ctx.hub.query({ filter, after: request.pageToken, since: ms(request.since), until: ms(request.until), limit: limit + 1, newestFirst: request.newestFirst });
      } catch (error) {
        if (isInvalidCursorError(error)) throw invalidArgument("page_token", error.message);
        throw error;
      }
      const more = entries.length > limit;
      const shown = more ? entries.slice(0, limit) : entries;
      return { events: shown.map(entryToProto), nextPageToken: more ? (shown[shown.length - 1]?.cursor ?? "") : "" };
    },
  };
}
