import type { AuthEngine } from "../../../engine/auth-engine.ts";
import { isInvalidRequestError } from "../../../model/errors.ts";
import type { DecisionOrigin } from "../../../model/origin.ts";
import type { AuthDecision } from "../../../model/types.ts";
import { badRequest } from "../errors.ts";
import type { AuthZenEvaluation } from "./schemas.ts";
import { authRequestOf, memberOf, toAuthRequest } from "./to-auth-request.ts";

/**
 * Decides one complete evaluation with the engine — the same decision, the
 * same audit record as Authorize, plus the request's origin. Answers as soon
 * as the engine does (the decision itself when it needed no I/O). Throws
 * HttpError 400 naming the member for a request that cannot be decided.
 */
export function evaluate(engine: AuthEngine, evaluation: AuthZenEvaluation, origin: DecisionOrigin): AuthDecision | Promise<AuthDecision> {
  // Which member each field came from is only needed to name a problem: worked out again then, not noted for every request.
  const request = authRequestOf(evaluation);
  try {
    const decision = engine.decide(request, origin);
    return decision instanceof Promise ? decision.catch((error: unknown) => Promise.reject(evaluationError(error, evaluation))) : decision;
  } catch (error) {
    throw evaluationError(error, evaluation);
  }
}

/** An engine error of `evaluation`, named by the members of the evaluation. */
function evaluationError(error: unknown, evaluation: AuthZenEvaluation): unknown {
  return isInvalidRequestError(error) ? asHttpError(error, toAuthRequest(evaluation).sources) : error;
}

/** An engine's InvalidRequestError as a 400 naming the AuthZEN member; anything else as it is. */
export function asHttpError(error: unknown, sources: ReadonlyMap<string, string>): unknown {
  return isInvalidRequestError(error) ? badRequest(memberOf(error.field, sources), error.problem) : error;
}
