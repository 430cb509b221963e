import type { FastifyRequest, onRequestHookHandler } from "fastify";
import type { AuthEngine } from "../../../engine/auth-engine.ts";
import type { DecisionOrigin } from "../../../model/origin.ts";
import type { ServerMetrics } from "../../metrics.ts";
import type { RpcGroup } from "../../server-config.ts";
import type { DecisionContextExtension } from "./decision-response.ts";

/** What the AuthZEN routes work with. */
export interface AuthZenServices {
  readonly engine: AuthEngine;
  /** Largest `evaluations` array (`limits.max_batch`, as for AuthorizeBatch). */
  readonly maxBatch: number;
  readonly metrics?: ServerMetrics | undefined;
  /** The hooks a route needing `group` runs first (none without callers configured). */
  readonly callerHooks: (group: RpcGroup) => onRequestHookHandler[];
  /** Extra members for every decision's `context`, in order. */
  readonly contextExtensions: readonly DecisionContextExtension[];
  /** The PDP's base URL as the client of `request` reaches it (as discovery publishes it). */
  readonly baseUrl: (request: FastifyRequest) => string;
}

/** The origin recorded with an HTTP request's decisions. */
export function httpOrigin(request: { readonly clientRequestId: string | undefined; readonly callerName: string | undefined }): DecisionOrigin {
  return { transport: "http", requestId: request.clientRequestId, caller: request.callerName };
}
