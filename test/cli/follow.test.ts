import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentAuthClient } from "../../src/client/index.ts";
import { CLI, exited, startServe } from "../support/processes.ts";
import { freePort } from "../support/private-redis.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";

/** `agent-auth audit --follow -o json` as a process, with what it printed so far. */
function follower(address: string): { child: ChildProcess; events: () => { user: string; cursor: string }[]; stderr: () => string } {
  // From the start of the history, so that when it connects does not matter.
  const child = spawn(process.execPath, [CLI, "--server", address, "audit", "--follow", "--after", "0-0", "-o", "json"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  return {
    child,
    events: () =>
      out
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { user: string; cursor: string }),
    stderr: () => err,
  };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function decide(address: string, users: string[]): Promise<void> {
  const client = createAgentAuthClient(address, { defaultDeadlineMs: 10_000 });
  try {
    for (const user of users) await client.authorization.authorize({ agent: "bot", user, action: "read" });
  } finally {
    client.close();
  }
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  expect(await exited(child)).to.equal(0);
}

describe("agent-auth audit --follow across server restarts (real processes)", function () {
  this.timeout(180_000);
  let dir: string;
  let policy: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-follow-"));
    policy = join(dir, "policy.yaml");
    writeFileSync(policy, `profiles: {bot: {allow: [read]}}\naudit: {enabled: true, path: ${JSON.stringify(join(dir, "audit.jsonl"))}}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("memory mode: reconnects after a restart, says events may be missing, and goes on from the new history", async () => {
    const port = await freePort();
    const args = ["-c", policy, "serve", "--port", String(port), "--grace-ms", "2000"];
    let server = await startServe(args);
    const f = follower(server.address);
    try {
      await decide(server.address, ["m1", "m2"]);
      await until(`the first events (follower: ${f.stderr()})`, () => f.events().length === 2);
      await stop(server.child);
      await new Promise((r) => setTimeout(r, 500));
      expect(f.child.exitCode, "the follower must keep following").to.equal(null);
      server = await startServe(args);
      // The restarted server has a new history: the follower says so and continues from its newest event.
      await until("the follower to notice the new history", () => f.stderr().includes("the server's audit history started over"));
      await decide(server.address, ["m3", "m4"]);
      await until("the events after the restart", () => f.events().length === 4);
      expect(f.events().map((e) => e.user)).to.deep.equal(["m1", "m2", "m3", "m4"]);
      expect(f.stderr()).to.contain("may be missing");
      f.child.kill("SIGTERM");
      expect(await exited(f.child)).to.equal(0);
    } finally {
      if (f.child.exitCode === null) f.child.kill("SIGKILL");
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
    }
  });

  describe("Redis mode", () => {
    let url: string;
    const prefix = testPrefix("follow");
    before(async function () {
      url = await requireRedis(this);
    });
    after(async () => {
      if (url !== undefined) await deletePrefix(url, prefix);
    });

    it("resumes after a restart from its last cursor: what other replicas decided meanwhile, once each, in order", async () => {
      const port = await freePort();
      const redisArgs = ["--redis", url, "--redis-prefix", prefix, "--grace-ms", "2000"];
      let a = await startServe(["-c", policy, "serve", "--port", String(port), ...redisArgs]);
      const b = await startServe(["-c", policy, "serve", "--port", "0", ...redisArgs]);
      const f = follower(a.address);
      try {
        await decide(a.address, ["r1", "r2"]);
        await until(`the first events (follower: ${f.stderr()})`, () => f.events().length === 2);
        await stop(a.child);
        // Decided while the follower's server is down.
        await decide(b.address, ["r3", "r4", "r5"]);
        a = await startServe(["-c", policy, "serve", "--port", String(port), ...redisArgs]);
        await until("the events decided while it was down", () => f.events().length === 5);
        await decide(a.address, ["r6"]);
        await until("the live event after the restart", () => f.events().length === 6);
        await new Promise((r) => setTimeout(r, 500));
        expect(f.events().map((e) => e.user)).to.deep.equal(["r1", "r2", "r3", "r4", "r5", "r6"]);
        expect(f.stderr()).to.not.contain("may be missing");
        f.child.kill("SIGTERM");
        expect(await exited(f.child)).to.equal(0);
      } finally {
        for (const c of [f.child, a.child, b.child]) if (c.exitCode === null) c.kill("SIGKILL");
      }
    });
  });
});
