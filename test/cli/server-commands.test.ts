import { expect } from "chai";
import { status } from "@grpc/grpc-js";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { isClientError } from "../../src/client/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { parseRedisTarget } from "../../src/state/redis/redis-target.ts";
import { CLI } from "../support/processes.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";
import { SERVER_POLICY, startTestServer } from "../support/server.ts";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: {}, color: false };
  return { code: await runCli(argv, io), out, err };
}

const METADATA_POLICY = SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null, include_metadata: true}");

describe("CLI against a server: explain, audit --last, recorded metadata", function () {
  this.timeout(60_000);

  it("explains over PolicyService.Explain (the policy group), exactly as locally, and records nothing", async () => {
    const { server, client } = await startTestServer();
    try {
      const at = `127.0.0.1:${server.port}`;
      const args = ["explain", "--agent", "assistant", "--user", "alice", "--action", "pay", "-r", "/prod/x", "--metadata", "amount=5000", "-o", "json"];
      const remote = await cli("--server", at, ...args);
      const local = await cli(...args, "-c", "/dev/stdin-unused");
      expect(local.code).to.equal(1); // no such policy file: an error, not a pass
      const dir = mkdtempSync(join(tmpdir(), "agent-auth-explain-"));
      writeFileSync(join(dir, "p.yaml"), SERVER_POLICY);
      const here = await cli("-c", join(dir, "p.yaml"), ...args);
      rmSync(dir, { recursive: true, force: true });
      expect(remote.code).to.equal(1);
      const r = JSON.parse(remote.out) as { decision: Record<string, unknown>; steps: { step: string; details: Record<string, unknown> }[] };
      expect(r).to.deep.equal(JSON.parse(here.out));
      expect(r.decision).to.deep.include({ allowed: false, reason: "Action 'pay' not authorized for agent 'assistant'" });
      // Nothing was audited: the history is empty.
      expect((await client.audit.query({})).events).to.deep.equal([]);
      // Malformed requests name the field.
      const bad = await client.policy.explain({ request: { agent: "", user: "u", action: "x" } }).catch((e: unknown) => e);
      expect(isClientError(bad) && bad.code === status.INVALID_ARGUMENT && bad.fieldViolations[0]?.field).to.equal("request.agent");
      // check --explain prints both.
      const checked = await cli("--server", at, "check", "--explain", "--agent", "deployer", "--user", "bob", "--action", "deploy");
      expect(checked.code).to.equal(0);
      expect(checked.out).to.match(/^ALLOWED ONLY WITH SOFT APPROVAL\n/).and.contain("Path of the decision:").and.contain("tier soft, the default tier of profile 'deployer'");
      expect((await client.audit.query({})).events).to.have.length(1);
    } finally {
      client.close();
      await server.close(100);
    }
  });

  it("audit --last N shows the newest N, oldest first, with resource, scope and decision id (Query.newest_first)", async () => {
    const { server, client } = await startTestServer();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await client.authorization.authorize({ agent: "assistant", user: `u${i}`, action: "read", resource: `/r/${i}`, scope: "project:a" })).decision!.decisionId);
      const at = `127.0.0.1:${server.port}`;
      const json = JSON.parse((await cli("audit", "--server", at, "--last", "3", "-o", "json")).out) as { user: string; decision_id: string }[];
      expect(json.map((e) => e.user)).to.deep.equal(["u4", "u5", "u6"]);
      const table = await cli("--server", at, "audit", "--last", "2");
      expect(table.out).to.contain("Resource").and.contain("Scope").and.contain("Decision ID").and.contain("/r/6").and.contain("project:a").and.contain(ids[6]!).and.not.contain(ids[4]!);
      // Newest first, paged.
      const first = await client.audit.query({ newestFirst: true, pageSize: 4 });
      expect(first.events.map((e) => e.user)).to.deep.equal(["u6", "u5", "u4", "u3"]);
      const next = await client.audit.query({ newestFirst: true, pageSize: 4, pageToken: first.nextPageToken });
      expect(next.events.map((e) => e.user)).to.deep.equal(["u2", "u1", "u0"]);
      expect(next.nextPageToken).to.equal("");
    } finally {
      client.close();
      await server.close(100);
    }
  });

  it("serves recorded metadata when the policy records it, and replay reads it from the server", async () => {
    const { server, client } = await startTestServer({}, METADATA_POLICY);
    try {
      await client.authorization.authorize({ agent: "caller", user: "u", action: "pay", metadata: { amount: 5000 } });
      await client.authorization.authorize({ agent: "caller", user: "u", action: "pay", metadata: { amount: 5 } });
      const events = (await client.audit.query({})).events;
      expect(events.map((e) => e.metadata)).to.deep.equal([{ amount: 5000 }, { amount: 5 }]);
      const dir = mkdtempSync(join(tmpdir(), "agent-auth-replay-"));
      try {
        // The new policy lowers the limit: the small payment now needs approval.
        writeFileSync(join(dir, "new.yaml"), METADATA_POLICY.replace("variables: {limit: 1000}", "variables: {limit: 1}"));
        const r = await cli("--server", `127.0.0.1:${server.port}`, "-c", join(dir, "new.yaml"), "replay", "--fail-on", "changed", "-o", "json");
        const report = JSON.parse(r.out) as { records: number; counts: Record<string, number> };
        expect(report.records).to.equal(2);
        expect(report.counts).to.deep.include({ unchanged: 1, tier_raised: 1, not_replayable: 0 });
        expect(r.code).to.equal(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      client.close();
      await server.close(100);
    }
  });

  it("sessions --create warns about an agent without a profile (and still creates the session)", async () => {
    const { server, client } = await startTestServer();
    try {
      const at = `127.0.0.1:${server.port}`;
      const r = await cli("--server", at, "sessions", "--create", "--agent", "ghost", "--user", "alice");
      expect(r.code).to.equal(0);
      expect(r.out).to.match(/^Session created: /);
      expect(r.err).to.equal("Warning: no profile named 'ghost': the session was created, but only delegations or user permissions can allow this agent anything\n");
      expect((await cli("--server", at, "sessions", "--create", "--agent", "assistant", "--user", "alice")).err).to.equal("");
    } finally {
      client.close();
      await server.close(100);
    }
  });

  it("reads the shared Redis history newest first too", async function () {
    const url = await requireRedis(this);
    const prefix = testPrefix("newest");
    const { server, client } = await startTestServer({ redis: { connection: parseRedisTarget(url), prefix } });
    try {
      for (let i = 0; i < 5; i++) await client.authorization.authorize({ agent: "assistant", user: `r${i}`, action: "read" });
      await server.engine.flush();
      const page = await client.audit.query({ newestFirst: true, pageSize: 2 });
      expect(page.events.map((e) => e.user)).to.deep.equal(["r4", "r3"]);
      const rest = await client.audit.query({ newestFirst: true, pageSize: 10, pageToken: page.nextPageToken });
      expect(rest.events.map((e) => e.user)).to.deep.equal(["r2", "r1", "r0"]);
    } finally {
      client.close();
      await server.close(100);
      await deletePrefix(url, prefix);
    }
  });
});

describe("CLI errors people can act on (real servers, real processes)", function () {
  this.timeout(90_000);
  let dir: string;
  const file = (n: string): string => join(dir, n);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-friendly-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
    for (const name of ["server", "client"]) {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name === "server" ? "localhost" : "client"}`);
      writeFileSync(file(`${name}.ext`), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
      ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    }
    writeFileSync(file("policy.yaml"), SERVER_POLICY);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const ask = ["check", "--agent", "assistant", "--user", "alice", "--action", "read"];

  it("explains a server that is not running, TLS on one side only, an unknown CA and a missing client certificate", async () => {
    const free = await freePort();
    const down = await cli("--server", `127.0.0.1:${free}`, ...ask);
    expect(down).to.deep.include({ code: 1 });
    expect(down.err).to.equal(`Error: no agent-auth server is running at 127.0.0.1:${free} (connection refused)\nHint: start one with 'agent-auth -c POLICY serve', or point --server at a running one\n`);

    const plain = await startTestServer();
    const { startAgentAuthServer } = await import("../../src/server/app/start-server.ts");
    const { silentLogger } = await import("../../src/server/logger.ts");
    const config = parseConfig(SERVER_POLICY, { env: {} });
    const tlsServer = await startAgentAuthServer({ config, port: 0, logger: silentLogger, tls: { cert: file("server.pem"), key: file("server.key") } });
    const mtlsServer = await startAgentAuthServer({ config, port: 0, logger: silentLogger, tls: { cert: file("server.pem"), key: file("server.key"), clientCa: file("ca.pem") } });
    try {
      const toTls = await cli("--server", `localhost:${tlsServer.port}`, ...ask);
      expect(toTls.err).to.match(/closed the connection during set-up; it probably requires TLS\nHint: use --server https:\/\/HOST:PORT/);
      const toPlain = await cli("--server", `https://localhost:${plain.server.port}`, "--tls-ca", file("ca.pem"), ...ask);
      expect(toPlain.err).to.match(/speaks plaintext, but the CLI asked for TLS\nHint: use --server http:\/\/HOST:PORT/);
      const unknownCa = await cli("--server", `https://localhost:${tlsServer.port}`, ...ask);
      expect(unknownCa.err).to.match(/the certificate of the server at localhost:\d+ is not trusted \(unable to verify the first certificate\)\nHint: pass --tls-ca FILE/);
      const ok = await cli("--server", `https://localhost:${tlsServer.port}`, "--tls-ca", file("ca.pem"), ...ask);
      expect(ok.code, ok.err).to.equal(0);
      const noCert = await cli("--server", `https://localhost:${mtlsServer.port}`, "--tls-ca", file("ca.pem"), ...ask);
      expect(noCert.err).to.match(/requires a client certificate \(mutual TLS\)\nHint: pass --tls-cert FILE --tls-key FILE/);
      const withCert = await cli(...ask, "--server", `https://localhost:${mtlsServer.port}`, "--tls-ca", file("ca.pem"), "--tls-cert", file("client.pem"), "--tls-key", file("client.key"));
      expect(withCert.code, withCert.err).to.equal(0);
      const wrongFile = await cli("--server", `https://localhost:${tlsServer.port}`, "--tls-ca", file("ca.key"), ...ask);
      expect(wrongFile.err).to.contain(`the TLS CA file ${file("ca.key")} holds no PEM certificate`);
      for (const r of [toTls, toPlain, unknownCa, noCert, wrongFile]) expect(r.err).to.not.match(/SSL routines|    at |Resolution note/);
    } finally {
      plain.client.close();
      await plain.server.close(100);
      await tlsServer.close(100);
      await mtlsServer.close(100);
    }
  });

  it("serve: a port in use is one JSON line with a hint (every line JSON), or a readable line with --log-format pretty", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const json = spawnSync(process.execPath, [CLI, "serve", "-c", file("policy.yaml"), "--port", String(port), "--log-format", "json"], { encoding: "utf8" });
      expect(json.status).to.equal(1);
      const lines = json.stderr.trim().split("\n").map((l) => JSON.parse(l) as { level: string; msg: string; hint?: string });
      expect(lines.at(-1)).to.deep.include({ level: "error", msg: `port ${port} on 127.0.0.1 is already in use` });
      expect(lines.at(-1)!.hint).to.contain("--port");
      expect(json.stdout).to.equal("");
      const pretty = spawnSync(process.execPath, [CLI, "serve", "-c", file("policy.yaml"), "--port", String(port), "--log-format", "pretty"], { encoding: "utf8" });
      expect(pretty.status).to.equal(1);
      expect(pretty.stderr).to.match(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ERROR port ${port} on 127\\.0\\.0\\.1 is already in use  hint=`, "m"));
      expect(pretty.stderr).to.not.contain("No address added").and.not.contain("    at ");
    } finally {
      holder.close();
    }
  });

  it("serve in JSON mode writes only JSON lines: warnings, policy errors and a bad TLS file included", () => {
    writeFileSync(file("warn.yaml"), SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: false, colour: blue}"));
    writeFileSync(file("bad.yaml"), "profiles: {a: {default_tier: hard}}\napproval_policies: [{name: x, condition: 'action == deploy', tier: soft}]\n");
    const runs = [
      spawnSync(process.execPath, [CLI, "serve", "-c", file("bad.yaml"), "--port", "0"], { encoding: "utf8" }),
      spawnSync(process.execPath, [CLI, "serve", "-c", file("warn.yaml"), "--port", "0", "--tls-cert", file("server.key"), "--tls-key", file("server.key")], { encoding: "utf8" }),
    ];
    for (const r of runs) {
      expect(r.status).to.equal(1);
      for (const line of r.stderr.trim().split("\n")) expect(() => JSON.parse(line), line).to.not.throw();
    }
    expect(runs[0]!.stderr).to.contain("invalid default_tier 'hard'").and.contain("'deploy' is read as a request field");
    expect(runs[1]!.stderr).to.contain("unknown key 'colour'").and.contain("holds no PEM certificate");
  });

  it("serve accepts global options after the command", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "-c", file("policy.yaml"), "--log-format", "json"], { stdio: ["ignore", "ignore", "pipe"] });
    let text = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (c: Buffer) => {
        text += c.toString();
        if (text.includes('"msg":"serving"')) resolve();
      });
      child.once("exit", () => reject(new Error(text)));
    });
    const done = new Promise<[number | null, string | null]>((resolve) => child.once("exit", (code, signal) => resolve([code, signal])));
    child.kill("SIGTERM");
    expect(await done, text).to.deep.equal([0, null]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
