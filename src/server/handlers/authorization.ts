import { create } from "@bufbuild/protobuf";
import { AuthorizeBatchResultSchema, type AuthorizationService } from "../../../gen/agentauth/v1/authorization_pb.ts";
import type { ServiceImpl } from "../grpc/adapter.ts";
import { invalidArgument, isRpcError, statusMessage } from "../grpc/errors.ts";
import type { AuthDecision } from "../../model/types.ts";
import type { ServiceContext } from "./context.ts";
import { decisionFields, decisionToProto, engineError, requestableForMs } from "./convert.ts";

/** AuthorizationService: the engine over the wire; malformed requests name their field. */
export function authorizationService(ctx: ServiceContext): ServiceImpl<typeof AuthorizationService> {
  const metrics = ctx.metrics;
  // No async function: a decision that needed no I/O is answered without waiting on another promise.
  const answer = (decision: AuthDecision): { decision: ReturnType<typeof decisionFields> } => {
    metrics?.observeDecision(decision);
    // Plain fields, not a created message: the response goes to the hand-written encoder.
    return { decision: decision.requiresApproval || decision.approval !== undefined ? decisionFields(decision, requestableForMs(ctx)) : decisionFields(decision) };
  };
  const failed = (error: unknown): never => {
    throw engineError(error);
  };
  return {
    authorize(request) {
      let decision: AuthDecision | Promise<AuthDecision>;
      try {
        // The message has the request's fields ("" for absent ones): the engine reads it as it is.
        decision = ctx.engine.decide(request);
      } catch (error) {
        return Promise.reject(engineError(error));
      }
      return decision instanceof Promise ? decision.then(answer, failed) : Promise.resolve(answer(decision));
    },

    async authorizeBatch(request) {
      const n = request.requests.length;
      if (n > ctx.maxBatch) throw invalidArgument("requests", `has ${n} items; the limit is ${ctx.maxBatch} (limits.max_batch)`);
      const results = await Promise.all(
        request.requests.map(async (item, i) => {
          try {
            const decision = await ctx.engine.authorize(item);
            ctx.metrics?.observeDecision(decision);
            return create(AuthorizeBatchResultSchema, { result: { case: "decision", value: decisionToProto(decision, requestableForMs(ctx)) } });
          } catch (error) {
            const mapped = engineError(error, `requests[${i}].`);
            if (!isRpcError(mapped)) throw mapped;
            return create(AuthorizeBatchResultSchema, { result: { case: "error", value: statusMessage(mapped) } });
          }
        }),
      );
      return { results };
    },
  };
}
