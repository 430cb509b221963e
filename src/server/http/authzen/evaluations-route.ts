import type { FastifyInstance } from "fastify";
import type { DecisionOrigin } from "../../../model/origin.ts";
import type { AuthDecision } from "../../../model/types.ts";
import { HttpError, isHttpError, schemaProblemMessage } from "../errors.ts";
import { decisionResponse, itemError, type AuthZenDecision, type DecisionRequestInfo } from "./decision-response.ts";
import { evaluate } from "./evaluate.ts";
import { EVALUATION_REQUEST, EVALUATIONS_REQUEST, type AuthZenEvaluation, type EvaluationsSemantic } from "./schemas.ts";
import { decisionRequestInfo, httpOrigin, type AuthZenServices } from "./services.ts";

/** Default path of the Access Evaluations API. */
export const EVALUATIONS_PATH = "/access/v1/evaluations";

interface EvaluationsBody {
  readonly subject?: unknown;
  readonly action?: unknown;
  readonly resource?: unknown;
  readonly context?: unknown;
  readonly evaluations?: readonly unknown[];
  readonly options?: { readonly evaluations_semantic?: EvaluationsSemantic };
}

type Validate = ((value: unknown) => boolean) & { errors?: unknown };

/**
 * `POST /access/v1/evaluations`: a batch. The top-level subject, action,
 * resource and context are defaults; an item's own member replaces the whole
 * entity. Each merged item is checked like an Access Evaluation request; one
 * that fails is that item's `decision: false` with `context.error` (the batch
 * stays 200 and keeps its length). `deny_on_first_deny` and
 * `permit_on_first_permit` evaluate in order and stop after the first deny
 * (or item error) / permit: later items are neither evaluated nor recorded.
 * Without items it answers as the Access Evaluation API does.
 */
export function registerEvaluations(scope: FastifyInstance, s: AuthZenServices): void {
  scope.post(EVALUATIONS_PATH, { schema: { body: EVALUATIONS_REQUEST }, onRequest: s.callerHooks("authorize") }, async (request) => {
    const body = request.body as EvaluationsBody;
    const validate = request.compileValidationSchema(EVALUATION_REQUEST) as Validate;
    const origin = httpOrigin(request);
    const items = body.evaluations;
    if (items === undefined || items.length === 0) {
      const single = { subject: body.subject, action: body.action, resource: body.resource, context: body.context };
      if (!validate(single)) throw new HttpError(400, problemOf(validate));
      const d = await evaluate(s.engine, single as AuthZenEvaluation, origin);
      s.metrics?.observeDecision(d);
      return decisionResponse(d, single as AuthZenEvaluation, s.contextExtensions, decisionRequestInfo(request, s.baseUrl));
    }
    if (items.length > s.maxBatch) throw new HttpError(400, `evaluations: has ${items.length} items; the limit is ${s.maxBatch} (limits.max_batch)`);
    const info = decisionRequestInfo(request, s.baseUrl);
    const one = (item: unknown): Promise<AuthZenDecision> => evaluateItem(s, validate, body, item, origin, info);
    const semantic = body.options?.evaluations_semantic ?? "execute_all";
    const evaluations: AuthZenDecision[] = [];
    if (semantic === "execute_all") {
      evaluations.push(...(await Promise.all(items.map(one))));
    } else {
      const stopAt = semantic === "deny_on_first_deny" ? false : true;
      for (const item of items) {
        const result = await one(item);
        evaluations.push(result);
        if (result.decision === stopAt) break;
      }
    }
    return { evaluations };
  });
}

/** One item merged with the defaults, checked, decided; any problem is the item's closed answer. */
async function evaluateItem(s: AuthZenServices, validate: Validate, defaults: EvaluationsBody, item: unknown, origin: DecisionOrigin, info: DecisionRequestInfo): Promise<AuthZenDecision> {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return itemError(400, "evaluation: must be a JSON object");
  const own = item as EvaluationsBody;
  const merged = {
    subject: own.subject ?? defaults.subject,
    action: own.action ?? defaults.action,
    resource: own.resource ?? defaults.resource,
    context: own.context ?? defaults.context,
  };
  if (!validate(merged)) return itemError(400, problemOf(validate));
  let d: AuthDecision;
  try {
    d = await evaluate(s.engine, merged as AuthZenEvaluation, origin);
  } catch (error) {
    if (isHttpError(error)) return itemError(error.status, error.message);
    throw error;
  }
  s.metrics?.observeDecision(d);
  return decisionResponse(d, merged as AuthZenEvaluation, s.contextExtensions, info);
}

function problemOf(validate: Validate): string {
  const [first] = (validate.errors ?? []) as Parameters<typeof schemaProblemMessage>[0][];
  return first === undefined ? "request body: is not a valid evaluation" : schemaProblemMessage(first);
}
