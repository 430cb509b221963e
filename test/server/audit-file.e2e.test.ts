import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Effect } from "../../gen/agentauth/v1/decision_pb.ts";
import { createAgentAuthClient, type AgentAuthClient } from "../../src/client/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { AUDIT_FILE_HEALTH } from "../../src/server/app/health-watch.ts";
import { startAgentAuthServer, type AgentAuthServer } from "../../src/server/app/start-server.ts";
import { createJsonLogger } from "../../src/server/logger.ts";
import { fullDisk, type FullDisk } from "../support/full-disk.ts";
import { healthClient } from "../support/health.ts";
import { exited, startServe } from "../support/processes.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";

const policy = (file: string, durability: "sync" | "async"): string => `version: "1.0"
metadata: {name: audit-file-test}
profiles: {bot: {allow: [read]}}
audit: {enabled: true, path: ${JSON.stringify(file)}, durability: ${durability}}
`;

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A metric's value (the line that starts with `series`). */
async function metric(server: AgentAuthServer, series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${server.metricsEndpoint!.address}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** `n` decisions sent in batches of 1,000; the effect and reason of each, in order. */
async function decideMany(client: AgentAuthClient, n: number): Promise<{ allowed: boolean; reason: string }[]> {
  const out: { allowed: boolean; reason: string }[] = [];
  for (let sent = 0; sent < n; sent += 1000) {
    const requests = Array.from({ length: Math.min(1000, n - sent) }, (_, i) => ({ agent: "bot", user: `u${sent + i}`, action: "read" }));
    const { results } = await client.authorization.authorizeBatch({ requests }, { deadlineMs: 20_000 });
    for (const r of results) {
      if (r.result.case !== "decision") throw new Error(`batch item failed: ${JSON.stringify(r.result.value)}`);
      out.push({ allowed: r.result.value.effect === Effect.ALLOW, reason: r.result.value.reason });
    }
  }
  return out;
}

describe("the audit file on a full disk (server, real sockets)", function () {
  let disk: FullDisk | undefined;
  let server: AgentAuthServer | undefined;
  let client: AgentAuthClient | undefined;
  let logs: string[];
  let closeHealth: (() => void) | undefined;

  beforeEach(function () {
    // Room for the 8 MiB buffer once freed.
    disk = fullDisk({ sizeKiB: 32 * 1024 });
    if (disk === undefined) this.skip();
    logs = [];
  });
  afterEach(async () => {
    closeHealth?.();
    closeHealth = undefined;
    client?.close();
    await server?.close(1000);
    server = undefined;
    client = undefined;
    disk?.dispose();
  });

  async function start(durability: "sync" | "async", redis?: { url: string; prefix: string }): Promise<{ check: (service: string) => Promise<string> }> {
    server = await startAgentAuthServer({
      config: parseConfig(policy(disk!.file, durability), { env: {} }),
      port: 0,
      logger: createJsonLogger((l) => logs.push(l)),
      metrics: { host: "127.0.0.1", port: 0 },
      ...(redis === undefined ? {} : { redis: { connection: { url: redis.url }, prefix: redis.prefix } }),
    });
    client = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000 });
    const health = healthClient(`127.0.0.1:${server.port}`);
    closeHealth = () => health.close();
    return health;
  }

  describe("memory store: the file is the record", () => {
    it("async: answers from the buffer, then denies 'Audit log unavailable' (never hangs); health, metrics and log say so; recovers when the disk has room", async () => {
      disk!.fill();
      const health = await start("async");
      // 8 MiB of records fit the default buffer; the decisions after them deny.
      const answers = await decideMany(client!, 20_000);
      const firstDeny = answers.findIndex((a) => !a.allowed);
      console.log(`      ${firstDeny} decisions answered from the 8 MiB buffer, then ${answers.length - firstDeny} denied`);
      expect(firstDeny).to.be.greaterThan(1000);
      expect(answers.slice(firstDeny).every((a) => !a.allowed && a.reason === "Audit log unavailable")).to.equal(true);

      await until("health NOT_SERVING", async () => (await health.check("")) === "NOT_SERVING");
      expect(await health.check(AUDIT_FILE_HEALTH)).to.equal("NOT_SERVING");
      expect(await metric(server!, "agent_auth_audit_file_up")).to.equal(0);
      expect(await metric(server!, 'agent_auth_audit_records_dropped_total{sink="file"}')).to.equal(answers.length - firstDeny);
      expect(await metric(server!, "agent_auth_audit_file_write_errors_total")).to.be.greaterThan(0);
      expect(await metric(server!, "agent_auth_audit_file_buffered_bytes")).to.be.within(7 * 1024 * 1024, 8 * 1024 * 1024);
      const failing = logs.find((l) => l.includes('"msg":"audit file cannot be written"'));
      expect(failing).to.contain("ENOSPC");
      expect(logs.some((l) => l.includes('"msg":"audit records dropped'))).to.equal(true);

      disk!.free();
      await until("health SERVING again", async () => (await health.check("")) === "SERVING");
      expect(await health.check(AUDIT_FILE_HEALTH)).to.equal("SERVING");
      expect((await client!.authorization.authorize({ agent: "bot", user: "after", action: "read" })).decision!.effect).to.equal(Effect.ALLOW);
      expect(logs.some((l) => l.includes('"msg":"audit file writable again"'))).to.equal(true);
    });

    it("sync: denies 'Audit log unavailable' at once while the disk is full; health NOT_SERVING; recovers", async () => {
      disk!.fill();
      const health = await start("sync");
      const answers = await decideMany(client!, 200);
      expect(answers.every((a) => !a.allowed && a.reason === "Audit log unavailable")).to.equal(true);
      await until("health NOT_SERVING", async () => (await health.check("")) === "NOT_SERVING");
      expect(await health.check(AUDIT_FILE_HEALTH)).to.equal("NOT_SERVING");
      disk!.free();
      await until("health SERVING again", async () => (await health.check("")) === "SERVING");
      expect((await client!.authorization.authorize({ agent: "bot", user: "after", action: "read" })).decision!.effect).to.equal(Effect.ALLOW);
    });
  });

  describe("Redis store: the stream is the record, the file a copy", () => {
    let url: string;
    let prefix: string;
    before(async function () {
      url = await requireRedis(this);
    });
    beforeEach(() => {
      prefix = testPrefix("audit-file");
    });
    afterEach(async () => {
      if (url !== undefined) await deletePrefix(url, prefix);
    });

    for (const durability of ["async", "sync"] as const) {
      it(`${durability}: keeps deciding without waiting for the file; only the file's own health entry turns NOT_SERVING; copies past the buffer are counted`, async () => {
        disk!.fill();
        const health = await start(durability, { url, prefix });
        const answers = await decideMany(client!, 20_000);
        expect(answers.filter((a) => !a.allowed).length, "decisions denied").to.equal(0);
        await until("the file's entry NOT_SERVING", async () => (await health.check(AUDIT_FILE_HEALTH)) === "NOT_SERVING");
        expect(await health.check("")).to.equal("SERVING");
        const dropped = await metric(server!, 'agent_auth_audit_records_dropped_total{sink="file"}');
        console.log(`      ${durability}: 20,000 decisions allowed; ${dropped} file copies dropped past the 8 MiB buffer`);
        expect(dropped).to.be.greaterThan(0);
        expect(await metric(server!, 'agent_auth_audit_records_dropped_total{sink="stream"}')).to.equal(0);
        // The record itself is complete.
        await server!.engine.flush().catch(() => undefined);
        const redis = new Redis(url);
        try {
          await until("every record in the stream", async () => (await redis.xlen(`{${prefix}}:audit`)) >= 20_000);
        } finally {
          redis.disconnect();
        }
        disk!.free();
        await until("the file's entry SERVING again", async () => (await health.check(AUDIT_FILE_HEALTH)) === "SERVING");
      });
    }
  });
});

describe("agent-auth serve: SIGTERM with audit records the disk will not take (a real process)", function () {
  let disk: FullDisk | undefined;
  let dir: string;
  beforeEach(function () {
    disk = fullDisk();
    if (disk === undefined) this.skip();
    dir = mkdtempSync(join(tmpdir(), "agent-auth-sigterm-"));
  });
  afterEach(() => {
    disk?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("retries within the grace period, then exits and logs how many records were not written", async () => {
    disk!.fill();
    const policyPath = join(dir, "policy.yaml");
    writeFileSync(policyPath, policy(disk!.file, "async"));
    const { child, address, logs } = await startServe(["serve", "-c", policyPath, "--port", "0", "--grace-ms", "1500"]);
    try {
      const client = createAgentAuthClient(address, { defaultDeadlineMs: 10_000 });
      const answers = await decideMany(client, 300);
      client.close();
      expect(answers.every((a) => a.allowed)).to.equal(true);
      const t0 = Date.now();
      child.kill("SIGTERM");
      expect(await exited(child)).to.equal(0);
      console.log(`      exited ${Date.now() - t0} ms after SIGTERM (grace 1,500 ms)`);
      const line = logs.find((l) => l.includes('"msg":"audit records not written at shutdown"'));
      expect(line, logs.join("\n")).to.not.equal(undefined);
      const entry = JSON.parse(line!) as { count: number; path: string };
      expect([entry.count, entry.path]).to.deep.equal([300, disk!.file]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("writes every record when the disk frees up within the grace period", async () => {
    disk!.fill();
    const policyPath = join(dir, "policy.yaml");
    writeFileSync(policyPath, policy(disk!.file, "async"));
    const { child, address, logs } = await startServe(["serve", "-c", policyPath, "--port", "0", "--grace-ms", "20000"]);
    try {
      const client = createAgentAuthClient(address, { defaultDeadlineMs: 10_000 });
      const answers = await decideMany(client, 300);
      client.close();
      expect(answers.every((a) => a.allowed)).to.equal(true);
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
      disk!.free();
      expect(await exited(child)).to.equal(0);
      expect(logs.some((l) => l.includes("not written at shutdown"))).to.equal(false);
      expect(readFileSync(disk!.file, "utf8").trimEnd().split("\n").length).to.equal(300);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
