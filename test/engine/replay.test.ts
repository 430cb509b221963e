import { expect } from "chai";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditEvent } from "../../src/audit/event.ts";
import { createJsonlFileSink } from "../../src/audit/jsonl-file-sink.ts";
import { encodeAuditRecord } from "../../src/audit/record-bytes.ts";
import { parseConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/engine/auth-engine.ts";
import { forEachRecordedDecision, PolicyReplayer, recordedDecisionOf, type RecordedDecision } from "../../src/engine/replay.ts";
import { AuthDecision, type ApprovalTier } from "../../src/model/types.ts";
import { compilePolicy } from "../../src/policy/index.ts";
import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import { fuzzRuns, fuzzSeed } from "../support/fuzz.ts";

const OLD = `
roles: {reader: {actions: [read]}}
profiles:
  bot: {role: reader, allow: [pay], deny: [delete]}
approval_policies:
  - {name: big, condition: 'action == "pay" and amount > 100', tier: strong}
audit: {enabled: true, path: x, include_metadata: true}
`;
const NEW = `
roles: {reader: {actions: [read, delete]}}
profiles:
  bot: {role: reader, allow: [pay, write], deny: ["pay:*"], default_tier: soft}
approval_policies:
  - {name: big, condition: 'action == "pay" and amount > 1000', tier: strong}
audit: {enabled: false}
`;

async function record(policy: string, dir: string, requests: Parameters<AuthEngine["authorize"]>[0][]): Promise<string> {
  const file = join(dir, `audit-${Math.random().toString(36).slice(2)}.jsonl`);
  const engine = new AuthEngine(parseConfig(policy, { env: {} }), { store: createMemoryStore(), audit: [createJsonlFileSink(file)] });
  for (const r of requests) await engine.authorize(r);
  await engine.close();
  return file;
}

function replayAll(file: string, policy: string): Record<string, number> {
  const replayer = new PolicyReplayer(compilePolicy(parseConfig(policy, { env: {} })));
  const counts: Record<string, number> = {};
  forEachRecordedDecision(file, (r) => {
    const k = r === undefined ? "skipped" : replayer.replay(r).kind;
    counts[k] = (counts[k] ?? 0) + 1;
  });
  return counts;
}

describe("replay (re-deciding recorded requests with another policy)", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "agent-auth-replay-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("sorts recorded decisions by what the new policy would change", async () => {
    const file = await record(OLD, dir, [
      { agent: "bot", user: "u", action: "read" }, // allowed → allowed, but soft now: tier raised
      { agent: "bot", user: "u", action: "delete" }, // denied → allowed by the role now
      { agent: "bot", user: "u", action: "pay", metadata: { amount: 500 } }, // strong → soft: tier lowered
      { agent: "bot", user: "u", action: "pay", metadata: { amount: 5000 } }, // strong → strong: unchanged
      { agent: "other", user: "u", action: "read" }, // denied → denied: unchanged
    ]);
    writeFileSync(file, "not json\n{\"also\": \"not a decision\"}\n", { flag: "a" });
    expect(replayAll(file, NEW)).to.deep.equal({ tier_raised: 1, newly_allowed: 1, tier_lowered: 1, unchanged: 2, skipped: 2 });
    expect(replayAll(file, OLD)).to.deep.equal({ unchanged: 5, skipped: 2 });
  });

  it("counts a record without metadata as not replayable exactly when the new decision reads metadata", async () => {
    const file = await record(OLD.replace(", include_metadata: true", ""), dir, [
      { agent: "bot", user: "u", action: "pay", metadata: { amount: 500 } }, // the approval policy reads amount
      { agent: "bot", user: "u", action: "read" }, // "big" is indexed by action: never evaluated for read
      { agent: "bot", user: "u", action: "delete" }, // denied in both: no condition runs
    ]);
    expect(replayAll(file, OLD)).to.deep.equal({ not_replayable: 1, unchanged: 2 });
  });

  it("takes state as recorded: session denials stay, delegations still cover, failures and providers are not replayable", () => {
    const replayer = new PolicyReplayer(compilePolicy(parseConfig(NEW, { env: {} })));
    const base: RecordedDecision = {
      request: { agent: "bot", user: "u", action: "read", resource: "", scope: "", sessionId: "s", targetAgent: "", metadata: {} },
      hasMetadata: true,
      allowed: false,
      tier: "autonomous",
      reason: "Invalid or expired session",
      approvalPolicy: "",
    };
    expect(replayer.replay(base).kind).to.equal("unchanged");
    const delegated = { ...base, request: { ...base.request, agent: "helper", action: "deploy", sessionId: "" }, allowed: true, reason: "Delegated by user 'u'" };
    expect(replayer.replay(delegated)).to.deep.include({ kind: "unchanged" });
    expect(replayer.replay({ ...base, reason: "State store unavailable" }).kind).to.equal("not_replayable");
    expect(replayer.replay({ ...base, allowed: true, reason: "Allowed by user permissions" }).kind).to.equal("not_replayable");
    expect(replayer.responsibleRule({ ...base, request: { ...base.request, action: "delete", sessionId: "" } })).to.contain("pattern 'delete' of role 'reader'");
  });

  it("reads exactly what JSON.parse reads from any record line (fast field reader, with its fallback)", () => {
    const file = join(dir, "lines.jsonl");
    const piece = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('"', "\\", "\n", "é", "🙂", ',"metadata":', '"agent":"x"'));
    const str = fc.array(piece, { maxLength: 3 }).map((p) => p.join(""));
    const nonEmpty = str.filter((s) => s !== "");
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            agent: nonEmpty, user: nonEmpty, action: nonEmpty, resource: str, scope: str, sessionId: str, targetAgent: str, reason: str, policy: str,
            allowed: fc.boolean(), tier: fc.constantFrom<ApprovalTier>("autonomous", "soft", "strong"),
            metadata: fc.option(fc.dictionary(str, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (rows) => {
          const lines = rows.map((v) => {
            const e: AuditEvent = {
              time: 1_700_000_000_000,
              request: { agent: v.agent, user: v.user, action: v.action, resource: v.resource, scope: v.scope, sessionId: v.sessionId, targetAgent: v.targetAgent, metadata: {} },
              decision: new AuthDecision(v.allowed, v.tier, v.reason, false, v.policy, 0.5, "id", "rev"),
              configName: "n",
              configVersion: "1.0",
              ...(v.metadata === undefined ? {} : { metadata: v.metadata }),
            };
            return encodeAuditRecord(e).line.toString("utf8");
          });
          writeFileSync(file, lines.join("\n") + "\n");
          const got: (RecordedDecision | undefined)[] = [];
          forEachRecordedDecision(file, (r) => got.push(r));
          expect(JSON.parse(JSON.stringify(got))).to.deep.equal(JSON.parse(JSON.stringify(lines.map((l) => recordedDecisionOf(JSON.parse(l) as Record<string, unknown>)))));
        },
      ),
      { numRuns: fuzzRuns(300), seed: fuzzSeed(171) },
    );
  });
});
