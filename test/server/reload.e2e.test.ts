import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { parseConfig } from "../../src/config/index.ts";
import { policyRevision } from "../../src/policy/revision.ts";
import { POLICY_HEALTH, startAgentAuthServer, type AgentAuthServer } from "../../src/server/app/start-server.ts";
import { silentLogger } from "../../src/server/logger.ts";
import { createAgentAuthClient, isClientError, type AgentAuthClient } from "../../src/client/index.ts";
import { signIn } from "../support/console.ts";
import { healthClient } from "../support/health.ts";
import { call } from "../support/http.ts";
import { CLI, exited, startServe } from "../support/processes.ts";

/** Two policies that answer `read` differently, so a decision shows which one decided it. */
const ALLOWS_READ = `version: "1.0"\nmetadata: {name: reload-test}\nprofiles: {bot: {allow: [read]}}\naudit: {enabled: false}\n`;
const DENIES_READ = `version: "1.0"\nmetadata: {name: reload-test}\nprofiles: {bot: {allow: [write]}}\naudit: {enabled: false}\n`;
const BROKEN = `profiles: {bot: {allow: [read], default_tier: hard}}\nroles: {a: {extends: missing}}\n`;

async function until(what: string, ok: () => Promise<boolean>, ms = 5000): Promise<number> {
  const start = Date.now();
  while (!(await ok())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

async function metric(server: AgentAuthServer, name: string): Promise<string[]> {
  const text = await (await fetch(`http://${server.metricsEndpoint!.address}/metrics`)).text();
  return text.split("\n").filter((l) => l.startsWith(name));
}

describe("live policy reload", function () {
  this.timeout(120_000);
  let dir: string;
  let path: string;
  let server: AgentAuthServer;
  let client: AgentAuthClient;

  /** Replaces the file the way editors and config managers do: write aside, rename over. */
  const install = (yaml: string): void => {
    writeFileSync(`${path}.tmp`, yaml);
    renameSync(`${path}.tmp`, path);
  };
  const read = async () => (await client.authorization.authorize({ agent: "bot", user: "u", action: "read" })).decision!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-reload-"));
    path = join(dir, "policy.yaml");
    writeFileSync(path, ALLOWS_READ);
    server = await startAgentAuthServer({
      config: parseConfig(ALLOWS_READ, { env: {} }),
      port: 0,
      logger: silentLogger,
      metrics: { host: "127.0.0.1", port: 0 },
      policyFile: { path, watch: true, env: {} },
    });
    client = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 5000 });
  });
  after(async () => {
    client.close();
    await server.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it("picks up a changed file by itself, and every decision names the revision that made it", async () => {
    const first = await read();
    expect(first.effect).to.equal(1); // allow
    const before = first.policyRevision;
    install(DENIES_READ);
    const took = await until("the watched file to be reloaded", async () => (await read()).policyRevision !== before);
    const after = await read();
    expect(after.effect).to.equal(2); // deny
    expect(after.reason).to.equal("Action 'read' not authorized for agent 'bot'");
    console.log(`      reload after a file change took ${took} ms (100 ms debounce and the 1,000 ms settle interval included)`);
    expect((await metric(server, "agent_auth_policy_info"))[0]).to.contain(`revision="${after.policyRevision}"`);
  });

  it("keeps serving the running policy when the file turns invalid, and says so in DescribePolicy, health and metrics", async () => {
    const serving = (await client.policy.describePolicy({})).revision;
    install(BROKEN);
    await until("the broken file to be noticed", async () => (await client.policy.describePolicy({})).reloadErrors.length > 0);
    const described = await client.policy.describePolicy({});
    expect(described.revision).to.equal(serving);
    expect(described.source).to.equal(path);
    expect(described.reloadErrors.join("\n")).to.contain("hard").and.contain("missing");
    expect((await read()).policyRevision).to.equal(serving);

    const health = healthClient(`127.0.0.1:${server.port}`);
    expect(await health.check(POLICY_HEALTH)).to.equal("NOT_SERVING");
    expect(await health.check("")).to.equal("SERVING");
    expect(await metric(server, "agent_auth_policy_reload_failing")).to.include("agent_auth_policy_reload_failing 1");

    // ReloadPolicy reports the same problems as FAILED_PRECONDITION and changes nothing.
    try {
      await client.policy.reloadPolicy({});
      expect.fail("ReloadPolicy accepted an invalid file");
    } catch (error) {
      if (!isClientError(error)) throw error;
      expect(error.code).to.equal(status.FAILED_PRECONDITION);
      expect(error.details).to.contain(`still serving revision ${serving}`).and.contain("hard");
    }

    // Fixed on disk and reloaded through the RPC: the new revision serves, health is back.
    writeFileSync(path, ALLOWS_READ); // in place this time; the watcher may or may not win the race
    const reloaded = await client.policy.reloadPolicy({});
    expect(reloaded.revision).to.not.equal(serving);
    expect((await read()).policyRevision).to.equal(reloaded.revision);
    expect(await health.check(POLICY_HEALTH)).to.equal("SERVING");
    expect((await client.policy.describePolicy({})).reloadErrors).to.deep.equal([]);
    health.close();
  });

  it("never mixes revisions inside a decision while policies are swapped under load", async () => {
    const a = parseConfig(ALLOWS_READ, { env: {} });
    const b = parseConfig(DENIES_READ, { env: {} });
    const allowRevision = server.engine.setConfig(a).revision;
    const denyRevision = server.engine.setConfig(b).revision;
    // Session-gated decisions wait for the store between their start and their answer:
    // the policy is swapped while they are in flight.
    const session = await server.engine.createSession({ agent: "bot", user: "u" });
    let swaps = 0;
    const seen = new Map<string, number>();
    const pending = [];
    for (let i = 0; i < 4000; i++) {
      pending.push(server.engine.authorize({ agent: "bot", user: "u", action: "read", sessionId: session.sessionId }));
      if (i % 7 === 0) server.engine.setConfig(++swaps % 2 === 0 ? a : b);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    for (const d of await Promise.all(pending)) {
      seen.set(d.policyRevision, (seen.get(d.policyRevision) ?? 0) + 1);
      if (d.policyRevision === allowRevision) expect(d.allowed, d.reason).to.equal(true);
      else if (d.policyRevision === denyRevision) expect(d.allowed, d.reason).to.equal(false);
      else expect.fail(`unknown revision ${d.policyRevision}`);
    }
    expect(seen.size).to.equal(2);
    console.log(`      ${swaps} swaps; decisions per revision: ${[...seen.values()].join(" / ")}`);
    // Restore the file's policy for the next test.
    await client.policy.reloadPolicy({});
  });

  it("never installs a file still being written: a valid-looking first part, the rest 400 ms later", async () => {
    const whole = `version: "1.0"\nmetadata: {name: reload-test}\nprofiles:\n  bot:\n    allow: ["*"]\n    deny: [drop_database]\naudit: {enabled: false}\n`;
    const cut = whole.indexOf("    deny:");
    // The first part is a policy of its own, and a dangerous one: bot may do anything.
    const firstPart = whole.slice(0, cut);
    expect(parseConfig(firstPart, { env: {} }).profiles.get("bot")?.deny).to.deep.equal([]);
    const wholeRevision = policyRevision(parseConfig(whole, { env: {} }));
    const before = (await client.policy.reloadPolicy({})).revision;

    const seen: { effect: number; revision: string }[] = [];
    let writing = true;
    const probe = (async () => {
      while (writing) {
        const d = (await client.authorization.authorize({ agent: "bot", user: "u", action: "drop_database" })).decision!;
        seen.push({ effect: d.effect, revision: d.policyRevision });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    writeFileSync(path, firstPart); // in place, as `cp` or a shell redirection writes
    await new Promise((r) => setTimeout(r, 400));
    appendFileSync(path, whole.slice(cut));
    const took = await until("the whole file to be served", async () => (await read()).policyRevision === wholeRevision, 15_000);
    writing = false;
    await probe;
    const allowed = seen.filter((d) => d.effect === 1).length;
    console.log(`      ${seen.length} drop_database decisions while the file was written and settled: ${allowed} allowed; whole file served ${took} ms after its last write`);
    expect(allowed).to.equal(0);
    expect([...new Set(seen.map((d) => d.revision))].every((r) => r === before || r === wholeRevision)).to.equal(true);
    install(ALLOWS_READ);
    await client.policy.reloadPolicy({});
  });
});

describe("agent-auth serve: SIGHUP reload and --server-config (a real process)", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-hup-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reloads on SIGHUP, serves metrics, and lets the CLI in with a token only", async () => {
    const policy = join(dir, "policy.yaml");
    writeFileSync(policy, ALLOWS_READ);
    const serverConfig = join(dir, "server.yaml");
    const token = "cli-token-for-tests";
    writeFileSync(
      serverConfig,
      `callers:\n  operator: {tokens_sha256: ["${createHash("sha256").update(token).digest("hex")}"], groups: [authorize, policy]}\n` +
        `metrics: {host: 127.0.0.1, port: 0}\nreload: {watch: false}\nrefusal_log: ${JSON.stringify(join(dir, "refusals.jsonl"))}\n`,
    );
    const { child, address, logs } = await startServe(["serve", "-c", policy, "--port", "0", "--server-config", serverConfig]);
    try {
      const serving = JSON.parse(logs.find((l) => l.includes('"msg":"serving"'))!) as { metrics: string; revision: string; callers: string[] };
      expect(serving.callers).to.deep.equal(["operator"]);
      const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, "--server", address, ...args], { encoding: "utf8" });
      const check = ["check", "--agent", "bot", "--user", "u", "--action", "read", "-o", "json"];

      const anonymous = cli(...check);
      expect(anonymous.status).to.equal(1);
      expect(anonymous.stderr).to.contain("UNAUTHENTICATED");
      const allowed = cli("--token", token, ...check);
      expect(allowed.status, allowed.stderr).to.equal(0);
      expect(JSON.parse(allowed.stdout)).to.include({ allowed: true, policy_revision: serving.revision });

      writeFileSync(policy, DENIES_READ);
      // Not watched: nothing changes until the signal.
      await new Promise((r) => setTimeout(r, 300));
      expect(JSON.parse(cli("--token", token, ...check).stdout)).to.include({ allowed: true });
      child.kill("SIGHUP");
      await until("the SIGHUP reload", async () => logs.some((l) => l.includes('"msg":"policy reloaded"') && l.includes('"trigger":"SIGHUP"')));
      const denied = cli("--token", token, ...check);
      expect(denied.status).to.equal(1);
      expect(JSON.parse(denied.stdout)).to.include({ allowed: false });

      const text = await (await fetch(serving.metrics)).text();
      expect(text).to.match(/^agent_auth_policy_reloads_total\{result="ok"\} 1$/m);
      expect(text).to.match(/^agent_auth_decisions_total\{effect="allow",tier="autonomous"\} 2$/m);
      expect(text).to.match(/^agent_auth_decisions_total\{effect="deny",tier="autonomous"\} 1$/m);
      expect(text).to.match(/^agent_auth_calls_refused_total\{group="authorize",code="UNAUTHENTICATED"\} 1$/m);
      // Audit is off in this policy: the counter exists, with no sink that could drop.
      expect(text).to.match(/^# TYPE agent_auth_audit_records_dropped_total counter$/m);
      expect(text).to.not.match(/^agent_auth_audit_records_dropped_total/m);

      child.kill("SIGTERM");
      expect(await exited(child)).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("reloads the server config's callers on SIGHUP: a new token works, a removed one is refused (its console session too), a broken file keeps the old callers", async () => {
    const policy = join(dir, "callers-policy.yaml");
    writeFileSync(policy, ALLOWS_READ);
    const serverConfig = join(dir, "callers-server.yaml");
    const digest = (token: string): string => createHash("sha256").update(token).digest("hex");
    const callersFile = (...names: string[]): string =>
      "callers:\n" +
      names.map((n) => `  ${n}: {tokens_sha256: ["${digest(`${n}-token`)}"], groups: [authorize]}\n`).join("") +
      `reload: {watch: false}\nrefusal_log: ${JSON.stringify(join(dir, "callers-refusals.jsonl"))}\n`;
    writeFileSync(serverConfig, callersFile("alice"));
    const { child, address, logs } = await startServe(["serve", "-c", policy, "--port", "0", "--http-port", "0", "--server-config", serverConfig]);
    try {
      const serving = JSON.parse(logs.find((l) => l.includes('"msg":"serving"'))!) as { http: string };
      const check = (name: string) =>
        spawnSync(process.execPath, [CLI, "--server", address, "--token", `${name}-token`, "check", "--agent", "bot", "--user", "u", "--action", "read", "-o", "json"], {
          encoding: "utf8",
        });
      const http = async (name: string): Promise<number> =>
        (
          await fetch(`${serving.http}/access/v1/evaluation`, {
            method: "POST",
            headers: { authorization: `Bearer ${name}-token`, "content-type": "application/json" },
            body: JSON.stringify({ subject: { type: "user", id: "u", properties: { act: { sub: "bot" } } }, action: { name: "read" }, resource: { type: "resource", id: "r" } }),
          })
        ).status;
      const reloads = (msg: string): number => logs.filter((l) => l.includes(`"msg":"${msg}"`)).length;
      const hup = async (msg: string): Promise<void> => {
        const before = reloads(msg);
        child.kill("SIGHUP");
        await until(`the SIGHUP log line '${msg}'`, async () => reloads(msg) > before);
      };

      expect(check("alice").status, check("alice").stderr).to.equal(0);
      const bobBefore = check("bob");
      expect(bobBefore.status).to.equal(1);
      expect(bobBefore.stderr).to.contain("UNAUTHENTICATED");
      expect(await http("bob")).to.equal(401);

      // Add bob: his token works on both transports.
      writeFileSync(serverConfig, callersFile("alice", "bob"));
      await hup("callers reloaded");
      expect(JSON.parse(logs.filter((l) => l.includes('"msg":"callers reloaded"')).at(-1)!)).to.deep.include({ callers: ["alice", "bob"], trigger: "SIGHUP" });
      const bobAfter = check("bob");
      expect(bobAfter.status, bobAfter.stderr).to.equal(0);
      expect(JSON.parse(bobAfter.stdout)).to.include({ allowed: true });
      expect(await http("bob")).to.equal(200);

      // Remove alice: her token is refused from the next call, and her console session ends.
      const aliceConsole = await signIn(serving.http, "alice-token");
      expect((await call(serving.http, "/console/health", { headers: { cookie: aliceConsole.cookie } })).status).to.equal(200);
      writeFileSync(serverConfig, callersFile("bob"));
      await hup("callers reloaded");
      const consoleAfter = await call(serving.http, "/console/health", { headers: { cookie: aliceConsole.cookie } });
      expect(consoleAfter.status).to.equal(303);
      expect(consoleAfter.headers["location"]).to.equal("/console/sign-in");
      const aliceGone = check("alice");
      expect(aliceGone.status).to.equal(1);
      expect(aliceGone.stderr).to.contain("UNAUTHENTICATED");
      expect(await http("alice")).to.equal(401);

      // A broken file (and one that would turn authentication off) keeps bob and only bob.
      writeFileSync(serverConfig, `callers:\n  carol: {tokens_sha256: ["not-a-digest"], groups: [nonsense]}\n`);
      await hup("invalid server config; callers unchanged");
      writeFileSync(serverConfig, `reload: {watch: false}\n`);
      await hup("callers not reloaded; callers unchanged");
      expect(logs.filter((l) => l.includes('"msg":"callers not reloaded; callers unchanged"')).at(-1)).to.contain("caller authentication cannot be turned off");
      expect(check("bob").status).to.equal(0);
      expect(check("carol").stderr).to.contain("UNAUTHENTICATED");
      expect(check("alice").stderr).to.contain("UNAUTHENTICATED");

      child.kill("SIGTERM");
      expect(await exited(child)).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
