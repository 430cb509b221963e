/**
 * The Redis store on a Redis Cluster and behind Redis Sentinel, with servers of
 * the test's own (spare ports, stopped by pid; the shared Redis is never
 * touched): the whole state store contract, and a session-gated decision with
 * sync audit, whose state read and record share one script on one node.
 */
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parseConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { createRedisStore, type RedisConnection } from "../../src/state/redis/index.ts";
import { parseRedisTarget } from "../../src/state/redis/redis-target.ts";
import { freePort, hasRedisServer } from "../support/private-redis.ts";
import { REDIS_ENV, testPrefix } from "../support/redis.ts";
import { runStateStoreContract } from "./contract.ts";

/** A redis-server (or sentinel) process of this test's own. */
class Server {
  readonly #child: ChildProcess;
  constructor(
    readonly port: number,
    args: readonly string[],
    cwd: string,
  ) {
    this.#child = spawn("redis-server", [...args], { stdio: "ignore", cwd });
  }

  async answers(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(this.port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        client.disconnect();
      }
    }
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }
}

async function until(what: string, probe: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function info(port: number, command: string[]): Promise<string> {
  const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    return String(await client.call(command[0]!, ...command.slice(1)));
  } catch {
    return "";
  } finally {
    client.disconnect();
  }
}

const POLICY = `
profiles: {bot: {allow: [read], max_session_duration: 3600}}
audit: {durability: sync}
`;

/** A session-gated decision, with its record appended in the same script; then revocation. */
async function decideWithSyncAudit(connection: RedisConnection): Promise<void> {
  const prefix = testPrefix("topology");
  const store = createRedisStore({ connection, prefix, audit: { durability: "sync", streamMaxLength: 1000 } });
  const engine = new AuthEngine(parseConfig(POLICY, { env: {} }), { store, audit: false, sameTripAudit: store.audit });
  try {
    await store.ready(10_000);
    const session = await engine.createSession({ agent: "bot", user: "alice" });
    const allowed = await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: session.sessionId });
    expect([allowed.allowed, allowed.reason]).to.deep.equal([true, "Allowed by profile 'bot'"]);
    await engine.revokeSession(session.sessionId);
    const denied = await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: session.sessionId });
    expect([denied.allowed, denied.reason]).to.deep.equal([false, "Invalid or expired session"]);
    const recorded = (await store.audit!.readStream("0-0", 10)).map((e) => JSON.parse(e.line) as { decision_id: string; allowed: boolean });
    expect(recorded.map((r) => [r.decision_id, r.allowed])).to.deep.equal([
      [allowed.decisionId, true],
      [denied.decisionId, false],
    ]);
  } finally {
    await engine.close();
    await store.close();
  }
}

/** The state store contract, then a decision, on the topology `target()` names once it is up. */
function runContractAndDecide(name: string, target: () => string): void {
  runStateStoreContract(name, {
    async create(clock) {
      const store = createRedisStore({ connection: parseRedisTarget(target()), prefix: testPrefix(name.replace(/\W/g, "-")), clock });
      await store.ready(10_000);
      return store;
    },
    destroy: (store) => store.close(),
  });

  it("decides a session-gated request with sync audit and sees the revocation at once", async () => {
    await decideWithSyncAudit(parseRedisTarget(target()));
  });
}

describe("Redis Cluster and Redis Sentinel (servers of the test's own)", function () {
  this.timeout(120_000);
  let dir: string;
  const servers: Server[] = [];

  before(function () {
    if (!hasRedisServer()) {
      if (process.env["CI"] === "true" || process.env[REDIS_ENV] !== undefined) throw new Error("redis-server is required for the Cluster and Sentinel tests");
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), "agent-auth-topologies-"));
  });
  after(async () => {
    for (const s of servers.splice(0)) await s.kill();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe("on a three-node Redis Cluster", () => {
    let target = "";
    before(async () => {
      const ports = [await freePort(), await freePort(), await freePort()];
      for (const port of ports) {
        const s = new Server(
          port,
          ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"],
          dir,
        );
        servers.push(s);
        await s.answers();
      }
      const created = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { encoding: "utf8" });
      if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      for (const port of ports) await until(`cluster_state:ok on ${port}`, async () => (await info(port, ["CLUSTER", "INFO"])).includes("cluster_state:ok"));
      target = `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`;
    });

    runContractAndDecide("redis cluster", () => target);

    it("keeps every key of a deployment in one hash slot", async () => {
      const prefix = testPrefix("slot");
      const store = createRedisStore({ connection: parseRedisTarget(target), prefix });
      try {
        await store.ready(10_000);
        const k = store.keys;
        const keys = [k.audit, k.session("s1"), k.sessions, k.grants("a", "u"), k.delegation("d1"), k.replicas];
        const client = new Redis(Number(/:(\d+)/.exec(target)![1]), "127.0.0.1");
        client.on("error", () => {});
        try {
          const slots = await Promise.all(keys.map((key) => client.call("CLUSTER", "KEYSLOT", key)));
          expect(new Set(slots).size, keys.join(" ")).to.equal(1);
        } finally {
          client.disconnect();
        }
      } finally {
        await store.close();
      }
    });
  });

  describe("behind Redis Sentinel", () => {
    let target = "";
    let sentinelPort = 0;
    let masterPort = 0;
    let replicaPort = 0;
    let master: Server;
    before(async () => {
      masterPort = await freePort();
      master = new Server(masterPort, ["--port", String(masterPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"], dir);
      servers.push(master);
      await master.answers();
      replicaPort = await freePort();
      const replica = new Server(replicaPort, ["--port", String(replicaPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", String(masterPort)], dir);
      servers.push(replica);
      await replica.answers();
      sentinelPort = await freePort();
      const conf = join(dir, "sentinel.conf");
      writeFileSync(
        conf,
        `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor agentauth 127.0.0.1 ${masterPort} 1\n` +
          "sentinel down-after-milliseconds agentauth 1000\nsentinel failover-timeout agentauth 10000\n",
      );
      const sentinel = new Server(sentinelPort, [conf, "--sentinel"], dir);
      servers.push(sentinel);
      await sentinel.answers();
      await until("the sentinel knows the master", async () => (await info(sentinelPort, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "agentauth"])).includes(String(masterPort)));
      target = `redis-sentinel://127.0.0.1:${sentinelPort}/agentauth`;
    });

    runContractAndDecide("redis sentinel", () => target);

    it("follows a fail-over when the master dies: sessions survive and decisions go on", async () => {
      await until("the replica is in sync", async () => (await info(replicaPort, ["INFO", "replication"])).includes("master_link_status:up"));
      await until("the sentinel knows the replica", async () => (await info(sentinelPort, ["SENTINEL", "REPLICAS", "agentauth"])).includes(String(replicaPort)));
      const prefix = testPrefix("failover");
      const store = createRedisStore({ connection: parseRedisTarget(target), prefix, audit: { durability: "sync", streamMaxLength: 1000 } });
      const engine = new AuthEngine(parseConfig(POLICY, { env: {} }), { store, audit: false, sameTripAudit: store.audit });
      try {
        await store.ready(10_000);
        const session = await engine.createSession({ agent: "bot", user: "alice" });
        // Replicated before the master dies, so that the new master has it (replication is asynchronous).
        await until("the session reached the replica", async () => (await info(replicaPort, ["EXISTS", `{${prefix}}:s:${session.sessionId}`])) === "1");
        const killed = Date.now();
        await master.kill();
        const outcomes = new Set<string>();
        let d = await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: session.sessionId });
        while (!d.allowed && Date.now() - killed < 20_000) {
          // Until the sentinel promotes the replica and the store reconnects, decisions fail closed.
          outcomes.add(d.reason);
          await new Promise((r) => setTimeout(r, 100));
          d = await engine.authorize({ agent: "bot", user: "alice", action: "read", sessionId: session.sessionId });
        }
        expect([...outcomes]).to.deep.equal(["State store unavailable"]);
        expect([d.allowed, d.reason]).to.deep.equal([true, "Allowed by profile 'bot'"]);
        expect(await info(sentinelPort, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "agentauth"])).to.include(String(replicaPort));
        // The decision's record is on the new master.
        const last = JSON.parse(((await store.audit!.readStream("0-0", 100)).at(-1)?.line ?? "{}")) as { decision_id?: string };
        expect(last.decision_id).to.equal(d.decisionId);
        process.stdout.write(`      master killed: decisions denied (fail closed) until the fail-over, allowed again ${Date.now() - killed} ms after the kill\n`);
      } finally {
        await engine.close();
        await store.close();
      }
    });
  });
});
