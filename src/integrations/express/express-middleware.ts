import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Decider } from "../../client/decider.ts";
import { createHttpAuthorizer, type AgentAuthContext, type HttpAuthOptions, type HttpOutcome, type HttpRequestFacts, type RouteAuthOptions } from "../http/http-authorizer.ts";

declare global {
  namespace Express {
    interface Request {
      /** The agent-auth decision that let this request through (set by the agent-auth middleware). */
      agentAuth?: AgentAuthContext;
    }
  }
}

/** Options of the Express middleware. */
export type ExpressAuthOptions = HttpAuthOptions<Request>;

/**
 * Express middleware that decides every request it sees before the handlers
 * run (`app.use(createAgentAuthMiddleware(decider))`): agent and user from the
 * `X-Agent-Name` / `X-User-Name` headers, session from `X-Session-Id`, action
 * `lowercase-method:path`, resource the full URL — the original's defaults.
 * Allowed requests carry the decision as `req.agentAuth`; the others are
 * answered 400 / 403 with the original's JSON bodies, or 503 when agent-auth
 * cannot be reached.
 *
 * With `action: "route"` the action uses the route pattern
 * (`get:/orders/:id`); Express knows it only on a route, so mount the
 * middleware there (`app.get("/orders/:id", middleware, handler)`).
 */
export function createAgentAuthMiddleware(decider: Decider, options: ExpressAuthOptions = {}): RequestHandler {
  const authorize = createHttpAuthorizer(decider, options);
  return (req, res, next) => {
    authorize(factsOf(req)).then((outcome) => settle(outcome, req, res, next), next);
  };
}

/**
 * A factory of per-route middleware with a fixed action, as the original's
 * Flask decorator: `const requireAuth = createRequireAuth(decider);
 * app.post("/refunds", requireAuth({ action: "refund" }), handler)`.
 */
export function createRequireAuth(decider: Decider, options: ExpressAuthOptions = {}): (route: RouteAuthOptions<Request>) => RequestHandler {
  const authorize = createHttpAuthorizer(decider, options);
  return (route) => (req, res, next) => {
    authorize(factsOf(req), route).then((outcome) => settle(outcome, req, res, next), next);
  };
}

function factsOf(req: Request): HttpRequestFacts<Request> {
  const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return {
    req,
    method: req.method,
    url: req.originalUrl,
    fullUrl: `${req.protocol}://${req.get("host") ?? ""}${req.originalUrl}`,
    route: typeof routePath === "string" ? req.baseUrl + routePath : undefined,
    header: (name) => req.get(name),
  };
}

function settle(outcome: HttpOutcome, req: Request, res: Response, next: NextFunction): void {
  if (outcome.kind === "next") {
    req.agentAuth = outcome.context;
    next();
  } else res.status(outcome.status).json(outcome.body);
}
