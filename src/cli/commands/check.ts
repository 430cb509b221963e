import { createJsonlFileSink } from "../../audit/jsonl-file-sink.ts";
import { AuthEngine } from "../../engine/auth-engine.ts";
import { createMemoryStore } from "../../state/memory/memory-store.ts";
import type { JsonObject } from "@bufbuild/protobuf";
import { serverClient } from "../backend.ts";
import type { GlobalOptions } from "../main.ts";
import { decisionView, decisionViewOf, type DecisionView } from "../views.ts";
import { metadataOption, outputMode, outputOption, parseCommandArgs, requireOption } from "../args.ts";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../io.ts";
import { loadPolicyOrReport, printWarnings } from "../load-policy.ts";
import { bold, green, paint, red, yellow } from "../table.ts";

/** The options of `check`, shared by the local and the remote form. */
export const checkOptions = {
  agent: { type: "string", short: "a" },
  user: { type: "string", short: "u" },
  action: { type: "string" },
  resource: { type: "string", short: "r", default: "" },
  scope: { type: "string", short: "s", default: "" },
  "target-agent": { type: "string" },
  session: { type: "string" },
  metadata: { type: "string", multiple: true },
  ...outputOption,
} as const;

/** The request `check` asks about, from its options. */
export function checkRequest(args: readonly string[]) {
  const v = parseCommandArgs("check", args, checkOptions);
  return {
    output: outputMode("check", v.output),
    request: {
      agent: requireOption("check", "agent", v.agent),
      user: requireOption("check", "user", v.user),
      action: requireOption("check", "action", v.action),
      resource: v.resource ?? "",
      scope: v.scope ?? "",
      targetAgent: v["target-agent"] ?? null,
      sessionId: v.session ?? null,
      metadata: metadataOption("check", v.metadata),
    },
  };
}

/**
 * `agent-auth -c FILE check --agent A --user U --action X …`: decides locally,
 * or asks the server with --server; exit 1 when denied.
 */
export async function checkCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const { output, request } = checkRequest(args);
  if (g.server !== undefined) {
    const client = serverClient(g);
    try {
      const r = await client.authorization.authorize({
        agent: request.agent,
        user: request.user,
        action: request.action,
        resource: request.resource,
        scope: request.scope,
        targetAgent: request.targetAgent ?? "",
        sessionId: request.sessionId ?? "",
        metadata: request.metadata as JsonObject,
      });
      const view = decisionViewOf(r.decision);
      printDecisionView(io, output, view);
      return view.allowed ? EXIT_OK : EXIT_FAILURE;
    } finally {
      client.close();
    }
  }
  const loaded = loadPolicyOrReport(io, g.configPath);
  if (loaded === undefined) return EXIT_FAILURE;
  if (output === "console") printWarnings(io, loaded.warnings);
  const audit = loaded.config.audit;
  const engine = new AuthEngine(loaded.config, {
    store: createMemoryStore(),
    audit: audit.enabled ? [createJsonlFileSink(audit.path, { durability: audit.durability })] : [],
  });
  try {
    const decision = await engine.authorize(request);
    printDecisionView(io, output, decisionView(decision));
    return decision.allowed ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await engine.close();
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
  if (d.requires_approval) head += "  " + paint(c, yellow, `(requires ${d.tier} approval)`);
  const lines = [head, `  Reason: ${d.reason}`];
  if (d.approval_policy !== "") lines.push(`  Approval policy: ${d.approval_policy}`);
  lines.push(`  Decision: ${d.decision_id}`, `  Policy revision: ${d.policy_revision}`, `  Evaluated in: ${d.evaluation_time_ms.toFixed(3)}ms`);
  io.stdout(lines.join("\n") + "\n");
}
