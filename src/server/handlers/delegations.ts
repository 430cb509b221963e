import type { DelegationService } from "../../../gen/agentauth/v1/delegation_pb.ts";
import type { ServiceImpl } from "../grpc/adapter.ts";
import { notFound } from "../grpc/errors.ts";
import type { ServiceContext } from "./context.ts";
import { delegationToProto, durationSeconds, engineError, nextPageToken, page } from "./convert.ts";

/** DelegationService over the engine; rule violations are FAILED_PRECONDITION with the original's messages. */
export function delegationService(ctx: ServiceContext): ServiceImpl<typeof DelegationService> {
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw engineError(error);
    }
  };
  return {
    createDelegation: (r) =>
      guard(async () => {
        const grant = await ctx.engine.createDelegation({
          fromUser: r.fromUser,
          toAgent: r.toAgent,
          actions: r.actions,
          duration: durationSeconds(r.durationSeconds, "duration_seconds"),
          reason: r.reason,
        });
        return { delegation: delegationToProto(grant) };
      }),

    listDelegations: (r) =>
      guard(async () => {
        const p = await ctx.engine.listDelegationsPage({ agent: r.agent, user: r.user, includeRevoked: r.includeRevoked }, page(r.pageSize, r.pageToken));
        return { delegations: p.items.map(delegationToProto), nextPageToken: nextPageToken(p.next) };
      }),

    revokeDelegation: (r) =>
      guard(async () => {
        const outcome = await ctx.engine.revokeDelegation(r.delegationId);
        if (outcome.status === "not_found") throw notFound(`delegation '${r.delegationId}'`);
        return { delegation: delegationToProto(outcome.record), alreadyRevoked: outcome.status === "already_revoked" };
      }),
  };
}
