import { performance } from "node:perf_hooks";
import { Effect, type AuditEvent } from "../../client/index.ts";
import { tierName } from "../../client/names.ts";
import { forEachRecordedDecision, PolicyReplayer, type RecordedDecision, type ReplayKind } from "../../engine/replay.ts";
import type { RequestMetadata } from "../../model/types.ts";
import { compilePolicy } from "../../policy/index.ts";
import { intOption } from "../args.ts";
import { serverClient } from "../backend.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { loadPolicyOrReport, printWarnings } from "../load-policy.ts";
import { replaySpec } from "../specs/replay.ts";
import { bold, green, paint, red, yellow } from "../table.ts";

const KINDS: readonly ReplayKind[] = ["unchanged", "newly_denied", "newly_allowed", "tier_raised", "tier_lowered", "reason_changed", "not_replayable"];
const LOOSENED: readonly ReplayKind[] = ["newly_allowed", "tier_lowered"];
const CHANGED: readonly ReplayKind[] = ["newly_denied", "newly_allowed", "tier_raised", "tier_lowered", "reason_changed"];
const STATE_NOTE = "State is taken as recorded: a session check that failed fails again, one that passed passes, and a delegation that allowed still covers the action.";

interface Example {
  request: Record<string, unknown>;
  before: { allowed: boolean; tier: string; reason: string; approval_policy: string };
  after: { allowed: boolean; tier: string; reason: string; approval_policy: string } | null;
  rule: string;
}

/**
 * `agent-auth -c NEW.yaml replay [--audit FILE | --server H:P [--since C]]
 * [--fail-on loosened|changed]`: re-decides recorded requests with the new
 * policy and reports what would change; exit 1 when --fail-on matches.
 */
export async function replayCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(replaySpec, args).values;
  const output = outputMode("replay", v.output);
  const failOn = v["fail-on"];
  if (failOn !== undefined && failOn !== "loosened" && failOn !== "changed") throw new UsageError(`replay: --fail-on must be 'loosened' or 'changed', got '${failOn}'`, "replay");
  if (v.since !== undefined && g.server === undefined) throw new UsageError("replay: --since reads a server's history: give --server", "replay");
  if (v.audit !== undefined && g.server !== undefined) throw new UsageError("replay: use --audit FILE or --server, not both", "replay");
  const perKind = intOption("replay", "examples", v.examples) ?? 3;
  const loaded = loadPolicyOrReport(io, g.configPath);
  if (loaded === undefined) return EXIT_FAILURE;
  if (output === "console") printWarnings(io, loaded.warnings);
  const policy = compilePolicy(loaded.config);
  const replayer = new PolicyReplayer(policy);
  const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<ReplayKind, number>;
  const whyNot = new Map<string, number>();
  const examples = Object.fromEntries(KINDS.filter((k) => k !== "unchanged").map((k) => [k, [] as Example[]])) as Record<string, Example[]>;
  let skipped = 0;
  const visit = (r: RecordedDecision | undefined): void => {
    if (r === undefined) {
      skipped++;
      return;
    }
    const result = replayer.replay(r);
    counts[result.kind]++;
    if (result.why !== undefined && result.kind === "not_replayable") whyNot.set(result.why, (whyNot.get(result.why) ?? 0) + 1);
    const list = examples[result.kind];
    if (list === undefined || list.length >= perKind) return;
    const d = result.decision;
    list.push({
      request: requestOf(r),
      before: { allowed: r.allowed, tier: r.tier, reason: r.reason, approval_policy: r.approvalPolicy },
      after: d === undefined ? null : { allowed: d.allowed, tier: d.tier, reason: d.reason, approval_policy: d.approvalPolicy },
      rule: d === undefined ? (result.why ?? "") : replayer.responsibleRule(r) + (result.why === undefined ? "" : ` (${result.why})`),
    });
  };
  const started = performance.now();
  let source: string;
  const malformed = 0;
  if (g.server !== undefined) {
    source = `${g.server} (audit history${v.since === undefined ? "" : ` after ${v.since}`})`;
    const client = serverClient(g);
    try {
      let pageToken = v.since ?? "";
      do {
        const page = await client.audit.query({ pageSize: 1000, pageToken });
        for (const e of page.events) visit(recordedFromEvent(e));
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
    } finally {
      client.close();
    }
  } else {
    const file = v.audit ?? loaded.config.audit.path;
    source = file;
    try {
      forEachRecordedDecision(file, visit);
    } catch (error) {
      io.stderr(`Error: cannot read the audit file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      return EXIT_FAILURE;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const total = KINDS.reduce((n, k) => n + counts[k], 0);
  const failing = failOn === undefined ? 0 : (failOn === "loosened" ? LOOSENED : CHANGED).reduce((n, k) => n + counts[k], 0);
  if (output === "json") {
    io.stdout(
      JSON.stringify(
        { source, policy: g.configPath, revision: policy.revision, records: total, malformed: malformed + skipped, counts, not_replayable: Object.fromEntries(whyNot), examples, fail_on: failOn ?? null, failed: failing > 0, note: STATE_NOTE },
        null,
        2,
      ) + "\n",
    );
  } else {
    const c = io.color;
    const rate = seconds > 0 ? ` (${Math.round(total / seconds).toLocaleString("en-US")} records/s)` : "";
    const lines = [`Replayed ${total.toLocaleString("en-US")} records from ${source} against ${g.configPath} (revision ${policy.revision}) in ${seconds.toFixed(2)} s${rate}`, STATE_NOTE, ""];
    const label = (k: ReplayKind): string => k.replace("_", " ");
    for (const k of KINDS) {
      const colour = counts[k] === 0 || k === "unchanged" ? (s: string) => s : LOOSENED.includes(k) ? red : yellow;
      lines.push(`  ${label(k).padEnd(16)} ${paint(c, colour, String(counts[k]).padStart(9))}`);
    }
    for (const [why, n] of whyNot) lines.push(`      ${n} not replayable: ${why}`);
    if (malformed + skipped > 0) lines.push(`  ${"skipped lines".padEnd(16)} ${String(malformed + skipped).padStart(9)} (not decision records)`);
    for (const k of KINDS) {
      const list = examples[k];
      if (list === undefined || list.length === 0) continue;
      lines.push("", paint(c, bold, `${label(k)} (${counts[k]}; ${list.length} shown):`));
      for (const e of list) {
        const r = e.request;
        lines.push(`  ${String(r["agent"])} for ${String(r["user"])}: ${String(r["action"])}${r["resource"] ? ` ${String(r["resource"])}` : ""}${r["scope"] ? ` [scope ${String(r["scope"])}]` : ""}${r["target_agent"] ? ` → ${String(r["target_agent"])}` : ""}`);
        lines.push(`    before: ${verdict(e.before)}`);
        if (e.after !== null) lines.push(`    after:  ${verdict(e.after)}`);
        if (e.rule !== "") lines.push(`    rule:   ${e.rule}`);
      }
    }
    if (failOn !== undefined) lines.push("", failing > 0 ? paint(c, red, `${failing} decisions ${failOn === "loosened" ? "loosened" : "changed"} (--fail-on ${failOn})`) : paint(c, green, `no decision ${failOn === "loosened" ? "loosened" : "changed"}`));
    io.stdout(lines.join("\n") + "\n");
  }
  return failing > 0 ? EXIT_FAILURE : EXIT_OK;
}

function verdict(d: { allowed: boolean; tier: string; reason: string; approval_policy: string }): string {
  return `${d.allowed ? "ALLOW" : "DENY"} (${d.tier}${d.approval_policy === "" ? "" : `, ${d.approval_policy}`}) ${d.reason}`;
}

function requestOf(r: RecordedDecision): Record<string, unknown> {
  const q = r.request;
  return {
    agent: q.agent,
    user: q.user,
    action: q.action,
    resource: q.resource,
    scope: q.scope,
    session_id: q.sessionId || null,
    target_agent: q.targetAgent || null,
    ...(r.hasMetadata ? { metadata: q.metadata } : {}),
  };
}

/** A decision from a server's audit history. */
function recordedFromEvent(e: AuditEvent): RecordedDecision | undefined {
  const d = e.decision;
  if (d === undefined) return undefined;
  return {
    request: {
      agent: e.agent,
      user: e.user,
      action: e.action,
      resource: e.resource,
      scope: e.scope,
      sessionId: e.sessionId,
      targetAgent: e.targetAgent,
      metadata: (e.metadata ?? Object.create(null)) as RequestMetadata,
    },
    hasMetadata: e.metadata !== undefined,
    allowed: d.effect === Effect.ALLOW,
    tier: tierName(d.tier),
    reason: d.reason,
    approvalPolicy: d.approvalPolicy,
  };
}
