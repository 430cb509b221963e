import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentAuthClient } from "../../src/client/index.ts";
import { CLI, exited, startServe } from "../support/processes.ts";

describe("agent-auth serve (a real process)", function () {
  this.timeout(120_000);
  let dir: string;
  let policy: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-serve-"));
    policy = join(dir, "policy.yaml");
    writeFileSync(policy, `profiles: {bot: {allow: [read]}}\naudit: {enabled: true, path: ${JSON.stringify(join(dir, "audit.jsonl"))}}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves, answers the CLI over --server, and stops gracefully on SIGTERM with a stream open", async () => {
    const { child, address, logs } = await startServe(["serve", "-c", policy, "--port", "0"]);
    try {
      const check = spawnSync(process.execPath, [CLI, "--server", address, "check", "--agent", "bot", "--user", "u", "--action", "read", "-o", "json"], { encoding: "utf8" });
      expect(check.status, check.stderr).to.equal(0);
      expect(JSON.parse(check.stdout)).to.deep.include({ allowed: true, reason: "Allowed by profile 'bot'" });

      const client = createAgentAuthClient(address);
      const received: string[] = [];
      const streaming = (async () => {
        for await (const r of client.audit.subscribe({})) received.push(r.event?.user ?? "");
      })();
      await new Promise((r) => setTimeout(r, 300));
      const decided = await client.authorization.authorize({ agent: "bot", user: "last", action: "read" });
      while (received.length === 0) await new Promise((r) => setTimeout(r, 20));

      child.kill("SIGTERM");
      expect(await exited(child)).to.equal(0);
      await streaming;
      expect(received).to.deep.equal(["last"]);
      expect(logs.some((l) => l.includes('"msg":"stopped"'))).to.equal(true);
      // Nothing lost: both decisions are in the audit file after the stop.
      const lines = readFileSync(join(dir, "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { decision_id: string });
      expect(lines.map((l) => l.decision_id)).to.include(decided.decision!.decisionId);
      expect(lines.length).to.equal(2);
      client.close();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses to start on an invalid policy, printing every problem", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "profiles: {a: {default_tier: hard, max_session_duration: -1}}\n");
    const r = spawnSync(process.execPath, [CLI, "serve", "-c", bad, "--port", "0"], { encoding: "utf8" });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.contain("invalid default_tier 'hard'").and.contain("max_session_duration must be >= 1");
    expect(r.stderr).to.not.contain("    at ");
  });
});
