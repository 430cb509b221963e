import type { JsonObject } from "@bufbuild/protobuf";
import { AuthEngine } from "../../engine/auth-engine.ts";
import { createMemoryStore } from "../../state/memory/memory-store.ts";
import { metadataOption, requireOption } from "../args.ts";
import { auditFileSink } from "../audit-file.ts";
import { serverClient } from "../backend.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { approvalFromWire, Code, isClientError, type AgentAuthClient } from "../../client/index.ts";
import { loadPolicyOrReport, printWarnings } from "../load-policy.ts";
import { checkSpec } from "../specs/check.ts";
import { requestOptions } from "../specs/request-options.ts";
import { bold, green, paint, red, yellow } from "../table.ts";
import { decisionView, decisionViewOf, type DecisionView } from "../views.ts";
import { explainLocally, explainRemotely, printExplanation } from "./explain.ts";

/** The request `check` and `explain` ask about, from their (shared) options. */
export function requestFromValues(command: string, v: { [K in keyof typeof requestOptions]?: unknown }) {
  return {
    agent: requireOption(command, "agent", v.agent),
    user: requireOption(command, "user", v.user),
    action: requireOption(command, "action", v.action),
    resource: typeof v.resource === "string" ? v.resource : "",
    scope: typeof v.scope === "string" ? v.scope : "",
    targetAgent: typeof v["target-agent"] === "string" ? v["target-agent"] : null,
    sessionId: typeof v.session === "string" ? v.session : null,
    metadata: metadataOption(command, v.metadata),
  };
}

/** The request as the gRPC messages take it. */
export function wireRequest(request: ReturnType<typeof requestFromValues>) {
  return {
    agent: request.agent,
    user: request.user,
    action: request.action,
    resource: request.resource,
    scope: request.scope,
    targetAgent: request.targetAgent ?? "",
    sessionId: request.sessionId ?? "",
    metadata: request.metadata as JsonObject,
  };
}

/**
 * `agent-auth -c FILE check --agent A --user U --action X …`: decides locally
 * (not recorded unless --audit), or asks the server with --server. Exit 1
 * when denied, and with --require-no-approval when approval is needed.
 */
export async function checkCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(checkSpec, args).values;
  const output = outputMode("check", v.output);
  const request = requestFromValues("check", v);
  const approvalId = v.approval;
  if (approvalId !== undefined && v["request-approval"]) throw new UsageError("check: --approval (redeem) and --request-approval (ask) do not go together", "check");
  if ((v.justification !== undefined || v["callback-url"] !== undefined) && !v["request-approval"]) {
    throw new UsageError(`check: --${v.justification !== undefined ? "justification" : "callback-url"} goes with --request-approval`, "check");
  }
  if (g.server === undefined && (approvalId !== undefined || v["request-approval"])) {
    throw new UsageError(`check: --${approvalId !== undefined ? "approval" : "request-approval"} needs --server: approvals live on the server`, "check");
  }
  if (approvalId === "") throw new UsageError("check: --approval needs the approval's ID", "check");
  let view: DecisionView;
  let explanation: unknown;
  if (g.server !== undefined) {
    const client = serverClient(g);
    try {
      view = v["request-approval"]
        ? await requestApproval(client, request, v.justification, v["callback-url"])
        : decisionViewOf((await client.authorization.authorize({ ...wireRequest(request), approvalId: approvalId ?? "" })).decision);
      if (v.explain) explanation = await explainRemotely(client, request);
    } finally {
      client.close();
    }
  } else {
    const loaded = loadPolicyOrReport(io, g.configPath);
    if (loaded === undefined) return EXIT_FAILURE;
    if (output === "console") printWarnings(io, loaded.warnings);
    const audit = loaded.config.audit;
    // A check is a question, not a decision anyone acted on: it stays off the record unless asked.
    const engine = new AuthEngine(loaded.config, {
      store: createMemoryStore(),
      audit: v.audit && audit.enabled ? [auditFileSink(io, audit)] : [],
    });
    try {
      view = decisionView(await engine.authorize(request));
      if (v.explain) explanation = await explainLocally(engine, request);
    } finally {
      await engine.close();
    }
  }
  if (output === "json") io.stdout(JSON.stringify(explanation === undefined ? view : { ...view, explanation }, null, 2) + "\n");
  else {
    printDecisionView(io, "console", view);
    if (explanation !== undefined) printExplanation(io, explanation);
  }
  if (!view.allowed) return EXIT_FAILURE;
  // An approval that could not be redeemed leaves the action waiting for approval: not a success.
  return (v["require-no-approval"] || approvalId !== undefined) && view.requires_approval ? EXIT_FAILURE : EXIT_OK;
}

/**
 * Asks the server for an approval of the request: the decision that demanded
 * it with the new task. A request that needs no approval, or is denied, is
 * not requestable: its decision is printed as a plain check would.
 */
async function requestApproval(client: AgentAuthClient, request: ReturnType<typeof requestFromValues>, justification: string | undefined, callbackUrl: string | undefined): Promise<DecisionView> {
  try {
    const r = await client.approvalService.requestApproval({ request: wireRequest(request), justification: justification ?? "", callbackUrl: callbackUrl ?? "" });
    const task = approvalFromWire(r.approval!);
    return { ...decisionViewOf(r.decision), approval: { id: task.id, status: task.status, expires_at: task.expiresAt } };
  } catch (error) {
    if (!isClientError(error) || error.code !== Code.FAILED_PRECONDITION || error.errorInfo?.reason !== "APPROVAL_NOT_REQUESTABLE") throw error;
    return decisionViewOf((await client.authorization.authorize(wireRequest(request))).decision);
  }
}

/** Prints a decision the way `check` does, for console or JSON. */
export function printDecisionView(io: CliIo, output: "console" | "json", d: DecisionView): void {
  if (output === "json") {
    io.stdout(JSON.stringify(d, null, 2) + "\n");
    return;
  }
  const c = io.color;
  let head = d.allowed ? paint(c, (s) => bold(green(s)), "ALLOWED") : paint(c, (s) => bold(red(s)), "DENIED");
  if (d.requires_approval) head = paint(c, (s) => bold(yellow(s)), `ALLOWED ONLY WITH ${d.tier.toUpperCase()} APPROVAL`);
  const lines = [head, `  Tier: ${d.tier}`, `  Reason: ${d.reason}`];
  if (d.approval_policy !== "") lines.push(`  Approval policy: ${d.approval_policy}`);
  if (d.decision_id !== "") lines.push(`  Decision: ${d.decision_id}`);
  if (d.approval_id !== undefined) {
    lines.push(d.approval_status === "" ? `  Approval: ${d.approval_id}, approved by ${d.approved_by ?? ""}` : `  Approval: ${d.approval_id} not used (${d.approval_status ?? ""})`);
  }
  if (d.approval !== undefined) lines.push(`  Approval requested: ${d.approval.id} (${d.approval.status}, expires ${d.approval.expires_at})`);
  lines.push(`  Policy revision: ${d.policy_revision}`, `  Evaluated in: ${d.evaluation_time_ms.toFixed(3)}ms`);
  io.stdout(lines.join("\n") + "\n");
}
