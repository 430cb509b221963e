import type { DescMethod } from "@bufbuild/protobuf";
import type { CallerCheck } from "../callers.ts";
import type { RpcGroup } from "../server-config.ts";
import type { CallContext } from "./adapter.ts";
import { permissionDenied, unauthenticated } from "./errors.ts";

/** The group each agentauth.v1 service belongs to. */
export const SERVICE_GROUPS: Readonly<Record<string, RpcGroup>> = Object.freeze({
  "agentauth.v1.AuthorizationService": "authorize",
  "agentauth.v1.SessionService": "sessions",
  "agentauth.v1.DelegationService": "delegations",
  "agentauth.v1.AuditService": "audit",
  "agentauth.v1.PolicyService": "policy",
  "agentauth.v1.ApprovalService": "approvals",
});

/** Methods that need another group than their service's: the group, then others that grant it too. */
export const METHOD_GROUPS: Readonly<Record<string, readonly [RpcGroup, ...RpcGroup[]]>> = Object.freeze({
  "/agentauth.v1.ApprovalService/DecideApproval": ["approve", "approvals-relay"],
});

/**
 * The caller check as a gRPC `before` hook: a refused call ends with
 * UNAUTHENTICATED or PERMISSION_DENIED (reported by the check) before its
 * request is even decoded.
 */
export function grpcCallerHook(check: CallerCheck): (context: CallContext, method: DescMethod) => void {
  return (context, method) => {
    const groups = METHOD_GROUPS[context.method];
    const verdict = check.check({
      method: context.method,
      label: `${method.parent.name}.${method.name}`,
      group: groups === undefined ? SERVICE_GROUPS[method.parent.typeName] : groups[0],
      orGroups: groups?.slice(1),
      get peer() {
        return context.peer;
      },
      credentials: {
        get authorization() {
          return context.metadata.get("authorization").map(String);
        },
        get peerCertificate() {
          return context.peerCertificate;
        },
      },
    });
    if (!verdict.ok) throw verdict.code === "UNAUTHENTICATED" ? unauthenticated(verdict.message) : permissionDenied(verdict.message);
  };
}
