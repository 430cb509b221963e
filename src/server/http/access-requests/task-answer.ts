import type { ApprovalStatus, ApprovalTask } from "../../../approvals/index.ts";

/** What the access-request endpoints answer for a task: the profile's Task Handle, and its result once approved. */
export interface TaskAnswer {
  readonly task: {
    readonly id: string;
    readonly status: ApprovalStatus;
    readonly status_endpoint: string;
    readonly expires_at?: string;
    readonly links: { readonly cancel: string };
  };
  readonly result?: {
    readonly mode: "reevaluate";
    readonly approval: { readonly id: string; readonly approved_at: string; readonly approved_until: string };
  };
}

/** An ISO time without milliseconds (RFC 3339, UTC). */
function rfc3339(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, "Z");
}

/**
 * A task as the profile shows it. Statuses are ours: the profile's
 * `pending`, `approved`, `denied`, `expired`, `cancelled`, plus `used` (an
 * approval whose redemptions are spent; a PEP treats it as not approved, as
 * the profile asks for any status it does not know). `expires_at` is when a
 * pending task stops waiting or an approved one stops being redeemable. An
 * approved task carries the re-evaluation result: the approval to pass back
 * as `context.approval` (its id is the task's).
 */
export function taskAnswer(t: ApprovalTask, statusEndpoint: string): TaskAnswer {
  const live = t.status === "pending" || t.status === "approved";
  return {
    task: {
      id: t.id,
      status: t.status,
      status_endpoint: statusEndpoint,
      ...(live && t.expiresAt !== "" ? { expires_at: rfc3339(t.expiresAt) } : {}),
      links: { cancel: `${statusEndpoint}/cancel` },
    },
    ...(t.status === "approved" ? { result: { mode: "reevaluate", approval: { id: t.id, approved_at: rfc3339(t.decidedAt), approved_until: rfc3339(t.expiresAt) } } } : {}),
  };
}
