import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsonlFileSink } from "../../src/audit/jsonl-file-sink.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { fullDisk, type FullDisk } from "../support/full-disk.ts";
import { basicConfig } from "../support/policies.ts";

const openDescriptors = (): number => readdirSync("/proc/self/fd").length;

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("audit file appends", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-append-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("starts a new line when the file was left in the middle of one", async () => {
    const path = join(dir, "audit.jsonl");
    writeFileSync(path, '{"decision_id":"before"}\n{"decision_id":"cut-sh');
    const engine = new AuthEngine(basicConfig(), { audit: createJsonlFileSink(path) });
    const d = await engine.authorize({ agent: "assistant", user: "alice", action: "read" });
    await engine.close();
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines[1]).to.equal('{"decision_id":"cut-sh');
    expect((JSON.parse(lines[2]!) as { decision_id: string }).decision_id).to.equal(d.decisionId);
  });
});

describe("audit file appends on a full disk", function () {
  let disk: FullDisk | undefined;
  beforeEach(function () {
    disk = fullDisk();
    if (disk === undefined) this.skip();
  });
  afterEach(() => disk?.dispose());

  it("leaves no file descriptor open behind a failed write while it retries", async () => {
    disk!.fill();
    let failures = 0;
    const sink = createJsonlFileSink(disk!.file, { onError: () => failures++ });
    const engine = new AuthEngine(basicConfig(), { audit: sink });
    const before = openDescriptors();
    await engine.authorize({ agent: "assistant", user: "alice", action: "read" });
    await until("six failed writes", () => failures >= 6);
    // At most the one handle of an attempt in progress.
    expect(openDescriptors() - before).to.be.at.most(1);
    await engine.close({ timeoutMs: 0 });
    expect(openDescriptors() - before).to.be.at.most(0);
  });
});
