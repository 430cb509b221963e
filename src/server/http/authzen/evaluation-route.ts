import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuthDecision } from "../../../model/types.ts";
import { decisionResponse } from "./decision-response.ts";
import { evaluate } from "./evaluate.ts";
import { DECISION_RESPONSE, EVALUATION_REQUEST, type AuthZenEvaluation } from "./schemas.ts";
import { decisionRequestInfo, httpOrigin, type AuthZenServices } from "./services.ts";

/** Default path of the Access Evaluation API. */
export const EVALUATION_PATH = "/access/v1/evaluation";

/**
 * `POST /access/v1/evaluation`: one decision. A deny is `200 {"decision":
 * false}`; only a request that cannot be decided is an error (400 naming the
 * member). Recorded exactly like Authorize, with transport, request id and
 * caller.
 */
export function registerEvaluation(scope: FastifyInstance, s: AuthZenServices): void {
  scope.post(
    EVALUATION_PATH,
    { schema: { body: EVALUATION_REQUEST, response: { 200: DECISION_RESPONSE } }, onRequest: s.callerHooks("authorize") },
    (request, reply) => {
      const evaluation = request.body as AuthZenEvaluation;
      // No async function: a decision that needed no I/O is answered without waiting on a promise.
      const decision = evaluate(s.engine, evaluation, httpOrigin(request));
      if (decision instanceof Promise) return decision.then((d) => sendDecision(s, d, evaluation, request, reply));
      return sendDecision(s, decision, evaluation, request, reply);
    },
  );
}

/** Sends the AuthZEN answer of a decision (once the context extensions have theirs). */
function sendDecision(s: AuthZenServices, d: AuthDecision, evaluation: AuthZenEvaluation, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
  s.metrics?.observeDecision(d);
  const answer = decisionResponse(d, evaluation, s.contextExtensions, decisionRequestInfo(request, s.baseUrl));
  return answer instanceof Promise ? answer.then((a) => reply.send(a)) : reply.send(answer);
}
