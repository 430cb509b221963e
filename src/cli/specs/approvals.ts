import { defineCommand, outputOption } from "../command-spec.ts";

/** `agent-auth approvals`. */
export const approvalsSpec = defineCommand({
  name: "approvals",
  summary: "list, show, approve, deny or cancel approval tasks (with --server)",
  usage: [
    "agent-auth --server H:P approvals list [--status S] [--agent A] [--user U] [--limit N] [--watch [--after CURSOR]]",
    "agent-auth --server H:P approvals show ID",
    "agent-auth --server H:P approvals approve ID [--approver NAME] [--comment T]",
    "agent-auth --server H:P approvals deny ID [--approver NAME] [--comment T]",
    "agent-auth --server H:P approvals cancel ID [--by NAME]",
  ],
  description: `Works on the approval tasks of a running server (ApprovalService). 'list' prints the tasks
oldest first (--watch follows transitions as they happen, resuming after reconnections);
'approve' and 'deny' decide a pending task as the caller (--token or the client certificate), or
as --approver NAME when the caller may relay approvals or the server has no caller authentication;
'cancel' withdraws a pending task. A refused decision (the four-eyes rule, an approver not allowed
for the tier, a task no longer pending) exits 1 with the server's reason.`,
  options: {
    status: { type: "string", value: "S", help: "list: only pending, approved, denied, expired, cancelled or used" },
    agent: { type: "string", short: "a", value: "A", help: "list: only this agent's tasks" },
    user: { type: "string", short: "u", value: "U", help: "list: only this user's tasks" },
    limit: { type: "string", value: "N", help: "list: at most N tasks (default: all)" },
    watch: { type: "boolean", default: false, help: "list: follow transitions live (Ctrl-C stops)" },
    after: { type: "string", value: "CURSOR", help: "with --watch: resume after this cursor" },
    approver: { type: "string", value: "NAME", help: "approve/deny: who decides (a relaying caller, or no caller authentication)" },
    comment: { type: "string", value: "T", help: "approve/deny: a comment kept with the task" },
    by: { type: "string", value: "NAME", help: "cancel: who cancels (without caller authentication; default the requester)" },
    ...outputOption,
  },
  positionals: { name: "list|show|approve|deny|cancel [ID]", help: "what to do, and the task's id" },
  examples: ["agent-auth --server 127.0.0.1:50051 approvals list --status pending"],
  load: async () => (await import("../commands/approvals.ts")).approvalsCommand,
});
