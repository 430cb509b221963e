/**
 * `agent-auth/express`: Express middleware that asks agent-auth before each
 * request (needs `express`, an optional peer dependency).
 *
 *   import { createAgentAuthMiddleware } from "agent-auth/express";
 *   app.use(createAgentAuthMiddleware(decider));
 */
export { createAgentAuthMiddleware, createRequireAuth, type ExpressAuthOptions } from "./express-middleware.ts";
export type { AgentAuthContext, AgentAuthHeaders, RouteAuthOptions } from "../http/http-authorizer.ts";
export type { Decider } from "../../client/decider.ts";
