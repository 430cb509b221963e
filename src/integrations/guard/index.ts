/**
 * `agent-auth/guard`: tool functions that ask agent-auth before they run.
 *
 *   import { guard } from "agent-auth/guard";
 *   const sendMoney = guard(decider, { agent: "payments-bot", user: (to, amount, user) => user,
 *     action: "pay", metadata: (to, amount) => ({ to, amount }) }, rawSendMoney);
 *
 * `decider` is the client (`agent-auth/client`) or the embedded engine (`agent-auth`).
 */
export { guard, type FromArgs, type GuardOptions } from "./guard.ts";
export { ApprovalRequiredError, AuthorizationDeniedError, isApprovalRequiredError, isAuthorizationDeniedError } from "./errors.ts";
export type { Decider, DeciderDecision, DeciderRequest } from "../../client/decider.ts";
