/**
 * `agent-auth/fastify`: a Fastify plugin that asks agent-auth before each
 * request (needs `fastify`, an optional peer dependency).
 *
 *   import { agentAuthPlugin } from "agent-auth/fastify";
 *   await app.register(agentAuthPlugin, { decider });
 */
export { agentAuthPlugin, createRequireAuth, type FastifyAuthOptions } from "./fastify-plugin.ts";
export type { AgentAuthContext, AgentAuthHeaders, RouteAuthOptions } from "../http/http-authorizer.ts";
export type { Decider } from "../../client/decider.ts";
