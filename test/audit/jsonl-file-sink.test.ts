import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditEvent } from "../../src/audit/event.ts";
import { createJsonlFileSink } from "../../src/audit/jsonl-file-sink.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { fullDisk, type FullDisk } from "../support/full-disk.ts";
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
    // The file never becomes writable: no retries at close, the records are reported instead.
    await engine.close({ timeoutMs: 0 });
  });
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The file's complete lines, parsed (a trailing cut line is left out); none while it is /dev/full (which reads as endless zeros). */
function records(path: string): Record<string, unknown>[] {
  if (!existsSync(path) || !statSync(path).isFile()) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The answer the file gives for each decision id: its last record. */
function lastRecordOf(path: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const r of records(path)) out.set(r["decision_id"] as string, r);
  return out;
}

describe("JSONL audit file sink on a full disk", function () {
  let disk: FullDisk | undefined;
  beforeEach(function () {
    disk = fullDisk();
    if (disk === undefined) this.skip();
  });
  afterEach(() => disk?.dispose());

  const read = (i: number) => ({ agent: "assistant", user: `u${i}`, action: "read" });
  const BUFFER = 64 * 1024;

  it("async: answers from the buffer while the disk is full, then denies with 'Audit log unavailable' instead of hanging, and writes what it kept once there is room", async () => {
    disk!.fill();
    const drops: [number, string][] = [];
    const sink = createJsonlFileSink(disk!.file, { bufferBytes: BUFFER, onDropped: (n, reason) => drops.push([n, reason]) });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    const answers: { id: string; allowed: boolean; reason: string }[] = [];
    for (let i = 0; i < 1500; i++) {
      const d = await engine.decide(read(i));
      answers.push({ id: d.decisionId, allowed: d.allowed, reason: d.reason });
      // Lets the writer try the disk now and then, as a server's event loop would.
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    const firstDeny = answers.findIndex((a) => !a.allowed);
    const allowed = answers.filter((a) => a.allowed);
    console.log(`      ${allowed.length} answered from the ${BUFFER}-byte buffer, then ${answers.length - firstDeny} denied`);
    expect(firstDeny, "a decision denied once the buffer is full").to.be.greaterThan(0);
    expect(answers.slice(firstDeny).every((a) => !a.allowed && a.reason === "Audit log unavailable"), "every later decision denied").to.equal(true);
    expect(sink.health().ok).to.equal(false);
    expect(sink.health().detail).to.contain("ENOSPC");
    // The bound, plus at most the one allow (and its deny) accepted before the first write failed, when the disk only looked slow.
    expect(sink.health().bufferedBytes).to.be.at.most(BUFFER + 2048);
    // Each deny's own record did not fit either: counted, one per decision.
    expect(drops.reduce((n, [c]) => n + c, 0)).to.equal(answers.length - firstDeny);

    disk!.free();
    await until("the sink to recover", () => sink.health().ok);
    expect((await engine.decide(read(9999))).allowed).to.equal(true);
    await engine.close();
    const written = lastRecordOf(disk!.file);
    for (const a of allowed) expect(written.get(a.id)?.["allowed"], a.id).to.equal(true);
    // A denied decision's record is either there, saying deny, or counted as dropped above: never an allow.
    for (const a of answers.slice(firstDeny)) expect(written.get(a.id)?.["allowed"] ?? false, a.id).to.equal(false);
  });

  it("lets a record wait for the end of the task only while writing it could neither hold its decision back nor fail it", async () => {
    const events: AuditEvent[] = [];
    const capture = new AuthEngine(basicConfig(), { audit: { write: (e) => void events.push(e), flush: async () => {}, close: async () => {} } });
    await capture.authorize(read(1));
    const event = events[0]!;
    const sink = createJsonlFileSink(disk!.file, { bufferBytes: BUFFER });
    const sync = createJsonlFileSink(disk!.file, { durability: "sync" });
    const copy = createJsonlFileSink(disk!.file, { role: "copy", bufferBytes: BUFFER });
    expect([sink.canDefer!(event), sync.canDefer!(event), copy.canDefer!(event)]).to.deep.equal([true, false, true]);
    disk!.fill();
    sink.write(event);
    copy.write(event);
    await until("the write to fail", () => !sink.health().ok && !copy.health().ok);
    // Failing: the next record must be admitted (and an allow refused) now; a copy never refuses.
    expect([sink.canDefer!(event), copy.canDefer!(event)]).to.deep.equal([false, true]);
    disk!.free();
    await until("the sink to recover", () => sink.health().ok);
    expect(sink.canDefer!(event)).to.equal(true);
    await Promise.all([sink.close(), sync.close(), copy.close()]);
    expect([sink.canDefer!(event), copy.canDefer!(event)]).to.deep.equal([false, false]);
  });

  it("sync: denies at once while the disk is full, keeps each deny's record, and writes them once there is room", async () => {
    disk!.fill();
    let dropped = 0;
    const sink = createJsonlFileSink(disk!.file, { durability: "sync", bufferBytes: BUFFER, onDropped: (n) => (dropped += n) });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    const answers: { id: string; allowed: boolean; reason: string }[] = [];
    for (let i = 0; i < 60; i++) {
      // Every third one is denied by the policy: its own reason stands, and its record is kept too.
      const request = i % 3 === 0 ? { ...read(i), action: "delete" } : read(i);
      const d = await engine.decide(request);
      answers.push({ id: d.decisionId, allowed: d.allowed, reason: d.reason });
    }
    expect(answers.filter((_, i) => i % 3 !== 0).every((a) => !a.allowed && a.reason === "Audit log unavailable")).to.equal(true);
    expect(answers.filter((_, i) => i % 3 === 0).every((a) => !a.allowed && a.reason === "Action 'delete' denied by profile 'assistant'")).to.equal(true);
    expect(sink.health().ok).to.equal(false);
    expect(dropped).to.equal(0);

    disk!.free();
    await until("the sink to recover", () => sink.health().ok);
    const after = await engine.decide(read(9999));
    expect(after.allowed).to.equal(true);
    await engine.close();
    // The last record of every decision id is the answer its caller got.
    const written = lastRecordOf(disk!.file);
    for (const a of [...answers, { id: after.decisionId, allowed: true, reason: after.reason }]) {
      expect(written.get(a.id)?.["allowed"], a.id).to.equal(a.allowed);
      expect(written.get(a.id)?.["reason"], a.id).to.equal(a.reason);
    }
  });

  it("close stops retrying at its timeout and reports every record it could not write", async () => {
    disk!.fill();
    const drops: [number, string][] = [];
    const sink = createJsonlFileSink(disk!.file, { onDropped: (n, reason) => drops.push([n, reason]) });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    for (let i = 0; i < 100; i++) expect((await engine.decide(read(i))).allowed).to.equal(true);
    await engine.close({ timeoutMs: 300 });
    const lost = drops.filter(([, reason]) => reason === "shutdown").reduce((n, [c]) => n + c, 0);
    expect(lost).to.be.greaterThan(0);
    expect(lost + records(disk!.file).length).to.equal(100);
  });

  it("writes what it kept when the disk frees up during close", async () => {
    disk!.fill();
    const drops: number[] = [];
    const errors: unknown[] = [];
    const sink = createJsonlFileSink(disk!.file, { onDropped: (n) => drops.push(n), onError: (e) => errors.push(e) });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await engine.decide(read(i))).decisionId);
    await until("a failed write", () => errors.length > 0);
    const closing = engine.close({ timeoutMs: 30_000 });
    disk!.free();
    await closing;
    expect(drops).to.deep.equal([]);
    expect(records(disk!.file).map((r) => r["decision_id"])).to.deep.equal(ids);
  });

  it("a copy never holds a decision back or denies it: past its buffer, copies are dropped and counted", async () => {
    disk!.fill();
    let dropped = 0;
    const sink = createJsonlFileSink(disk!.file, { role: "copy", durability: "sync", bufferBytes: BUFFER, onDropped: (n) => (dropped += n) });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    let waited = 0;
    for (let i = 0; i < 1500; i++) {
      const d = engine.decide(read(i));
      if (d instanceof Promise) waited++;
      else expect(d.allowed).to.equal(true);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    expect(waited, "decisions that had to wait for the copy").to.equal(0);
    expect(sink.health().ok).to.equal(false);
    expect(dropped).to.be.greaterThan(0);
    expect(sink.health().bufferedBytes).to.be.at.most(BUFFER);
    disk!.free();
    await until("the copy to recover", () => sink.health().ok);
    await engine.close();
    expect(records(disk!.file).length + dropped).to.equal(1500);
  });
});

describe("JSONL audit file sink, partial writes on a filling disk", function () {
  let disk: FullDisk | undefined;
  beforeEach(function () {
    disk = fullDisk({ needPartialWrites: true });
    if (disk === undefined) this.skip();
  });
  afterEach(() => disk?.dispose());

  it("resumes where a cut write stopped: no record cut in two or written twice", async () => {
    const errors: unknown[] = [];
    const sink = createJsonlFileSink(disk!.file, { onError: (e) => errors.push(e) });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await engine.decide({ agent: "assistant", user: `before${i}`, action: "read" })).decisionId);
    await engine.flush();
    // The file's last page has room left: the next batch is written in part, then refused.
    disk!.fill();
    for (let i = 0; i < 300; i++) ids.push((await engine.decide({ agent: "assistant", user: `during${i}`, action: "read" })).decisionId);
    await until("a failed write", () => errors.length > 0);
    const partial = readFileSync(disk!.file, "utf8");
    expect(partial.endsWith("\n"), "the disk took part of a line").to.equal(false);
    disk!.free();
    await engine.close({ timeoutMs: 30_000 });
    const text = readFileSync(disk!.file, "utf8");
    expect(text.endsWith("\n")).to.equal(true);
    expect(records(disk!.file).map((r) => r["decision_id"])).to.deep.equal(ids);
  });
});
