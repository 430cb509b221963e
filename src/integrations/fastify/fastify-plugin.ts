import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { Decider } from "../../client/decider.ts";
import { createHttpAuthorizer, type AgentAuthContext, type HttpAuthOptions, type HttpOutcome, type HttpRequestFacts, type RouteAuthOptions } from "../http/http-authorizer.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The agent-auth decision that let this request through (set by the agent-auth plugin or requireAuth). */
    agentAuth: AgentAuthContext | null;
  }
}

/** Options of the Fastify plugin: the decider and how requests map to authorization requests. */
export interface FastifyAuthOptions extends HttpAuthOptions<FastifyRequest> {
  readonly decider: Decider;
}

/**
 * A Fastify plugin that decides every request of the application it is
 * registered on (`app.register(agentAuthPlugin, { decider })`), in an
 * `onRequest` hook, with the original's defaults: agent and user from the
 * `X-Agent-Name` / `X-User-Name` headers, session from `X-Session-Id`, action
 * `lowercase-method:path`, resource the full URL, and its 400 / 403 JSON
 * bodies (503 when agent-auth cannot be reached). `action: "route"` uses the
 * route pattern (`get:/orders/:id`; the raw path for a request no route
 * matches). Allowed requests carry the decision as `request.agentAuth`.
 *
 * It applies to the whole application, not only to the plugin's own scope,
 * as an authorization layer must.
 */
export const agentAuthPlugin: FastifyPluginAsync<FastifyAuthOptions> = async (app, options) => {
  const { decider, ...mapping } = options;
  const authorize = createHttpAuthorizer(decider, mapping);
  if (!app.hasRequestDecorator("agentAuth")) app.decorateRequest("agentAuth", null);
  app.addHook("onRequest", async (request, reply) => settle(await authorize(factsOf(request)), request, reply));
};
// Not encapsulated: the hook covers routes registered outside the plugin (what fastify-plugin sets).
Object.assign(agentAuthPlugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "agent-auth" });

/**
 * A factory of per-route hooks with a fixed action, as the original's Flask
 * decorator: `const requireAuth = createRequireAuth(decider);
 * app.post("/refunds", { onRequest: requireAuth({ action: "refund" }) }, handler)`.
 * Register `agentAuthPlugin` too, or decorate requests with `agentAuth` yourself, to read the decision.
 */
export function createRequireAuth(decider: Decider, options: HttpAuthOptions<FastifyRequest> = {}): (route: RouteAuthOptions<FastifyRequest>) => onRequestAsyncHookHandler {
  const authorize = createHttpAuthorizer(decider, options);
  return (route) =>
    async function agentAuthRoute(request, reply) {
      return settle(await authorize(factsOf(request), route), request, reply);
    };
}

function factsOf(request: FastifyRequest): HttpRequestFacts<FastifyRequest> {
  return {
    req: request,
    method: request.method,
    url: request.url,
    fullUrl: `${request.protocol}://${request.host}${request.url}`,
    // Fastify routes before onRequest hooks; a request that matched no route has no pattern.
    route: request.routeOptions.url ?? rawPathOf(request.url),
    header(name) {
      const v = request.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    },
  };
}

/** Returns the reply when it was sent: an async hook must return it to stop the request there. */
function settle(outcome: HttpOutcome, request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  if (outcome.kind === "next") {
    request.agentAuth = outcome.context;
    return undefined;
  }
  return reply.code(outcome.status).send(outcome.body);
}

function rawPathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
