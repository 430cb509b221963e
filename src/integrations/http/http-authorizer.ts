import type { ApprovalTicket, Decider, DeciderDecision, DeciderRequest } from "../../client/decider.ts";
import { isAgentAuthError } from "../../client/agent-auth-error.ts";
import { isInvalidRequestError } from "../../model/errors.ts";
import type { RequestMetadata } from "../../model/types.ts";
import { createApprovalFlow, type ApprovalOutcome } from "../approval-flow.ts";

/** Header names the middleware reads the acting agent, user and session from. */
export interface AgentAuthHeaders {
  /** Default `X-Agent-Name`. */
  readonly agent?: string;
  /** Default `X-User-Name`. */
  readonly user?: string;
  /** Default `X-Session-Id`. */
  readonly session?: string;
  /** The approval a retried request redeems. Default `X-Approval-Id`. */
  readonly approval?: string;
}

/** How an HTTP request becomes an authorization request; `Req` is the framework's request. */
export interface HttpAuthOptions<Req> {
  readonly headers?: AgentAuthHeaders;
  /**
   * The action: `"path"` (default, as the original) is `lowercase-method:path`
   * with the raw path and no query (`get:/orders/42`); `"route"` uses the
   * route pattern instead (`get:/orders/:id`); a function computes it.
   */
  readonly action?: "path" | "route" | ((req: Req) => string);
  /** The resource. Default: the full URL of the request, query included. */
  readonly resource?: (req: Req) => string;
  /** Fields conditions read by name. Default: none. */
  readonly metadata?: (req: Req) => RequestMetadata | undefined;
  readonly scope?: (req: Req) => string | undefined;
  /**
   * Request an approval task when a request needs approval (default true),
   * and return it in the 403 body as `approval`; false: the body has the
   * decision alone.
   */
  readonly requestApproval?: boolean;
  /** Shown to approvers with the task requested for a request. */
  readonly justification?: (req: Req) => string | undefined;
  /**
   * Sees every failure to decide (the server unreachable, a malformed
   * request; the response is 503 or 400 either way), and every failure to
   * request an approval task (the 403 then comes without `approval`).
   */
  readonly onError?: (error: unknown, req: Req) => void;
}

/** What the middleware needs to know of one request, whatever the framework. */
export interface HttpRequestFacts<Req> {
  readonly req: Req;
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly url: string;
  /** Scheme, host and `url`. */
  readonly fullUrl: string;
  /** The matched route pattern, when the framework has matched one. */
  readonly route: string | undefined;
  header(name: string): string | undefined;
}

/** Set on the request for handlers once it is allowed. */
export interface AgentAuthContext {
  readonly decision: DeciderDecision;
  readonly request: DeciderRequest;
}

/** The middleware's verdict: go on to the handler, or answer with this status and JSON body. */
export type HttpOutcome =
  | { readonly kind: "next"; readonly context: AgentAuthContext }
  | { readonly kind: "respond"; readonly status: number; readonly body: Readonly<Record<string, unknown>> };

/** Per-route overrides (`requireAuth({ action })`); what is absent comes from the middleware's options. */
export interface RouteAuthOptions<Req> {
  readonly action?: string | ((req: Req) => string);
  readonly resource?: (req: Req) => string;
  readonly metadata?: (req: Req) => RequestMetadata | undefined;
  readonly scope?: (req: Req) => string | undefined;
}

/**
 * Decides HTTP requests the way the original's FastAPI middleware and Flask
 * decorator do: agent, user and session from headers, then
 * `400 {"error": "X-Agent-Name and X-User-Name headers are required"}`,
 * `403 {"error": "Authorization denied", "reason", "decision_id"}`, or
 * `403 {"error": "Approval required", "tier", "reason", "approval_policy",
 * "approval": {"id", "status", "expires_at"}}` with the approval task it
 * requested (once per distinct request). The same request retried with the
 * task's id in `X-Approval-Id` redeems it once an approver approved it; a
 * task the approver denied answers `403 "Authorization denied"` with the
 * task. A failure to decide never lets the request through: 503 when
 * agent-auth cannot be reached, 400 when the request breaks its limits.
 */
export function createHttpAuthorizer<Req>(decider: Decider, options: HttpAuthOptions<Req> = {}) {
  const agentHeader = options.headers?.agent ?? "X-Agent-Name";
  const userHeader = options.headers?.user ?? "X-User-Name";
  const sessionHeader = options.headers?.session ?? "X-Session-Id";
  const approvalHeader = options.headers?.approval ?? "X-Approval-Id";
  const approvals = createApprovalFlow(decider, { request: options.requestApproval !== false });
  const missing = { error: `${agentHeader} and ${userHeader} headers are required` };

  return async function authorizeHttp(facts: HttpRequestFacts<Req>, route?: RouteAuthOptions<Req>): Promise<HttpOutcome> {
    const agent = facts.header(agentHeader);
    const user = facts.header(userHeader);
    if (!agent || !user) return { kind: "respond", status: 400, body: missing };
    const req = facts.req;
    let action: string;
    const choice = route?.action ?? options.action ?? "path";
    if (typeof choice === "function") action = choice(req);
    else if (typeof route?.action === "string") action = route.action;
    else if (choice === "route") {
      if (facts.route === undefined) return failure(new RouteUnknownError(), facts, options);
      action = `${facts.method.toLowerCase()}:${facts.route}`;
    } else action = `${facts.method.toLowerCase()}:${rawPath(facts.url)}`;
    const request: DeciderRequest = {
      agent,
      user,
      action,
      resource: (route?.resource ?? options.resource)?.(req) ?? facts.fullUrl,
      sessionId: facts.header(sessionHeader) || undefined,
      scope: (route?.scope ?? options.scope)?.(req),
      metadata: (route?.metadata ?? options.metadata)?.(req),
    };
    let outcome: ApprovalOutcome;
    try {
      outcome = await approvals.decide(request, {
        presented: facts.header(approvalHeader) || undefined,
        justification: options.justification?.(req),
        // The decision stands without a task: the 403 says approval is required, onError says why no task came with it.
        onRequestError: (error) => options.onError?.(error, req),
      });
    } catch (error) {
      return failure(error, facts, options);
    }
    const { decision, task } = outcome.kind === "allowed" ? { ...outcome, task: undefined } : outcome;
    if (outcome.kind === "denied") {
      const reason = task === undefined ? decision.reason : `Approval ${task.id} was ${task.status}${task.decidedBy ? ` by '${task.decidedBy}'` : ""}`;
      return { kind: "respond", status: 403, body: { error: "Authorization denied", reason, decision_id: decision.decisionId, ...approvalBody(task) } };
    }
    if (outcome.kind === "approval") {
      return {
        kind: "respond",
        status: 403,
        body: {
          error: "Approval required",
          tier: decision.tier,
          reason: decision.reason,
          approval_policy: decision.approvalPolicy,
          ...(decision.approvalStatus ? { approval_status: decision.approvalStatus } : {}),
          ...approvalBody(task),
        },
      };
    }
    return { kind: "next", context: { decision, request } };
  };
}

/** The task in a response body: `approval: {id, status, expires_at}`; nothing when there is none. */
function approvalBody(task: ApprovalTicket | undefined): { approval?: Record<string, string> } {
  return task === undefined ? {} : { approval: { id: task.id, status: task.status, expires_at: task.expiresAt ?? "" } };
}

/** The action mode "route" was asked for where the framework has matched no route yet. */
export class RouteUnknownError extends Error {
  override readonly name = "RouteUnknownError" as const;
  constructor() {
    super("action 'route' needs the matched route pattern, and no route is matched here: mount the middleware on the route (Express: app.get(path, middleware, handler))");
  }
}

function failure<Req>(error: unknown, facts: HttpRequestFacts<Req>, options: HttpAuthOptions<Req>): HttpOutcome {
  options.onError?.(error, facts.req);
  if (isInvalidRequestError(error)) return { kind: "respond", status: 400, body: { error: "Invalid authorization request", reason: error.message } };
  if (isAgentAuthError(error) && error.code === "INVALID_ARGUMENT") return { kind: "respond", status: 400, body: { error: "Invalid authorization request", reason: error.details } };
  if (error instanceof RouteUnknownError) return { kind: "respond", status: 500, body: { error: "Authorization misconfigured", reason: error.message } };
  return { kind: "respond", status: 503, body: { error: "Authorization unavailable", reason: "agent-auth could not decide the request; it was not let through" } };
}

/** The path of a request target, without its query, as sent (not decoded). */
function rawPath(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
