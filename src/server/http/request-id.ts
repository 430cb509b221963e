import type { onRequestHookHandler } from "fastify";
import { HttpError } from "./errors.ts";

/**
 * Echoes the client's `X-Request-ID` on every answer, errors included (as
 * AuthZEN requires), and keeps it for the audit record. An id longer than
 * `maxLength` characters is refused, naming the limit, but still echoed.
 */
export function requestIdHook(maxLength: number): onRequestHookHandler {
  return (request, reply, done) => {
    const id = request.headers["x-request-id"];
    if (typeof id === "string") {
      void reply.header("x-request-id", id);
      if (id.length > maxLength) {
        done(new HttpError(400, `X-Request-ID: is ${id.length} characters long; the limit is ${maxLength} (limits.max_string_length)`));
        return;
      }
      request.clientRequestId = id;
    }
    done();
  };
}
