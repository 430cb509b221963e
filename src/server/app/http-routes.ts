import type { onRequestHookHandler } from "fastify";
import type { AuthEngine } from "../../engine/auth-engine.ts";
import type { CallerCheck } from "../callers.ts";
import { accessRequests } from "../http/access-requests/index.ts";
import { authzenRoutes } from "../http/authzen/authzen-routes.ts";
import { baseUrlOf } from "../http/authzen/discovery-route.ts";
import { httpCallerHook } from "../http/caller-auth.ts";
import { consoleRoutes, type ConsoleServices } from "../http/console/index.ts";
import type { HttpRouteGroup } from "../http/route-group.ts";
import type { SigningKey } from "../http/signing-key.ts";
import type { Logger } from "../logger.ts";
import type { ServerMetrics } from "../metrics.ts";
import type { RpcGroup } from "../server-config.ts";

/** What the route groups of the HTTP listener are built from. */
export interface HttpRoutesContext {
  readonly engine: AuthEngine;
  readonly maxBatch: number;
  readonly metrics: ServerMetrics;
  /** The same check gRPC calls go through; undefined without callers configured. */
  readonly callerCheck: CallerCheck | undefined;
  readonly policyDecisionPoint: string | undefined;
  readonly scheme: "http" | "https";
  readonly fallbackHost: () => string;
  /** Signs the binding tokens of requestable denies (published at /.well-known/jwks.json). */
  readonly signingKey: SigningKey;
  /** Which approval callback URLs are allowed; undefined: none. */
  readonly callbacks: { refusal(url: string): string | undefined } | undefined;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /** The web console's sources (everything but the engine, metrics and caller check above); undefined: no console. */
  readonly console?: Omit<ConsoleServices, "engine" | "metrics" | "callerCheck"> | undefined;
}

/**
 * The route groups this server serves over HTTP, in order: the AuthZEN API
 * the access requests of its approvals profile, and the web console. New
 * groups are added here, with their discovery metadata
 * passed to the AuthZEN group and their context extensions to its decisions.
 */
export function httpRouteGroups(ctx: HttpRoutesContext): HttpRouteGroup[] {
  const check = ctx.callerCheck;
  const hooks = new Map<RpcGroup, onRequestHookHandler[]>();
  const callerHooks = (group: RpcGroup): onRequestHookHandler[] => {
    if (check === undefined) return [];
    let h = hooks.get(group);
    if (h === undefined) hooks.set(group, (h = [httpCallerHook(check, group)]));
    return h;
  };
  const access = accessRequests({
    engine: ctx.engine,
    key: ctx.signingKey,
    policyDecisionPoint: ctx.policyDecisionPoint,
    baseUrl: baseUrlOf(ctx),
    callerHooks,
    callbacks: ctx.callbacks,
    metrics: ctx.metrics,
    logger: ctx.logger,
    maxBodyBytes: ctx.maxBodyBytes,
  });
  return [
    authzenRoutes({
      engine: ctx.engine,
      maxBatch: ctx.maxBatch,
      metrics: ctx.metrics,
      callerHooks,
      contextExtensions: [access.contextExtension],
      policyDecisionPoint: ctx.policyDecisionPoint,
      scheme: ctx.scheme,
      fallbackHost: ctx.fallbackHost,
      metadata: [access.metadata],
    }),
    access.routes,
    ...(ctx.console === undefined ? [] : [consoleRoutes({ ...ctx.console, engine: ctx.engine, metrics: ctx.metrics, callerCheck: check })]),
  ];
}
