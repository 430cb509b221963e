import type { SessionService } from "../../../gen/agentauth/v1/session_pb.ts";
import type { ServiceImpl } from "../grpc/adapter.ts";
import { notFound } from "../grpc/errors.ts";
import type { ServiceContext } from "./context.ts";
import { durationSeconds, engineError, nextPageToken, page, sessionToProto } from "./convert.ts";

/** SessionService over the engine's store. */
export function sessionService(ctx: ServiceContext): ServiceImpl<typeof SessionService> {
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw engineError(error);
    }
  };
  return {
    createSession: (r) =>
      guard(async () => {
        const session = await ctx.engine.createSession({
          agent: r.agent,
          user: r.user,
          scope: r.scope,
          duration: durationSeconds(r.durationSeconds, "duration_seconds"),
        });
        return { session: sessionToProto(session) };
      }),

    getSession: (r) =>
      guard(async () => {
        const session = await ctx.engine.getSession(r.sessionId);
        if (session === undefined) throw notFound(`session '${r.sessionId}'`);
        return { session: sessionToProto(session) };
      }),

    listSessions: (r) =>
      guard(async () => {
        const p = await ctx.engine.listSessionsPage({ agent: r.agent, user: r.user, includeRevoked: r.includeRevoked }, page(r.pageSize, r.pageToken));
        return { sessions: p.items.map(sessionToProto), nextPageToken: nextPageToken(p.next) };
      }),

    revokeSession: (r) =>
      guard(async () => {
        const outcome = await ctx.engine.revokeSession(r.sessionId);
        if (outcome.status === "not_found") throw notFound(`session '${r.sessionId}'`);
        return { session: sessionToProto(outcome.record), alreadyRevoked: outcome.status === "already_revoked" };
      }),
  };
}
