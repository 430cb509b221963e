import type { FastifyInstance } from "fastify";

/**
 * A group of routes the HTTP listener serves (the AuthZEN API, its access
 * requests, and later the console): registered as its own Fastify plugin, so
 * its hooks, decorators and content-type parsers stay inside it. A group
 * asks for caller checks per route (see {@link HttpServices.requireCaller}).
 */
export interface HttpRouteGroup {
  /** For logs and errors: `authzen`, `approvals`, `console`. */
  readonly name: string;
  /** Adds the group's routes to its own encapsulated scope. */
  register(scope: FastifyInstance): void | Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The configured caller the request authenticated as; undefined without callers configured, or on a public route. */
    callerName: string | undefined;
    /** The client's `X-Request-ID`, echoed in the response and written to the audit record. */
    clientRequestId: string | undefined;
  }
}
