import type { FastifyRequest, onRequestHookHandler } from "fastify";
import type { AuthEngine } from "../../../engine/auth-engine.ts";
import type { DecisionOrigin } from "../../../model/origin.ts";
import type { ServerMetrics } from "../../metrics.ts";
import type { RpcGroup } from "../../server-config.ts";
import type { DecisionContextExtension, DecisionRequestInfo } from "./decision-response.ts";

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

/**
 * What the context extensions may know of `request`, worked out only when
 * one asks: most decisions need no base URL (only a requestable deny links
 * to the access-request endpoint), and reading the Host header for each
 * would be wasted.
 */
export function decisionRequestInfo(request: FastifyRequest, baseUrl: (request: FastifyRequest) => string): DecisionRequestInfo {
  return new LazyRequestInfo(request, baseUrl);
}

class LazyRequestInfo implements DecisionRequestInfo {
  readonly #request: FastifyRequest;
  readonly #baseUrlOf: (request: FastifyRequest) => string;
  #baseUrl: string | undefined;

  constructor(request: FastifyRequest, baseUrlOf: (request: FastifyRequest) => string) {
    this.#request = request;
    this.#baseUrlOf = baseUrlOf;
  }

  get baseUrl(): string {
    return (this.#baseUrl ??= this.#baseUrlOf(this.#request));
  }
}
