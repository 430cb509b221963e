import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, loadPackageDefinition, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { Redis } from "ioredis";
import { Effect } from "../../gen/agentauth/v1/decision_pb.ts";
import { createAgentAuthClient, isClientError, type AgentAuthClient } from "../../src/client/index.ts";
import { exited, startServe } from "../support/processes.ts";
import { freePort, hasRedisServer, PrivateRedis } from "../support/private-redis.ts";
import { REDIS_ENV } from "../support/redis.ts";

const require = createRequire(import.meta.url);

function healthClient(address: string): (service?: string) => Promise<string> {
  const pkg = loadPackageDefinition(loadSync(require.resolve("grpc-health-check/proto/health/v1/health.proto"), { keepCase: true, enums: String })) as any;
  const client = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
  return (service = "") =>
    new Promise((resolve, reject) => client.Check({ service }, { deadline: Date.now() + 2000 }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r.status))));
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number, every = 50): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch {
      // keep polling
    }
    if (Date.now() > end) throw new Error(`not reached within ${ms} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

describe("Redis outage (a private redis-server, killed and restarted)", function () {
  this.timeout(300_000);
  let dir: string;
  let redis: PrivateRedis;
  let child: ChildProcess;
  let logs: string[];
  let client: AgentAuthClient;
  let health: (service?: string) => Promise<string>;
  let metricsUrl: string;
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(metricsUrl)).text();
    const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    return m === null ? Number.NaN : Number(m[1]);
  };

  before(async function () {
    if (!hasRedisServer()) {
      if (process.env["CI"] === "true" || process.env[REDIS_ENV] !== undefined) throw new Error("redis-server is required for the outage test");
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), "agent-auth-outage-"));
    redis = new PrivateRedis(await freePort());
    await redis.start();
    const policy = join(dir, "policy.yaml");
    writeFileSync(policy, `profiles: {bot: {allow: [read]}}\naudit: {enabled: true, path: ${JSON.stringify(join(dir, "audit.jsonl"))}, durability: async}\n`);
    const serverConfig = join(dir, "server.yaml");
    writeFileSync(serverConfig, "metrics: {host: 127.0.0.1, port: 0}\n");
    const started = await startServe(["serve", "-c", policy, "--port", "0", "--redis", redis.url, "--server-config", serverConfig]);
    metricsUrl = (JSON.parse(started.logs.find((l) => l.includes('"msg":"serving"'))!) as { metrics: string }).metrics;
    child = started.child;
    logs = started.logs;
    client = createAgentAuthClient(started.address, { defaultDeadlineMs: 5000 });
    health = healthClient(started.address);
  });

  after(async () => {
    client?.close();
    if (child !== undefined) {
      child.kill("SIGTERM");
      await exited(child);
    }
    await redis?.kill();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const gated = async (): Promise<{ effect: Effect; reason: string }> => {
    const { session } = await client.sessions.createSession({ agent: "bot", user: "u" });
    const { decision } = await client.authorization.authorize({ agent: "bot", user: "u", action: "read", sessionId: session!.sessionId });
    return { effect: decision!.effect, reason: decision!.reason };
  };

  it("fails closed while Redis is down, keeps answering what needs no state, and recovers within 2 s", async () => {
    expect(await gated()).to.deep.equal({ effect: Effect.ALLOW, reason: "Allowed by profile 'bot'" });
    expect(await health()).to.equal("SERVING");
    const { session } = await client.sessions.createSession({ agent: "bot", user: "u" });

    await redis.kill();

    const denied = await eventually(
      () => client.authorization.authorize({ agent: "bot", user: "u", action: "read", sessionId: session!.sessionId }).then((r) => r.decision!),
      (d) => d.effect === Effect.DENY,
      2000,
    );
    expect(denied.reason).to.equal("State store unavailable");
    // The log line about that denial names the decision.
    const line = await eventually(
      async () => logs.find((l) => l.includes('"msg":"decision failed closed"')),
      (l) => l !== undefined,
      2000,
    );
    expect(JSON.parse(line!)).to.include({ component: "state store" }).and.to.have.property("decision_id").that.matches(/^[0-9a-f-]{36}$/);
    const pure = await client.authorization.authorize({ agent: "bot", user: "outage", action: "read" });
    expect([pure.decision?.effect, pure.decision?.reason]).to.deep.equal([Effect.ALLOW, "Allowed by profile 'bot'"]);
    expect(await eventually(() => health(), (s) => s === "NOT_SERVING", 60_000)).to.equal("NOT_SERVING");
    expect(await health("agentauth.v1.AuthorizationService")).to.equal("NOT_SERVING");
    expect(await metric("agent_auth_state_store_up")).to.equal(0);
    expect(await metric("agent_auth_state_store_errors_total")).to.be.at.least(1);
    let management: unknown;
    try {
      await client.sessions.createSession({ agent: "bot", user: "u" });
    } catch (e) {
      management = e;
    }
    expect(isClientError(management) && management.code).to.equal(status.UNAVAILABLE);

    await redis.start();
    const back = Date.now();
    // Waited for, not timed: recovery is reported, a busy machine must not fail the test.
    await eventually(gated, (r) => r.effect === Effect.ALLOW, 60_000, 20);
    await eventually(() => health(), (s) => s === "SERVING", 60_000, 20);
    const recovery = Date.now() - back;
    process.stdout.write(`      (recovered ${recovery} ms after Redis came back)\n`);

    // The decision made during the outage was kept and appended once Redis came back.
    const r = new Redis(redis.url);
    try {
      const found = await eventually(
        async () => (await r.xrange("{agent-auth}:audit", "-", "+")).some(([, fields]) => fields[1]?.includes('"user":"outage"')),
        (x) => x,
        5000,
      );
      expect(found).to.equal(true);
    } finally {
      r.disconnect();
    }
    expect(await metric("agent_auth_state_store_up")).to.equal(1);
    expect(await metric('agent_auth_audit_records_dropped_total\\{sink="stream"\\}')).to.equal(0);
    expect(await metric('agent_auth_audit_records_dropped_total\\{sink="file"\\}')).to.equal(0);
    expect(child.exitCode).to.equal(null);
    expect(logs.join("\n")).to.not.match(/uncaught|unhandled/i);
  });
});
