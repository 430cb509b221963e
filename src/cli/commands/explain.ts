import type { AgentAuthClient } from "../../client/index.ts";
import type { AuthEngine } from "../../engine/auth-engine.ts";
import { createMemoryStore } from "../../state/memory/memory-store.ts";
import { AuthEngine as Engine } from "../../engine/auth-engine.ts";
import { serverClient } from "../backend.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../io.ts";
import { loadPolicyOrReport, printWarnings } from "../load-policy.ts";
import { explainSpec } from "../specs/explain.ts";
import { bold, dim, green, paint, red, yellow } from "../table.ts";
import { decisionViewOf } from "../views.ts";
import { requestFromValues, wireRequest } from "./check.ts";

/** An explanation as the CLI prints it (`-o json`): the same shape locally and from a server. */
export interface ExplanationView {
  readonly decision: { allowed: boolean; tier: string; reason: string; requires_approval: boolean; approval_policy: string; policy_revision: string };
  readonly steps: readonly { step: string; outcome: string; summary: string; details: Record<string, unknown> }[];
  readonly notes: readonly string[];
}

const LOCAL_NOTE = "explained locally: only sessions and delegations created in this process exist (none), so a named session is invalid; use --server for live state";

/** The explanation of a request by a local engine (nothing recorded). */
export async function explainLocally(engine: AuthEngine, request: ReturnType<typeof requestFromValues>): Promise<ExplanationView> {
  const e = await engine.explain(request);
  return { decision: { ...e.decision }, steps: e.steps.map((s) => ({ ...s, details: { ...s.details } })), notes: [...e.notes, ...(request.sessionId === null ? [] : [LOCAL_NOTE])] };
}

/** The explanation of a request by a server (PolicyService.Explain). */
export async function explainRemotely(client: AgentAuthClient, request: ReturnType<typeof requestFromValues>): Promise<ExplanationView> {
  const r = await client.policy.explain({ request: wireRequest(request) });
  const d = decisionViewOf(r.decision);
  return {
    decision: { allowed: d.allowed, tier: d.tier, reason: d.reason, requires_approval: d.requires_approval, approval_policy: d.approval_policy, policy_revision: d.policy_revision },
    steps: r.steps.map((s) => ({ step: s.step, outcome: s.outcome, summary: s.summary, details: { ...s.details } })),
    notes: [...r.notes],
  };
}

const MARKS: Readonly<Record<string, string>> = { pass: "✓", allow: "✓", found: "•", match: "!", deny: "✗", error: "✗", missing: "•", none: "·", no_match: "·", skip: "-", set: "→" };

/** Prints an explanation's steps, one line each (condition details indented below). */
export function printExplanation(io: CliIo, view: unknown): void {
  const e = view as ExplanationView;
  const c = io.color;
  const lines: string[] = [paint(c, bold, "Path of the decision:")];
  for (const s of e.steps) {
    const mark = MARKS[s.outcome] ?? "•";
    const colour = s.outcome === "deny" || s.outcome === "error" ? red : s.outcome === "allow" || s.outcome === "pass" ? green : s.outcome === "match" ? yellow : dim;
    lines.push(`  ${paint(c, colour, mark)} ${s.step.padEnd(16)} ${s.summary}`);
    const conditionSteps = s.details["steps"];
    if (Array.isArray(conditionSteps)) for (const t of conditionSteps) lines.push(`      ${paint(c, dim, String(t))}`);
  }
  for (const n of e.notes) lines.push(paint(c, dim, `  note: ${n}`));
  io.stdout(lines.join("\n") + "\n");
}

/**
 * `agent-auth explain --agent A --user U --action X …`: the path of the
 * decision, locally or from the server (never recorded). Exit 0 when the
 * request would be allowed, 1 when denied.
 */
export async function explainCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(explainSpec, args).values;
  const output = outputMode("explain", v.output);
  const request = requestFromValues("explain", v);
  let view: ExplanationView;
  if (g.server !== undefined) {
    const client = serverClient(g);
    try {
      view = await explainRemotely(client, request);
    } finally {
      client.close();
    }
  } else {
    const loaded = loadPolicyOrReport(io, g.configPath);
    if (loaded === undefined) return EXIT_FAILURE;
    if (output === "console") printWarnings(io, loaded.warnings);
    const engine = new Engine(loaded.config, { store: createMemoryStore() });
    try {
      view = await explainLocally(engine, request);
    } finally {
      await engine.close();
    }
  }
  if (output === "json") io.stdout(JSON.stringify(view, null, 2) + "\n");
  else {
    printExplanation(io, view);
    const d = view.decision;
    const head = !d.allowed ? paint(io.color, red, "DENIED") : d.requires_approval ? paint(io.color, yellow, `ALLOWED ONLY WITH ${d.tier.toUpperCase()} APPROVAL`) : paint(io.color, green, "ALLOWED");
    io.stdout(`${paint(io.color, bold, "Decision:")} ${head} (tier ${d.tier}${d.approval_policy === "" ? "" : `, approval policy ${d.approval_policy}`})\n  Reason: ${d.reason}\n`);
  }
  return view.decision.allowed ? EXIT_OK : EXIT_FAILURE;
}
