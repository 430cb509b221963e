import { ApprovalService } from "../../../gen/agentauth/v1/approval_pb.ts";
import { AuditService } from "../../../gen/agentauth/v1/audit_pb.ts";
import { AuthorizationService, AuthorizeResponseSchema } from "../../../gen/agentauth/v1/authorization_pb.ts";
import { DelegationService } from "../../../gen/agentauth/v1/delegation_pb.ts";
import { PolicyService } from "../../../gen/agentauth/v1/policy_pb.ts";
import { SessionService } from "../../../gen/agentauth/v1/session_pb.ts";
import { createServiceDefinition, type CallHooks } from "../grpc/adapter.ts";
import type { HostedService } from "../grpc/server.ts";
import { approvalService } from "../handlers/approvals.ts";
import { auditService } from "../handlers/audit.ts";
import { authorizationService } from "../handlers/authorization.ts";
import type { ServiceContext } from "../handlers/context.ts";
import { delegationService } from "../handlers/delegations.ts";
import { encodeAuthorizeResponse } from "../handlers/encode-decision.ts";
import { policyService } from "../handlers/policy.ts";
import { sessionService } from "../handlers/sessions.ts";

/** The six agent-auth services over one context, each call wrapped in `hooks`. */
export function hostedServices(ctx: ServiceContext, hooks: CallHooks): HostedService[] {
  return [
    {
      service: AuthorizationService,
      // Authorize's answers go through the hand-written encoder (see src/README.md, fast paths).
      ...createServiceDefinition(AuthorizationService, authorizationService(ctx), hooks, new Map([[AuthorizeResponseSchema.typeName, encodeAuthorizeResponse]])),
    },
    { service: SessionService, ...createServiceDefinition(SessionService, sessionService(ctx), hooks) },
    { service: DelegationService, ...createServiceDefinition(DelegationService, delegationService(ctx), hooks) },
    { service: AuditService, ...createServiceDefinition(AuditService, auditService(ctx), hooks) },
    { service: PolicyService, ...createServiceDefinition(PolicyService, policyService(ctx), hooks) },
    { service: ApprovalService, ...createServiceDefinition(ApprovalService, approvalService(ctx), hooks) },
  ];
}
