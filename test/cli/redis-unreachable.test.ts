import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentAuthClient } from "../../src/client/index.ts";
import { CLI, startServe } from "../support/processes.ts";
import { freePort, hasRedisServer, PrivateRedis } from "../support/private-redis.ts";

/** Runs the CLI; a process still running after `ms` is killed and reported as such (it would have hung). */
function run(args: string[], ms = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

/** Sends SIGTERM and resolves with the exit code, or "hung" if it had to be killed after `ms`. */
function terminate(child: ChildProcess, ms = 60_000): Promise<number | null | "hung"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve("hung");
    }, ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill("SIGTERM");
  });
}

describe("nothing waits forever on Redis (real processes)", function () {
  this.timeout(120_000);
  let dir: string;
  let policy: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-unreachable-"));
    policy = join(dir, "policy.yaml");
    writeFileSync(policy, `profiles: {bot: {allow: [read]}}\naudit: {enabled: true, path: ${JSON.stringify(join(dir, "audit.jsonl"))}}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("sessions --list with --redis and no Redis there exits 1 with a clear message", async () => {
    const port = await freePort();
    const r = await run(["-c", policy, "--redis", `redis://user:hunter2@127.0.0.1:${port}/10`, "sessions", "--list"]);
    expect(r.hung, "the command never exited").to.equal(false);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(`Error: cannot reach Redis at redis://***@127.0.0.1:${port}/10 (--redis / AGENT_AUTH_REDIS_URL): Redis not ready after 5000 ms`);
    expect(r.stderr).to.not.contain("hunter2");
  });

  it("serve with Redis unreachable stops within its grace period on SIGTERM, counting the records it could not store", async () => {
    const port = await freePort();
    const { child, address, logs } = await startServe(["-c", policy, "serve", "--port", "0", "--redis", `redis://127.0.0.1:${port}`, "--grace-ms", "2000"]);
    const client = createAgentAuthClient(address, { defaultDeadlineMs: 10_000 });
    try {
      // Denials (State store unavailable) whose records wait for Redis.
      for (let i = 0; i < 5; i++) {
        const r = await client.sessions.createSession({ agent: "bot", user: "u" }).catch(() => undefined);
        expect(r).to.equal(undefined);
        const d = await client.authorization.authorize({ agent: "bot", user: "u", action: "read", sessionId: "s" });
        expect(d.decision?.reason).to.equal("State store unavailable");
      }
    } finally {
      client.close();
    }
    expect(await terminate(child)).to.equal(0);
    expect(logs.some((l) => l.includes('"msg":"stopped"'))).to.equal(true);
    const dropped = logs.filter((l) => l.includes("audit records dropped")).map((l) => (JSON.parse(l) as { count: number }).count);
    expect(dropped.reduce((a, b) => a + b, 0)).to.equal(5);
  });

  it("serve with Redis stalled stops within its grace period on SIGTERM", async function () {
    if (!hasRedisServer()) this.skip();
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    let stopped = false;
    try {
      const { child, address } = await startServe(["-c", policy, "serve", "--port", "0", "--redis", redis.url, "--grace-ms", "2000"]);
      const client = createAgentAuthClient(address, { defaultDeadlineMs: 10_000 });
      try {
        const session = await client.sessions.createSession({ agent: "bot", user: "u" });
        // Redis stops answering: connections stay open, nothing comes back.
        process.kill(redis.pid!, "SIGSTOP");
        stopped = true;
        const d = await client.authorization.authorize({ agent: "bot", user: "u", action: "read", sessionId: session.session!.sessionId });
        expect(d.decision?.reason).to.equal("State store unavailable");
      } finally {
        client.close();
      }
      expect(await terminate(child)).to.equal(0);
    } finally {
      if (stopped) process.kill(redis.pid!, "SIGCONT");
      await redis.stop();
    }
  });
});
