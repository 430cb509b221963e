/**
 * Who decides an approval for a caller, the same for every transport (gRPC
 * DecideApproval, the console's approve and deny forms): a caller with the
 * `approve` group decides as itself; one with `approvals-relay` may name the
 * approver; without caller authentication the named approver is taken as
 * given. Whether that approver may decide the task is the engine's rule
 * (approvals/approvers.ts), checked on every decision.
 */
import type { RpcGroup } from "./server-config.ts";

/** The part of a caller the choice depends on. */
export interface ApproverCaller {
  readonly name: string;
  readonly groups: ReadonlySet<RpcGroup>;
}

/** The approver, or why there is none: `invalid` (a missing name) or `denied` (naming someone else without the relay group). */
export type ApproverChoice = { readonly approver: string } | { readonly refusal: "invalid" | "denied"; readonly message: string };

/** The approver of a decision by `caller` (undefined: no caller authentication) naming `named` ("" for none). */
export function chooseApprover(caller: ApproverCaller | undefined, named: string): ApproverChoice {
  if (caller === undefined) {
    if (named === "") return { refusal: "invalid", message: "approver: is required (the server has no caller authentication to tell who approves)" };
    return { approver: named };
  }
  const mayApprove = caller.groups.has("approve");
  const mayRelay = caller.groups.has("approvals-relay");
  if (named === "" || (named === caller.name && mayApprove)) {
    if (!mayApprove) return { refusal: "invalid", message: `approver: is required: caller '${caller.name}' relays approvals ('approvals-relay') but may not approve as itself ('approve')` };
    return { approver: caller.name };
  }
  if (!mayRelay) return { refusal: "denied", message: `caller '${caller.name}' may only decide as itself; naming approver '${named}' needs the 'approvals-relay' group` };
  return { approver: named };
}
