/**
 * The access-request profile's errors as RFC 9457 problem details
 * (`application/problem+json`): the profile's problem types with their
 * statuses, and every other failure of these routes (401, 403, a malformed
 * body) as `about:blank` with its HTTP status.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../../logger.ts";
import { httpAnswerOf, HttpError } from "../errors.ts";

/** The problem types the profile defines, and the status each is sent with. */
export const PROBLEM_TYPES = Object.freeze({
  not_requestable: { status: 400, title: "Access is not requestable" },
  expired_denial: { status: 410, title: "The requestable denial has expired" },
  invalid_denial_binding: { status: 400, title: "The access request cannot be bound to the denied decision" },
  duplicate_request: { status: 409, title: "Idempotency-Key reused for a different request" },
  unknown_task: { status: 404, title: "Unknown task" },
  task_expired: { status: 410, title: "The task has expired" },
  invalid_task_state: { status: 409, title: "The operation is not possible in the task's current state" },
} as const);

/** A problem type of the profile, by its short name. */
export type ProblemName = keyof typeof PROBLEM_TYPES;

/** The URI of a profile problem type: `urn:openid:authzen:access-request:error:NAME`. */
export function problemType(name: ProblemName): string {
  return `urn:openid:authzen:access-request:error:${name}`;
}

/** The media type of every error answer of these routes. */
export const PROBLEM_JSON = "application/problem+json";

/** One of the profile's problems; `detail` says exactly what was wrong. */
export class AccessRequestProblem extends HttpError {
  constructor(
    readonly problem: ProblemName,
    detail: string,
  ) {
    super(PROBLEM_TYPES[problem].status, detail);
  }
}

/** An RFC 9457 body. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
}

const STATUS_TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
};

/** The problem details of what was thrown (its cause logged when it is an internal error). */
export function problemOf(error: FastifyError, request: FastifyRequest, logger: Logger, maxBodyBytes: number): { details: ProblemDetails; headers: Readonly<Record<string, string>> } {
  if (error instanceof AccessRequestProblem) {
    return { details: { type: problemType(error.problem), title: PROBLEM_TYPES[error.problem].title, status: error.status, detail: error.message }, headers: {} };
  }
  const answer = httpAnswerOf(error, request, logger, maxBodyBytes);
  return { details: { type: "about:blank", title: STATUS_TITLES[answer.status] ?? "Error", status: answer.status, detail: answer.message }, headers: answer.headers };
}

/** The error handler of the access-request routes: every error as `application/problem+json`. */
export function problemErrorHandler(logger: Logger, maxBodyBytes: number): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const { details, headers } = problemOf(error, request, logger, maxBodyBytes);
    void reply.code(details.status).headers(headers).header("content-type", PROBLEM_JSON).send(JSON.stringify(details));
  };
}
