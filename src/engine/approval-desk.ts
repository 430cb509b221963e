import type { ApprovalFilter, ApprovalPage, ApprovalPageRequest, ApprovalRequestInput, ApprovalTask, DecideApprovalInput } from "../approvals/types.ts";
import type { AuthDecision } from "../model/types.ts";

/** The approval operations of an engine (see the AuthEngine methods of the same names). */
export interface ApprovalOperations {
  requestApproval(input: ApprovalRequestInput): Promise<{ decision: AuthDecision; task: ApprovalTask }>;
  decideApproval(input: DecideApprovalInput): Promise<ApprovalTask>;
  getApproval(id: string): Promise<ApprovalTask | undefined>;
  listApprovals(filter: ApprovalFilter, page: ApprovalPageRequest): Promise<ApprovalPage>;
  cancelApproval(id: string, by: string): Promise<ApprovalTask>;
}
