import type { JSONRPCErrorResponse, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { ApprovalTicket, DeciderDecision } from "../../client/decider.ts";
import { isAgentAuthError } from "../../client/agent-auth-error.ts";
import { isInvalidRequestError } from "../../model/errors.ts";
import { ErrorCodes, errorResponse } from "./json-rpc.ts";

/**
 * The answer to a denied call: `-32001`, the reason in the message, and in
 * `data` the reason and the decision id (to find it in the audit log).
 */
export function deniedAnswer(id: RequestId, what: string, decision: DeciderDecision): JSONRPCErrorResponse {
  return errorResponse(id, ErrorCodes.DENIED, `agent-auth denied ${what}: ${decision.reason}`, {
    reason: decision.reason,
    decision_id: decision.decisionId,
    requires_approval: false,
  });
}

/**
 * The answer to a call that needs approval: `-32001` with
 * `requires_approval: true`, the tier and the approval policy in `data`,
 * and `data.approval` the task requested for the call (`id`, `status`,
 * `expires_at`, and `console_url` where an approver answers it); the message
 * names the task too, for clients that show only the message.
 */
export function approvalAnswer(
  id: RequestId,
  what: string,
  decision: DeciderDecision,
  task: ApprovalTicket | undefined,
  more: { readonly consoleUrl?: string | undefined; readonly note?: string | undefined } = {},
): JSONRPCErrorResponse {
  const where = task === undefined ? "" : `; approval ${task.id} is ${task.status}${more.consoleUrl === undefined ? "" : ` (${more.consoleUrl})`}: call again with the same arguments once it is approved`;
  return errorResponse(id, ErrorCodes.DENIED, `${what} requires ${decision.tier} approval: ${decision.reason}${where}`, {
    reason: decision.reason,
    decision_id: decision.decisionId,
    requires_approval: true,
    tier: decision.tier,
    approval_policy: decision.approvalPolicy,
    ...(task === undefined
      ? {}
      : { approval: { id: task.id, status: task.status, expires_at: task.expiresAt ?? "", ...(more.consoleUrl === undefined ? {} : { console_url: more.consoleUrl }) } }),
    ...(more.note === undefined ? {} : { note: more.note }),
  });
}

/**
 * The answer to a call that needs approval, for a client that supports URL
 * mode elicitation: `-32042` (URLElicitationRequired) with one elicitation
 * whose URL is the task's console page and whose id is the task's, plus
 * the fields of {@link approvalAnswer} in `data`. Once the approver answers,
 * the client calls again.
 */
export function approvalElicitationAnswer(id: RequestId, what: string, decision: DeciderDecision, task: ApprovalTicket, consoleUrl: string, note: string | undefined): JSONRPCErrorResponse {
  const plain = approvalAnswer(id, what, decision, task, { consoleUrl, note });
  const message = `${what} requires ${decision.tier} approval: open ${consoleUrl} to have it approved, then call again with the same arguments`;
  return errorResponse(id, ErrorCodes.URL_ELICITATION_REQUIRED, message, {
    elicitations: [{ mode: "url", elicitationId: task.id, url: consoleUrl, message }],
    ...(plain.error.data as Record<string, unknown>),
  });
}

/** The answer to a call whose approval task was denied (or expired, or cancelled): `-32001` with the task in `data.approval`. */
export function approvalDeniedAnswer(id: RequestId, what: string, decision: DeciderDecision, task: ApprovalTicket): JSONRPCErrorResponse {
  const by = task.decidedBy ? ` by '${task.decidedBy}'${task.comment ? `: ${task.comment}` : ""}` : "";
  return errorResponse(id, ErrorCodes.DENIED, `${what} was not approved: approval ${task.id} was ${task.status}${by}`, {
    reason: `Approval ${task.id} was ${task.status}${by}`,
    decision_id: decision.decisionId,
    requires_approval: false,
    approval: { id: task.id, status: task.status, expires_at: task.expiresAt ?? "" },
  });
}

/**
 * The console page of a task: `BASE/approvals/ID` when BASE is the console
 * (ends in `/console`), else `BASE/console/approvals/ID` (BASE the server's
 * HTTP address).
 */
export function consoleLink(base: string, id: string): string {
  const trimmed = base.replace(/\/+$/, "");
  return `${trimmed}${/\/console$/.test(trimmed) ? "" : "/console"}/approvals/${encodeURIComponent(id)}`;
}

/**
 * The answer when no decision could be had. A request agent-auth refused as
 * malformed — arguments over its metadata limits — is `-32602` naming the
 * field and the limit; anything else (agent-auth unreachable) is `-32603`.
 * Either way the call was not forwarded.
 */
export function failureAnswer(id: RequestId, what: string, error: unknown): JSONRPCErrorResponse {
  if (isInvalidRequestError(error)) {
    return errorResponse(id, ErrorCodes.INVALID_PARAMS, `${what} was not forwarded: agent-auth cannot decide it: ${error.message}`, { field: error.field, problem: error.problem });
  }
  if (isAgentAuthError(error) && error.code === "INVALID_ARGUMENT") {
    const v = error.fieldViolations[0];
    return errorResponse(id, ErrorCodes.INVALID_PARAMS, `${what} was not forwarded: agent-auth cannot decide it: ${error.details}`, v === undefined ? { problem: error.details } : { field: v.field, problem: v.description });
  }
  const detail = isAgentAuthError(error) ? `${error.code}: ${error.details}` : error instanceof Error ? error.message : String(error);
  return errorResponse(id, ErrorCodes.INTERNAL_ERROR, `${what} was not forwarded: agent-auth could not decide it (${detail})`, { agent_auth_unavailable: true });
}
