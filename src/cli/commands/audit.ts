import { readFileSync, writeFileSync } from "node:fs";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Effect } from "../../../gen/agentauth/v1/decision_pb.ts";
import type { AuditFilter } from "../../../gen/agentauth/v1/audit_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AuditFilterSchema } from "../../../gen/agentauth/v1/audit_pb.ts";
import { intOption } from "../args.ts";
import { outputMode, parseCommandArgs } from "../command-spec.ts";
import { auditSpec } from "../specs/audit.ts";
import { serverClient } from "../backend.ts";
import { followAudit } from "../follow.ts";
import type { GlobalOptions } from "../global-options.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from "../io.ts";
import { loadPolicyOrReport } from "../load-policy.ts";
import { bold, dim, green, paint, red, renderTable } from "../table.ts";
import { auditViewOf, type AuditView } from "../views.ts";

interface AuditArgs {
  since: string | undefined;
  until: string | undefined;
  /** The newest N instead of the first `limit`. */
  last: number | undefined;
  agent: string | undefined;
  user: string | undefined;
  action: string | undefined;
  effect: "allow" | "deny" | undefined;
  limit: number;
}

/**
 * `agent-auth audit [filters] [-o json] [--output-file F]`: past decisions —
 * from the local audit file, or from a server's stream with --server.
 * `audit --follow [--after CURSOR]`: live decisions from a server.
 */
export async function auditCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const v = parseCommandArgs(auditSpec, args).values;
  const output = outputMode("audit", v.output);
  const effect = v.effect;
  if (effect !== undefined && effect !== "allow" && effect !== "deny") throw new UsageError(`audit: --effect must be 'allow' or 'deny', got '${effect}'`, "audit");
  for (const [name, value] of [["since", v.since], ["until", v.until]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) throw new UsageError(`audit: --${name} must be an ISO timestamp, got '${value}'`, "audit");
  }
  const last = intOption("audit", "last", v.last);
  if (last !== undefined && last < 1) throw new UsageError("audit: --last must be >= 1", "audit");
  const a: AuditArgs = { since: iso(v.since), until: iso(v.until), last, agent: v.agent, user: v.user, action: v.action, effect, limit: last ?? intOption("audit", "limit", v.limit) ?? 1000 };
  if (a.limit < 1) throw new UsageError("audit: --limit must be >= 1", "audit");

  if (v.follow) {
    if (g.server === undefined) throw new UsageError("audit --follow needs --server HOST:PORT (live decisions come from a running server)", "audit");
    return follow(io, g, a, v.after ?? "", output);
  }
  let entries: AuditView[];
  if (g.server !== undefined) entries = await queryServer(g, a);
  else {
    const loaded = loadPolicyOrReport(io, g.configPath);
    if (loaded === undefined) return EXIT_FAILURE;
    entries = readAuditFile(loaded.config.audit.path, a);
  }
  if (v["output-file"] !== undefined) {
    writeFileSync(v["output-file"], JSON.stringify(entries, null, 2) + "\n");
    io.stdout(`Exported ${entries.length} entries to ${v["output-file"]}\n`);
  } else if (output === "json") {
    io.stdout(JSON.stringify(entries, null, 2) + "\n");
  } else {
    io.stdout(auditTable(io, entries));
  }
  return EXIT_OK;
}

/** The first `limit` matching records of a JSONL audit file (malformed lines skipped), as the original read them. */
function readAuditFile(path: string, a: AuditArgs): AuditView[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const out: AuditView[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let e: AuditView;
    try {
      e = JSON.parse(line) as AuditView;
    } catch {
      continue;
    }
    const time = String(e["timestamp"] ?? "");
    if (a.since !== undefined && time < a.since) continue;
    if (a.until !== undefined && time > a.until) continue;
    if (a.agent !== undefined && e["agent"] !== a.agent) continue;
    if (a.user !== undefined && e["user"] !== a.user) continue;
    if (a.action !== undefined && e["action"] !== a.action) continue;
    if (a.effect !== undefined && e["allowed"] !== (a.effect === "allow")) continue;
    out.push(e);
    // --last keeps the newest N seen so far; otherwise the first `limit` are enough.
    if (a.last !== undefined) {
      if (out.length > a.last) out.shift();
    } else if (out.length >= a.limit) break;
  }
  return out;
}

function filterOf(a: AuditArgs): MessageInitShape<typeof AuditFilterSchema> {
  return {
    agents: a.agent === undefined ? [] : [a.agent],
    users: a.user === undefined ? [] : [a.user],
    actions: a.action === undefined ? [] : [a.action],
    effect: a.effect === "allow" ? Effect.ALLOW : a.effect === "deny" ? Effect.DENY : Effect.UNSPECIFIED,
  } satisfies Partial<AuditFilter>;
}

async function queryServer(g: GlobalOptions, a: AuditArgs): Promise<AuditView[]> {
  const client = serverClient(g);
  try {
    const out: AuditView[] = [];
    let pageToken = "";
    do {
      const r = await client.audit.query({
        filter: filterOf(a),
        ...(a.since === undefined ? {} : { since: timestampFromMs(Date.parse(a.since)) }),
        ...(a.until === undefined ? {} : { until: timestampFromMs(Date.parse(a.until)) }),
        pageSize: Math.min(1000, a.limit - out.length),
        pageToken,
        newestFirst: a.last !== undefined,
      });
      out.push(...r.events.map(auditViewOf));
      pageToken = r.nextPageToken;
    } while (pageToken !== "" && out.length < a.limit);
    // The newest N arrive newest first; shown oldest first like every listing.
    return a.last === undefined ? out : out.reverse();
  } finally {
    client.close();
  }
}

/** Streams live decisions until interrupted, reconnecting and resuming by cursor whenever the stream breaks. */
async function follow(io: CliIo, g: GlobalOptions, a: AuditArgs, after: string, output: "console" | "json"): Promise<number> {
  const client = serverClient(g);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await followAudit({
      subscribe: (afterCursor, signal) => client.audit.subscribe({ filter: filterOf(a), afterCursor }, { signal, deadlineMs: Infinity }),
      after,
      signal: controller.signal,
      print: (event) => {
        const e = auditViewOf(event);
        io.stdout(output === "json" ? JSON.stringify(e) + "\n" : followLine(io, e));
      },
      note: (line) => io.stderr(line + "\n"),
    });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    client.close();
  }
}

function followLine(io: CliIo, e: AuditView): string {
  const allowed = e["allowed"] === true;
  const verdict = allowed ? paint(io.color, green, "ALLOW") : paint(io.color, red, "DENY ");
  return `${String(e["timestamp"])}  ${verdict}  ${String(e["agent"])} → ${String(e["action"])} for ${String(e["user"])}  ${paint(io.color, dim, String(e["reason"]))}  [${String(e["cursor"] ?? "")}]\n`;
}

function auditTable(io: CliIo, entries: readonly AuditView[]): string {
  if (entries.length === 0) return paint(io.color, dim, "No audit entries found.") + "\n";
  const shown = entries.slice(-50);
  const rows = shown.map((e) => {
    const reason = String(e["reason"] ?? "");
    return [
      String(e["timestamp"] ?? "").slice(0, 19),
      String(e["agent"] ?? ""),
      String(e["user"] ?? ""),
      String(e["action"] ?? ""),
      String(e["resource"] ?? "") || "-",
      String(e["scope"] ?? "") || "-",
      e["allowed"] === true ? paint(io.color, green, "allow") : paint(io.color, red, "deny"),
      String(e["tier"] ?? "autonomous"),
      reason.length > 60 ? reason.slice(0, 57) + "..." : reason,
      String(e["decision_id"] ?? ""),
    ];
  });
  const note = entries.length > shown.length ? ` (last ${shown.length} shown)` : "";
  return `${paint(io.color, bold, `Audit log (${entries.length} entries)${note}`)}\n${renderTable(["Timestamp", "Agent", "User", "Action", "Resource", "Scope", "Decision", "Tier", "Reason", "Decision ID"], rows, io.color)}`;
}

/** An ISO time normalised to the records' form (`…T07:30:34.123Z`) so text comparison orders it. */
function iso(value: string | undefined): string | undefined {
  return value === undefined ? undefined : new Date(Date.parse(value)).toISOString();
}
