import type { JSONRPCErrorResponse, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { DeciderDecision } from "../../client/decider.ts";
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
 * `requires_approval: true`, the tier and the approval policy in `data`.
 * With approvals, `data.approval` will carry the task requested for the call
 * (`id`, `status`, `expires_at`, `console_url`); the rest stays as it is.
 */
export function approvalAnswer(id: RequestId, what: string, decision: DeciderDecision): JSONRPCErrorResponse {
  return errorResponse(id, ErrorCodes.DENIED, `${what} requires ${decision.tier} approval: ${decision.reason}`, {
    reason: decision.reason,
    decision_id: decision.decisionId,
    requires_approval: true,
    tier: decision.tier,
    approval_policy: decision.approvalPolicy,
  });
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
