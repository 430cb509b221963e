import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../logger.ts";

/**
 * An error with an HTTP status for the client; its message is the whole
 * answer (`{"error": message}`), so it names the member, the limit and its
 * setting. Anything thrown that is not an HttpError is a 500 with a generic
 * message, its cause logged, never sent.
 */
export class HttpError extends Error {
  override readonly name = "HttpError" as const;
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (e.g. WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export function isHttpError(e: unknown): e is HttpError {
  return e instanceof Error && e.name === "HttpError";
}

/** 400 naming the member: `subject.id: is required`. */
export function badRequest(member: string, problem: string): HttpError {
  return new HttpError(400, `${member}: ${problem}`);
}

/** One Ajv error, as Fastify's schema validation reports it. */
interface SchemaProblem {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string | undefined;
}

/** `/subject/properties/act` → `subject.properties.act`; `/evaluations/2` → `evaluations[2]`. */
export function memberPath(pointer: string, root = ""): string {
  let out = root;
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out;
}

const TYPE_NAMES: Readonly<Record<string, string>> = { object: "a JSON object", string: "a string", array: "an array", boolean: "true or false", integer: "an integer", number: "a number" };

/** A schema problem as one sentence naming the member: `action.name: must be a string`. */
export function schemaProblemMessage(p: SchemaProblem, root = ""): string {
  const at = memberPath(p.instancePath, root);
  switch (p.keyword) {
    case "required": {
      const missing = String(p.params["missingProperty"]);
      return `${at === "" ? missing : `${at}.${missing}`}: is required`;
    }
    case "type":
      return `${at === "" ? "request body" : at}: must be ${TYPE_NAMES[String(p.params["type"])] ?? String(p.params["type"])}`;
    case "enum":
      return `${at}: must be one of ${(p.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "minimum":
    case "maximum":
      return `${at}: must be ${p.keyword === "minimum" ? "at least" : "at most"} ${String(p.params["limit"])}`;
    default:
      return `${at === "" ? "request body" : at}: ${p.message ?? p.keyword}`;
  }
}

/** What goes back for framework errors: JSON body problems are 400 as AuthZEN asks (not 415). */
function frameworkError(error: FastifyError): HttpError | undefined {
  const problems = error.validation as readonly SchemaProblem[] | undefined;
  if (problems !== undefined && problems.length > 0) return new HttpError(400, schemaProblemMessage(problems[0]!));
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new HttpError(400, "Content-Type must be application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new HttpError(400, "request body: is empty; a JSON object is required");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new HttpError(400, "request body: is not valid JSON (or holds a __proto__ or constructor.prototype key)");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return undefined;
    default:
      return error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? new HttpError(error.statusCode, error.message) : undefined;
  }
}

/**
 * The single place where anything thrown while serving a request becomes an
 * answer: HttpErrors and framework errors (bad JSON, schema problems, body
 * too large) keep their status and message; anything else is a 500 whose
 * cause goes to the log.
 */
export function httpErrorHandler(logger: Logger, maxBodyBytes: number): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const answer = httpAnswerOf(error, request, logger, maxBodyBytes);
    void reply.code(answer.status).headers(answer.headers).send({ error: answer.message });
  };
}

/**
 * What anything thrown while serving a request answers, for a route group
 * that writes its own error bodies: HttpErrors and framework errors as they
 * are, anything else a 500 with its cause logged.
 */
export function httpAnswerOf(error: FastifyError, request: FastifyRequest, logger: Logger, maxBodyBytes: number): HttpError {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new HttpError(413, `request body: is larger than the limit of ${maxBodyBytes} bytes (limits.max_message_bytes)`);
  const answer = isHttpError(error) ? error : frameworkError(error);
  if (answer !== undefined) return answer;
  logger.error("internal error", { method: request.method, url: request.url, error });
  return new HttpError(500, "internal error (see the server log)");
}
