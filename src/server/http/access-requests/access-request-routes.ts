/**
 * The OpenID AuthZEN Access Request and Approval Profile over agent-auth's
 * approvals (docs/approvals.md, "AuthZEN HTTP binding", names the profile
 * commit implemented):
 *
 * - an evaluation allowed only with an approval is a requestable deny:
 *   `decision: false` with `context.access_request` {endpoint, expires_at,
 *   binding_token} and `context.evaluation_id`;
 * - `POST /access/v1/requests` with that binding token creates the approval
 *   task (`201`, idempotent by `Idempotency-Key`);
 * - `GET /access/v1/requests/{id}` reads it, `POST` or `DELETE`
 *   `/access/v1/requests/{id}/cancel` cancels it;
 * - a re-evaluation with `context.approval.id` redeems it (to-auth-request.ts);
 * - `GET /.well-known/jwks.json` publishes the token signing key.
 *
 * Errors are `application/problem+json` with the profile's problem types.
 * Callers need the `approvals` group, as for the gRPC ApprovalService.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from "fastify";
import { isApprovalError, type ApprovalTask } from "../../../approvals/index.ts";
import type { AuthEngine } from "../../../engine/auth-engine.ts";
import type { AuthDecision } from "../../../model/types.ts";
import type { Logger } from "../../logger.ts";
import type { ServerMetrics } from "../../metrics.ts";
import type { RpcGroup } from "../../server-config.ts";
import type { AuthZenMetadata } from "../authzen/discovery-route.ts";
import type { DecisionContextExtension } from "../authzen/decision-response.ts";
import { asHttpError } from "../authzen/evaluate.ts";
import { EVALUATION_REQUEST, type AuthZenEvaluation } from "../authzen/schemas.ts";
import { httpOrigin } from "../authzen/services.ts";
import { authRequestOf, toAuthRequest } from "../authzen/to-auth-request.ts";
import { HttpError, schemaProblemMessage } from "../errors.ts";
import type { HttpRouteGroup } from "../route-group.ts";
import type { SigningKey } from "../signing-key.ts";
import { bindingMismatch, BindingTokens } from "./binding-token.ts";
import { AccessRequestProblem, problemErrorHandler } from "./problems.ts";
import { taskAnswer } from "./task-answer.ts";

/** The access-request endpoint (tasks are below it). */
export const ACCESS_REQUEST_PATH = "/access/v1/requests";
/** The JWK Set of the keys that sign binding tokens. */
export const JWKS_PATH = "/.well-known/jwks.json";
/** The capability discovery lists for this profile. */
export const ACCESS_REQUEST_CAPABILITY = "urn:openid:authzen:capability:access-request";

/** What the access-request routes add to the AuthZEN discovery document. */
export const ACCESS_REQUEST_METADATA: AuthZenMetadata = Object.freeze({
  endpoints: Object.freeze({ access_request_endpoint: ACCESS_REQUEST_PATH, jwks_uri: JWKS_PATH }),
  capabilities: Object.freeze([ACCESS_REQUEST_CAPABILITY]),
});

/** The submission's `context` member that carries the requester's justification (not part of the bound request). */
export const JUSTIFICATION_MEMBER = "business_justification";

/** Options for {@link accessRequests}. */
export interface AccessRequestOptions {
  readonly engine: AuthEngine;
  readonly key: SigningKey;
  /** The configured `http.policy_decision_point`, used as the tokens' issuer; undefined: `urn:agent-auth:pdp`. */
  readonly policyDecisionPoint: string | undefined;
  /** The PDP's base URL as the client of a request reaches it. */
  readonly baseUrl: (request: FastifyRequest) => string;
  readonly callerHooks: (group: RpcGroup) => onRequestHookHandler[];
  /** Which callback URLs a submission may give (`approvals.callback_allow`); undefined: none. */
  readonly callbacks: { refusal(url: string): string | undefined } | undefined;
  readonly metrics?: ServerMetrics | undefined;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
}

/** The access-request profile: its route group, the decision context it adds, its discovery metadata. */
export interface AccessRequests {
  readonly routes: HttpRouteGroup;
  /** Adds `access_request` to requestable denies and `approval` to decisions that presented one. */
  readonly contextExtension: DecisionContextExtension;
  readonly metadata: AuthZenMetadata;
}

interface Submission {
  readonly subject?: unknown;
  readonly action?: unknown;
  readonly resource?: unknown;
  readonly context?: Record<string, unknown>;
  readonly items?: unknown;
  readonly denial?: { readonly binding_token?: unknown; readonly expires_at?: unknown };
  readonly callback?: { readonly endpoint?: unknown };
}

const OBJECT = { type: "object" } as const;
const SUBMISSION = {
  type: "object",
  properties: { subject: OBJECT, action: OBJECT, resource: OBJECT, context: OBJECT, denial: OBJECT, callback: OBJECT, requested_access: OBJECT, client: OBJECT },
} as const;

type Validate = ((value: unknown) => boolean) & { errors?: unknown };

/** The access-request profile over `o.engine`'s approvals, with tokens signed by `o.key`. */
export function accessRequests(o: AccessRequestOptions): AccessRequests {
  const issuer = o.policyDecisionPoint ?? "urn:agent-auth:pdp";
  const tokens = new BindingTokens({
    key: o.key,
    issuer,
    audience: o.policyDecisionPoint === undefined ? "urn:agent-auth:access-request" : issuer + ACCESS_REQUEST_PATH,
    limits: o.engine.limits,
    now: () => o.engine.clock.now(),
  });
  const engine = o.engine;

  const contextExtension: DecisionContextExtension = (d, evaluation, info) => {
    const presented = d.approval === undefined ? undefined : approvalContext(d);
    if (!(d.allowed && d.requiresApproval && d.tier !== "autonomous")) return presented;
    // As long as a task requested now would wait for an answer; whole seconds, as the token's exp.
    const expiresAt = Math.floor((engine.clock.now() + engine.policy.config.approvals.pendingTtl * 1000) / 1000) * 1000;
    const request = authRequestOf(evaluation);
    return tokens.issue(d, request, expiresAt).then((token) => ({
      ...presented,
      evaluation_id: d.decisionId,
      access_request: { endpoint: info.baseUrl + ACCESS_REQUEST_PATH, expires_at: rfc3339(expiresAt), binding_token: token },
    }));
  };

  const register = (scope: FastifyInstance): void => {
    scope.setErrorHandler(problemErrorHandler(o.logger, o.maxBodyBytes));
    const hooks = o.callerHooks("approvals");
    const statusEndpoint = (request: FastifyRequest, id: string): string => `${o.baseUrl(request)}${ACCESS_REQUEST_PATH}/${encodeURIComponent(id)}`;
    const answer = (request: FastifyRequest, t: ApprovalTask) => taskAnswer(t, statusEndpoint(request, t.id));

    scope.get(JWKS_PATH, (_request, reply) => reply.header("cache-control", "max-age=60").send({ keys: [o.key.publicJwk] }));

    scope.post(ACCESS_REQUEST_PATH, { schema: { body: SUBMISSION }, onRequest: hooks }, async (request, reply) => {
      const body = request.body as Submission;
      if (body.items !== undefined) throw new HttpError(400, "items: bundled access requests are not supported; submit one request per denied evaluation");
      const denial = body.denial;
      if (denial === undefined) throw new AccessRequestProblem("invalid_denial_binding", "denial: is required, with the binding_token and expires_at of the denied evaluation's context.access_request");
      if (typeof denial.binding_token !== "string" || denial.binding_token === "") {
        throw new AccessRequestProblem("invalid_denial_binding", "denial.binding_token: is required (agent-auth binds an access request by the binding token of its denial)");
      }
      if (typeof denial.expires_at !== "string") throw new AccessRequestProblem("invalid_denial_binding", "denial.expires_at: is required, echoed from context.access_request.expires_at");
      const claims = await tokens.verify(denial.binding_token);
      if (Date.parse(denial.expires_at) !== Number(claims.exp) * 1000) {
        throw new AccessRequestProblem("invalid_denial_binding", "denial.expires_at: is not the expires_at of the denial the binding token was issued with");
      }

      // The justification is the task's, and an approval the denied evaluation presented is profile machinery: neither is bound.
      const { [JUSTIFICATION_MEMBER]: justification, approval: _presented, ...context } = body.context ?? {};
      if (justification !== undefined && typeof justification !== "string") throw new HttpError(400, `context.${JUSTIFICATION_MEMBER}: must be a string`);
      const evaluation = { subject: body.subject, action: body.action, resource: body.resource, ...(body.context === undefined ? {} : { context }) };
      const validate = request.compileValidationSchema(EVALUATION_REQUEST) as Validate;
      if (!validate(evaluation)) throw new HttpError(400, schemaProblemMessage((validate.errors as Parameters<typeof schemaProblemMessage>[0][])[0]!));
      const mapped = toAuthRequest(evaluation as AuthZenEvaluation);
      let mismatch: string | undefined;
      try {
        mismatch = bindingMismatch(claims, mapped.request, engine.limits);
      } catch (error) {
        throw asHttpError(error, mapped.sources);
      }
      if (mismatch !== undefined) throw new AccessRequestProblem("invalid_denial_binding", `the submitted request differs from the denied one in ${mismatch}`);
      if (claims.policy_revision !== engine.revision) {
        throw new AccessRequestProblem("invalid_denial_binding", `the policy changed since the denial (revision ${claims.policy_revision}, now ${engine.revision}); evaluate the request again`);
      }

      const callbackUrl = body.callback?.endpoint;
      if (callbackUrl !== undefined) {
        if (typeof callbackUrl !== "string") throw new HttpError(400, "callback.endpoint: must be a string");
        const refusal = o.callbacks === undefined ? "the server accepts no callbacks (no approvals.callback_allow in its config)" : o.callbacks.refusal(callbackUrl);
        if (refusal !== undefined) throw new HttpError(400, `callback.endpoint: ${refusal}`);
      }
      const clientKey = idempotencyKeyOf(request);
      // Without a client key, the token's jti is the key: one binding token creates at most one task (replay).
      const idempotencyKey = clientKey ?? `binding-token:${String(claims.jti)}`;
      let decision: AuthDecision;
      let task: ApprovalTask;
      try {
        ({ decision, task } = await engine.requestApproval({
          ...mapped.request,
          ...(justification === undefined ? {} : { justification }),
          idempotencyKey,
          ...(request.callerName === undefined ? {} : { requestedBy: request.callerName }),
          ...(callbackUrl === undefined ? {} : { callbackUrl }),
        }));
      } catch (error) {
        throw submissionError(error, mapped.sources);
      }
      o.metrics?.observeDecision(decision);
      // The engine returns the task already created for this key when the request is the same; the rest of the body must be too.
      if (task.justification !== (justification ?? "") || task.callbackUrl !== (callbackUrl ?? "")) {
        const reused = clientKey === undefined ? "this binding token was used" : `Idempotency-Key '${clientKey}' was used`;
        throw new AccessRequestProblem("duplicate_request", `${reused} for task ${task.id} with a different justification or callback`);
      }
      const out = answer(request, task);
      return reply.code(201).header("location", out.task.status_endpoint).send(out);
    });

    scope.get(`${ACCESS_REQUEST_PATH}/:id`, { onRequest: hooks }, async (request) => {
      const t = await taskOf((request.params as { id: string }).id);
      if (t.status === "expired") throw new AccessRequestProblem("task_expired", `task ${t.id} expired at ${rfc3339(Date.parse(t.expiresAt))}`);
      return answer(request, t);
    });

    const cancel = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const t = await taskOf((request.params as { id: string }).id);
      try {
        const cancelled = await engine.cancelApproval(t.id, request.callerName ?? t.requestedBy);
        return reply.send(answer(request, cancelled));
      } catch (error) {
        if (isApprovalError(error) && error.code === "terminal") throw new AccessRequestProblem("invalid_task_state", `task ${t.id} is ${error.task?.status ?? "finished"}; only a pending task can be cancelled`);
        if (isApprovalError(error) && error.code === "not_found") throw new AccessRequestProblem("unknown_task", `no task ${t.id}`);
        throw error;
      }
    };
    scope.post(`${ACCESS_REQUEST_PATH}/:id/cancel`, { onRequest: hooks }, cancel);
    scope.delete(`${ACCESS_REQUEST_PATH}/:id/cancel`, { onRequest: hooks }, cancel);
  };

  const taskOf = async (id: string): Promise<ApprovalTask> => {
    const t = id.length > engine.limits.maxStringLength ? undefined : await engine.getApproval(id);
    if (t === undefined) throw new AccessRequestProblem("unknown_task", `no task ${id.length > 200 ? `${id.slice(0, 200)}…` : id} (unknown, or its history has expired)`);
    return t;
  };

  return { routes: { name: "access-requests", register }, contextExtension, metadata: ACCESS_REQUEST_METADATA };
}

/** `context.approval` of a decision that presented one: its id, who approved it, or why it could not be used. */
function approvalContext(d: AuthDecision): Record<string, unknown> {
  const a = d.approval!;
  return {
    approval: {
      id: a.approvalId,
      ...(a.approvedBy === "" ? {} : { approved_by: a.approvedBy }),
      ...(a.approvalStatus === "" ? {} : { status: a.approvalStatus }),
    },
  };
}

/** The `Idempotency-Key` header (a plain token, or an RFC 8941 string in quotes); undefined when absent. */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers["idempotency-key"];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw)) throw new HttpError(400, "Idempotency-Key: give it once");
  const key = /^"(.*)"$/.exec(raw.trim())?.[1] ?? raw.trim();
  if (key === "") throw new HttpError(400, "Idempotency-Key: is empty");
  return key;
}

/** What a refused RequestApproval answers. */
function submissionError(error: unknown, sources: ReadonlyMap<string, string>): unknown {
  if (!isApprovalError(error)) return asHttpError(error, sources);
  switch (error.code) {
    case "not_requestable":
      return new AccessRequestProblem("not_requestable", error.message);
    case "invalid":
      return /^idempotency key .* was used for another request/.test(error.message) ? new AccessRequestProblem("duplicate_request", error.message.replace(/^idempotency key 'binding-token:[^']*'/, "this binding token")) : new HttpError(400, error.message);
    case "limit":
      return new HttpError(429, error.message);
    default:
      return new HttpError(400, error.message);
  }
}

/** ms since the epoch as an RFC 3339 UTC time in whole seconds. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
