import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsonlFileSink } from "../../src/audit/jsonl-file-sink.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { basicConfig } from "../support/policies.ts";

const ORIGINAL_FIELDS = [
  "timestamp",
  "event_id",
  "agent",
  "user",
  "action",
  "resource",
  "allowed",
  "tier",
  "reason",
  "requires_approval",
  "approval_policy",
  "session_id",
  "scope",
  "target_agent",
  "evaluation_time_ms",
  "config_name",
  "config_version",
];

describe("JSONL audit file sink", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-audit-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (path: string): Record<string, unknown>[] =>
    readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

  it("writes the original's record fields plus decision_id and policy_revision", async () => {
    const path = join(dir, "nested", "audit.jsonl");
    const engine = new AuthEngine(basicConfig(), { audit: createJsonlFileSink(path) });
    const d = await engine.authorize({ agent: "assistant", user: "alice", action: "read", resource: 'doc "1"', targetAgent: null });
    await engine.close();
    const [record] = lines(path);
    expect(Object.keys(record!)).to.deep.equal([...ORIGINAL_FIELDS, "decision_id", "policy_revision"]);
    expect(record).to.deep.include({
      event_id: d.decisionId,
      decision_id: d.decisionId,
      agent: "assistant",
      resource: 'doc "1"',
      allowed: true,
      tier: "autonomous",
      session_id: null,
      target_agent: null,
      config_name: "unit-test",
      config_version: "1.0",
      policy_revision: engine.revision,
    });
    expect(Date.parse(record!["timestamp"] as string)).to.be.closeTo(Date.now(), 60_000);
  });

  it("batches writes off the decision path and loses nothing on close", async () => {
    const path = join(dir, "audit.jsonl");
    const sink = createJsonlFileSink(path);
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    const decisions = await Promise.all(Array.from({ length: 5000 }, (_, i) => engine.authorize({ agent: "assistant", user: `u${i}`, action: "read" })));
    await engine.close();
    const records = lines(path);
    expect(records.length).to.equal(5000);
    expect(records.map((r) => r["decision_id"])).to.deep.equal(decisions.map((d) => d.decisionId));
  });

  it("appends to an existing file", async () => {
    const path = join(dir, "audit.jsonl");
    writeFileSync(path, '{"previous":true}\n');
    const engine = new AuthEngine(basicConfig(), { audit: createJsonlFileSink(path) });
    await engine.authorize({ agent: "assistant", user: "alice", action: "read" });
    await engine.close();
    expect(lines(path).length).to.equal(2);
  });

  it("in sync mode returns a decision only once its line is written", async () => {
    const path = join(dir, "audit.jsonl");
    const engine = new AuthEngine(basicConfig(), { audit: createJsonlFileSink(path, { durability: "sync" }) });
    const d = await engine.authorize({ agent: "assistant", user: "alice", action: "read" });
    expect(lines(path).map((r) => r["decision_id"])).to.deep.equal([d.decisionId]);
    await engine.close();
  });

  it("denies in sync mode when the file cannot be written", async function () {
    this.timeout(120_000);
    const blocker = join(dir, "not-a-dir");
    writeFileSync(blocker, "");
    const errors: unknown[] = [];
    const engine = new AuthEngine(basicConfig(), {
      audit: createJsonlFileSink(join(blocker, "audit.jsonl"), { durability: "sync", onError: (e) => errors.push(e) }),
    });
    const d = await engine.authorize({ agent: "assistant", user: "alice", action: "read" });
    expect([d.allowed, d.reason]).to.deep.equal([false, "Audit log unavailable"]);
    expect(errors.length).to.be.greaterThan(0);
    // Closed before the directory goes: a sink left open would retry into the next test's files.
    await engine.close();
  });
});
