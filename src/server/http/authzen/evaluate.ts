import type { AuthEngine } from "../../../engine/auth-engine.ts";
import { isInvalidRequestError } from "../../../model/errors.ts";
import type { DecisionOrigin } from "../../../model/origin.ts";
import type { AuthDecision } from "../../../model/types.ts";
import { badRequest } from "../errors.ts";
import type { AuthZenEvaluation } from "./schemas.ts";
import { memberOf, toAuthRequest } from "./to-auth-request.ts";

/**
 * Decides one complete evaluation with the engine — the same decision, the
 * same audit record as Authorize, plus the request's origin. Answers as soon
 * as the engine does (the decision itself when it needed no I/O). Throws
 * HttpError 400 naming the member for a request that cannot be decided.
 */
export function evaluate(engine: AuthEngine, evaluation: AuthZenEvaluation, origin: DecisionOrigin): AuthDecision | Promise<AuthDecision> {
  const mapped = toAuthRequest(evaluation);
  try {
    const decision = engine.decide(mapped.request, origin);
    return decision instanceof Promise ? decision.catch((error: unknown) => Promise.reject(asHttpError(error, mapped.sources))) : decision;
  } catch (error) {
    throw asHttpError(error, mapped.sources);
  }
}

/** An engine's InvalidRequestError as a 400 naming the AuthZEN member; anything else as it is. */
export function asHttpError(error: unknown, sources: ReadonlyMap<string, string>): unknown {
  return isInvalidRequestError(error) ? badRequest(memberOf(error.field, sources), error.problem) : error;
}
