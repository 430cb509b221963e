import { APPROVAL_STATUSES, type ApprovalStatus, type ApprovalTask } from "../../approvals/types.ts";
import type { ApprovalEventRecord } from "../../client/approvals-client.ts";
import { intOption } from "../args.ts";
import { serverClient } from "../backend.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import { followStream } from "../follow.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { approvalsSpec } from "../specs/approvals.ts";
import { bold, dim, green, paint, red, renderTable, yellow } from "../table.ts";
import { approvalView, type ApprovalView } from "../views.ts";

const ACTIONS = ["list", "show", "approve", "deny", "cancel"] as const;
type Action = (typeof ACTIONS)[number];

/** The parsed command line of `approvals`: what to do, on which task, with which options. */
export function parseApprovalsArgs(args: readonly string[]) {
  const { values: v, positionals } = parseCommandArgs(approvalsSpec, args);
  const output = outputMode("approvals", v.output);
  const [action, id, ...extra] = positionals;
  if (action === undefined) throw new UsageError(`approvals: say what to do: ${ACTIONS.join(", ")}`, "approvals");
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`approvals: unknown action '${action}'; use one of ${ACTIONS.join(", ")}`, "approvals");
  const a = action as Action;
  if (a === "list") {
    if (id !== undefined) throw new UsageError(`approvals list: unexpected argument '${id}'`, "approvals");
  } else if (id === undefined || id === "") throw new UsageError(`approvals ${a}: the task ID is required`, "approvals");
  if (extra.length > 0) throw new UsageError(`approvals ${a}: unexpected argument '${extra[0]}'`, "approvals");
  const only = (option: string, allowed: readonly Action[], given: unknown): void => {
    if (given !== undefined && given !== false && !allowed.includes(a)) throw new UsageError(`approvals ${a}: --${option} applies to ${allowed.join(" and ")} only`, "approvals");
  };
  only("status", ["list"], v.status);
  only("agent", ["list"], v.agent);
  only("user", ["list"], v.user);
  only("limit", ["list"], v.limit);
  only("watch", ["list"], v.watch);
  only("approver", ["approve", "deny"], v.approver);
  only("comment", ["approve", "deny"], v.comment);
  only("by", ["cancel"], v.by);
  if (v.after !== undefined && !v.watch) throw new UsageError("approvals: --after goes with list --watch", "approvals");
  if (v.status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(v.status)) {
    throw new UsageError(`approvals list: --status must be one of ${APPROVAL_STATUSES.join(", ")}, got '${v.status}'`, "approvals");
  }
  const limit = intOption("approvals", "limit", v.limit);
  if (limit !== undefined && limit < 1) throw new UsageError("approvals list: --limit must be at least 1", "approvals");
  if (v.watch && v.status !== undefined) throw new UsageError("approvals list: --watch shows every transition; filter with --agent and --user", "approvals");
  return {
    action: a,
    id: id ?? "",
    output,
    status: v.status as ApprovalStatus | undefined,
    agent: v.agent,
    user: v.user,
    limit,
    watch: v.watch,
    after: v.after ?? "",
    approver: v.approver,
    comment: v.comment,
    by: v.by,
  };
}

/** `agent-auth --server H:P approvals list|show|approve|deny|cancel …`. */
export async function approvalsCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const a = parseApprovalsArgs(args);
  if (g.server === undefined) throw new UsageError("approvals: needs --server HOST:PORT (or AGENT_AUTH_SERVER): approval tasks live on the server", "approvals");
  const client = serverClient(g);
  try {
    const print = (t: ApprovalTask): void => io.stdout(a.output === "json" ? JSON.stringify(approvalView(t), null, 2) + "\n" : taskText(io, approvalView(t)));
    switch (a.action) {
      case "list": {
        if (a.watch) return await watch(io, a, client.approvals.watch.bind(client.approvals));
        const tasks: ApprovalTask[] = [];
        let after = "";
        do {
          const page = await client.approvals.list(
            { ...(a.status === undefined ? {} : { status: a.status }), ...(a.agent === undefined ? {} : { agent: a.agent }), ...(a.user === undefined ? {} : { user: a.user }) },
            { after, limit: Math.min(1000, a.limit === undefined ? 1000 : a.limit - tasks.length) },
          );
          tasks.push(...page.tasks);
          after = page.next;
        } while (after !== "" && (a.limit === undefined || tasks.length < a.limit));
        const views = tasks.map(approvalView);
        io.stdout(a.output === "json" ? JSON.stringify(views, null, 2) + "\n" : taskTable(io, views));
        return EXIT_OK;
      }
      case "show": {
        const t = await client.approvals.get(a.id);
        if (t === undefined) {
          io.stderr(`Error: approval '${a.id}' not found\n`);
          return EXIT_FAILURE;
        }
        print(t);
        return EXIT_OK;
      }
      case "approve":
      case "deny": {
        const t = await client.approvals.decide({ id: a.id, approve: a.action === "approve", approver: a.approver, comment: a.comment });
        print(t);
        return EXIT_OK;
      }
      case "cancel": {
        print(await client.approvals.cancel(a.id, a.by));
        return EXIT_OK;
      }
    }
  } finally {
    client.close();
  }
}

/** Follows transitions until Ctrl-C, resuming after reconnections. */
async function watch(
  io: CliIo,
  a: ReturnType<typeof parseApprovalsArgs>,
  subscribe: (o: { agents: string[]; users: string[]; afterCursor: string }, r: { signal: AbortSignal }) => AsyncIterable<ApprovalEventRecord>,
): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await followStream<ApprovalEventRecord>({
      subscribe: (afterCursor, signal) => subscribe({ agents: a.agent === undefined ? [] : [a.agent], users: a.user === undefined ? [] : [a.user], afterCursor }, { signal }),
      after: a.after,
      signal: controller.signal,
      print: (e) => {
        const view = { cursor: e.cursor, time: e.time, event: e.kind.replace(/^approval_/, ""), decision_id: e.decisionId, approval: approvalView(e.task) };
        io.stdout(a.output === "json" ? JSON.stringify(view) + "\n" : watchLine(io, view));
      },
      note: (line) => io.stderr(line + "\n"),
    });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

function statusText(io: CliIo, status: string): string {
  const fn = status === "approved" ? green : status === "pending" ? yellow : status === "denied" ? red : dim;
  return paint(io.color, fn, status);
}

function taskText(io: CliIo, t: ApprovalView): string {
  const lines = [
    `${paint(io.color, bold, `Approval ${t.id}`)}: ${statusText(io, t.status)}`,
    `  Request: ${t.agent} → ${t.action}${t.resource === "" ? "" : ` on ${t.resource}`} for ${t.user}${t.scope === "" ? "" : ` (scope ${t.scope})`}`,
    `  Tier: ${t.tier}${t.approval_policy === "" ? "" : ` (approval policy ${t.approval_policy})`}`,
    `  Requested by: ${t.requested_by} at ${t.created_at}`,
  ];
  if (t.justification !== "") lines.push(`  Justification: ${t.justification}`);
  if (t.decided_by !== "") lines.push(`  Decided by: ${t.decided_by} at ${t.decided_at}`);
  if (t.comment !== "") lines.push(`  Comment: ${t.comment}`);
  lines.push(`  Expires: ${t.expires_at}`, `  Uses left: ${t.uses_left} of ${t.max_uses}`);
  return lines.join("\n") + "\n";
}

function taskTable(io: CliIo, tasks: readonly ApprovalView[]): string {
  if (tasks.length === 0) return paint(io.color, dim, "No approvals found.") + "\n";
  const rows = tasks.map((t) => [t.id, t.status, t.tier, t.agent, t.user, t.action, t.resource, t.requested_by, t.expires_at.slice(0, 19)]);
  return `${paint(io.color, bold, `Approvals (${tasks.length})`)}\n${renderTable(["ID", "Status", "Tier", "Agent", "User", "Action", "Resource", "Requested by", "Expires"], rows, io.color)}`;
}

function watchLine(io: CliIo, e: { cursor: string; time: string; event: string; approval: ApprovalView }): string {
  const t = e.approval;
  return `${e.time}  ${e.event.padEnd(9)}  ${t.id}  ${statusText(io, t.status)}  ${t.agent} → ${t.action} for ${t.user}${t.decided_by === "" ? "" : `  by ${t.decided_by}`}  ${paint(io.color, dim, `[${e.cursor}]`)}\n`;
}
