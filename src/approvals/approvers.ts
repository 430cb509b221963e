import type { ApprovalsConfig } from "../config/types.ts";
import { fnmatch } from "../policy/fnmatch.ts";

/** The parties of a task an approver is checked against. */
export interface ApprovalParties {
  readonly tier: "soft" | "strong";
  readonly agent: string;
  readonly user: string;
}

/**
 * Why `approver` may not decide a task, or undefined when they may. The
 * four-eyes rule comes first and always wins: the requesting agent never
 * approves its own request, and a strong-tier task is never decided by the
 * request's user either. Then the tier's patterns (`approvals.approvers`),
 * where `self` stands for the request's user.
 */
export function approverRefusal(config: ApprovalsConfig, task: ApprovalParties, approver: string): string | undefined {
  if (approver === task.agent) return `four-eyes rule: the requesting agent '${approver}' may not decide its own approval`;
  if (task.tier === "strong" && approver === task.user) {
    return `four-eyes rule: '${approver}' is the request's user and may not approve a strong-tier request`;
  }
  const patterns = config.approvers[task.tier];
  for (const p of patterns) {
    if (p === "self" ? approver === task.user : fnmatch(approver, p)) return undefined;
  }
  return `'${approver}' is not an approver of ${task.tier}-tier requests (approvals.approvers.${task.tier}: ${patterns.map((p) => JSON.stringify(p)).join(", ")})`;
}
