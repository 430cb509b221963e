/**
 * JSON schemas of the AuthZEN Authorization API 1.0 requests agent-auth
 * serves, as Fastify validates them (no coercion, unknown members ignored).
 * They fix shapes only; what the members mean for agent-auth is
 * to-auth-request.ts.
 */

const OBJECT = { type: "object" } as const;

/** Subject or Resource: `type` and `id` strings, optional `properties`. */
const ENTITY = {
  type: "object",
  required: ["type", "id"],
  properties: { type: { type: "string" }, id: { type: "string" }, properties: OBJECT },
} as const;

const ACTION = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string" }, properties: OBJECT },
} as const;

/** An entity given as a default for a batch: typed members, none required (the merged item must be complete). */
const PARTIAL_ENTITY = { type: "object", properties: ENTITY.properties } as const;
const PARTIAL_ACTION = { type: "object", properties: ACTION.properties } as const;

/** The Access Evaluation request (and every merged item of a batch). */
export const EVALUATION_REQUEST = {
  type: "object",
  required: ["subject", "action", "resource"],
  properties: { subject: ENTITY, action: ACTION, resource: ENTITY, context: OBJECT },
} as const;

/** The evaluations semantics of AuthZEN 1.0 §7.1.2.1. */
export const EVALUATIONS_SEMANTICS = ["execute_all", "deny_on_first_deny", "permit_on_first_permit"] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

/** The Access Evaluations request: defaults at the top, items checked one by one after merging. */
export const EVALUATIONS_REQUEST = {
  type: "object",
  properties: {
    subject: PARTIAL_ENTITY,
    action: PARTIAL_ACTION,
    resource: PARTIAL_ENTITY,
    context: OBJECT,
    evaluations: { type: "array" },
    options: { type: "object", properties: { evaluations_semantic: { type: "string", enum: EVALUATIONS_SEMANTICS } } },
  },
} as const;

const PAGE = {
  type: "object",
  properties: { token: { type: "string" }, limit: { type: "integer", minimum: 0 }, properties: OBJECT },
} as const;

/** Subject search: the subject's `type` is what is searched for; its `id` is ignored. */
export const SUBJECT_SEARCH_REQUEST = {
  type: "object",
  required: ["subject", "action", "resource"],
  properties: {
    subject: { type: "object", required: ["type"], properties: { type: { type: "string" }, id: { type: "string" }, properties: OBJECT } },
    action: ACTION,
    resource: ENTITY,
    context: OBJECT,
    page: PAGE,
  },
} as const;

/** Action search: no action. */
export const ACTION_SEARCH_REQUEST = {
  type: "object",
  required: ["subject", "resource"],
  properties: { subject: ENTITY, resource: ENTITY, context: OBJECT, page: PAGE },
} as const;

/**
 * The decision, as fast-json-stringify writes it: the context's own members
 * are listed (written without JSON.stringify); members added by extensions
 * pass through.
 */
export const DECISION_RESPONSE = {
  type: "object",
  required: ["decision"],
  properties: {
    decision: { type: "boolean" },
    context: {
      type: "object",
      additionalProperties: true,
      properties: {
        decision_id: { type: "string" },
        reason: { type: "string" },
        reason_code: { type: "string" },
        tier: { type: "string" },
        requires_approval: { type: "boolean" },
        approval_policy: { type: "string" },
        policy_revision: { type: "string" },
      },
    },
  },
} as const;

/** An AuthZEN entity as validated above. */
export interface AuthZenEntity {
  readonly type: string;
  readonly id: string;
  readonly properties?: Readonly<Record<string, unknown>> | undefined;
}

export interface AuthZenAction {
  readonly name: string;
  readonly properties?: Readonly<Record<string, unknown>> | undefined;
}

/** A complete evaluation: what one Access Evaluation request (or batch item) asks. */
export interface AuthZenEvaluation {
  readonly subject: AuthZenEntity;
  readonly action: AuthZenAction;
  readonly resource: AuthZenEntity;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
}
