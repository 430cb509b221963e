import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { AgentAuthServer } from "../../../src/server/app/start-server.ts";
import type { CallerConfig } from "../../../src/server/server-config.ts";
import { call, type HttpCall } from "../../support/http.ts";
import { startTestServer } from "../../support/server.ts";

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");
const body = { subject: { type: "user", id: "alice", properties: { act: { sub: "assistant" } } }, action: { name: "read" }, resource: { type: "d", id: "/docs/1" } };

describe("AuthZEN over HTTP: the same callers as gRPC", function () {
  this.timeout(60_000);
  let dir: string;
  let server: AgentAuthServer;
  let base: string;
  const callers: CallerConfig[] = [
    { name: "gateway", tokenHashes: [sha("gw-token")], certificates: [], groups: new Set(["authorize"] as const) },
    { name: "auditor", tokenHashes: [sha("audit-token")], certificates: [], groups: new Set(["audit"] as const) },
  ];
  const evaluate = (c: Omit<HttpCall, "body"> = {}) => call(base, "/access/v1/evaluation", { body, ...c });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-http-callers-"));
    ({ server } = await startTestServer({ http: { port: 0 }, callers, refusalLog: join(dir, "refusals.jsonl") }));
    base = server.http!.url;
  });
  after(async () => {
    await server?.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 401 with WWW-Authenticate without a token, and with invalid_token for an unknown or malformed one", async () => {
    const none = await evaluate({ headers: { "x-request-id": "r-401" } });
    expect(none.status).to.equal(401);
    expect(none.headers["www-authenticate"]).to.equal('Bearer realm="agent-auth"');
    expect(none.headers["x-request-id"]).to.equal("r-401");
    expect(none.json.error).to.equal("caller not authenticated: no bearer token and no client certificate");
    const unknown = await evaluate({ headers: { authorization: "Bearer nope" } });
    expect(unknown.status).to.equal(401);
    expect(unknown.headers["www-authenticate"]).to.equal('Bearer realm="agent-auth", error="invalid_token"');
    const malformed = await evaluate({ headers: { authorization: "Basic Zm9vOmJhcg==" } });
    expect(malformed.status).to.equal(401);
    expect(malformed.json.error).to.include("not 'Bearer <token>'");
    const twice = await evaluate({ headers: { authorization: ["Bearer gw-token", "Bearer gw-token"] } });
    expect(twice.status).to.equal(401);
    expect(twice.json.error).to.include("more than one authorization header");
  });

  it("checks the caller before the body: an unauthenticated malformed request is 401, not 400", async () => {
    const r = await call(base, "/access/v1/evaluation", { raw: "{", headers: { "content-type": "application/json" } });
    expect(r.status).to.equal(401);
  });

  it("answers 403 to a caller without the authorize group, on every decision route", async () => {
    for (const path of ["/access/v1/evaluation", "/access/v1/evaluations", "/access/v1/search/subject", "/access/v1/search/action", "/access/v1/search/resource"]) {
      const r = await call(base, path, { body, headers: { authorization: "Bearer audit-token" } });
      expect(r.status, path).to.equal(403);
      expect(r.json.error).to.equal(`caller 'auditor' is not granted the 'authorize' group needed for POST ${path}`);
    }
  });

  it("decides for a granted caller and records the caller with the request id", async () => {
    const r = await evaluate({ headers: { authorization: "Bearer gw-token", "x-request-id": "trace-9" } });
    expect(r.status).to.equal(200);
    expect(r.json.decision).to.equal(true);
    const [entry] = (await server.hub.query({ limit: 1000 })).entries.filter((e) => e.event.decision.decisionId === r.json.context.decision_id);
    expect(entry!.event.origin).to.deep.equal({ transport: "http", requestId: "trace-9", caller: "gateway" });
  });

  it("serves discovery without credentials", async () => {
    const r = await call(base, "/.well-known/authzen-configuration");
    expect(r.status).to.equal(200);
    expect(r.json.access_evaluation_endpoint).to.equal(`${base}/access/v1/evaluation`);
  });

  it("reports refusals as gRPC refusals are: refusal log and metric", async () => {
    const lines = readFileSync(join(dir, "refusals.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).to.deep.include({ timestamp: lines.find((l) => l["caller"] === "auditor")!["timestamp"], event: "call_refused", method: "POST /access/v1/evaluation", group: "authorize", caller: "auditor", code: "PERMISSION_DENIED", reason: "caller 'auditor' is not granted the 'authorize' group needed for POST /access/v1/evaluation", peer: lines.find((l) => l["caller"] === "auditor")!["peer"] });
    expect(lines.some((l) => l["code"] === "UNAUTHENTICATED" && l["method"] === "POST /access/v1/evaluation")).to.equal(true);
    const metrics = await server.metrics.registry.getSingleMetricAsString("agent_auth_calls_refused_total");
    expect(metrics).to.match(/agent_auth_calls_refused_total\{group="authorize",code="PERMISSION_DENIED"\} [1-9]/);
  });
});

describe("AuthZEN over HTTPS: TLS and client certificates as for gRPC", function () {
  this.timeout(60_000);
  let dir: string;
  const file = (n: string): string => join(dir, n);
  const pem = (n: string): Buffer => readFileSync(file(n));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-http-tls-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
    for (const [name, cn, ext] of [
      ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ["gateway", "gateway", "subjectAltName=URI:spiffe://acme/gateway"],
      ["stranger", "stranger", "subjectAltName=DNS:stranger.example"],
    ] as const) {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
      writeFileSync(file(`${name}.ext`), `${ext}\n`);
      ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves HTTPS with the gRPC certificate, and discovery names https", async () => {
    const { server, client } = await startTestServer({ http: { port: 0 }, tls: { cert: file("server.pem"), key: file("server.key") } }, undefined, { tls: { ca: file("ca.pem") } });
    try {
      const base = `https://localhost:${server.http!.port}`;
      const r = await call(base, "/access/v1/evaluation", { body, tls: { ca: pem("ca.pem") } });
      expect(r.status).to.equal(200);
      expect(r.json.decision).to.equal(true);
      const d = await call(base, "/.well-known/authzen-configuration", { tls: { ca: pem("ca.pem") } });
      expect(d.json.policy_decision_point).to.equal(base);
    } finally {
      client.close();
      await server.close(500);
    }
  });

  it("identifies callers by client certificate under mutual TLS and refuses unknown ones", async () => {
    const { server, client } = await startTestServer(
      {
        http: { port: 0 },
        tls: { cert: file("server.pem"), key: file("server.key"), clientCa: file("ca.pem") },
        callers: [{ name: "gateway", tokenHashes: [], certificates: ["URI:spiffe://acme/gateway"], groups: new Set(["authorize"] as const) }],
      },
      undefined,
      { tls: { ca: file("ca.pem"), cert: file("gateway.pem"), key: file("gateway.key") } },
    );
    try {
      const base = `https://localhost:${server.http!.port}`;
      const as = (name: string) => ({ ca: pem("ca.pem"), cert: pem(`${name}.pem`), key: pem(`${name}.key`) });
      const ok = await call(base, "/access/v1/evaluation", { body, tls: as("gateway") });
      expect(ok.status).to.equal(200);
      const [entry] = (await server.hub.query({ limit: 1000 })).entries.filter((e) => e.event.decision.decisionId === ok.json.context.decision_id);
      expect(entry!.event.origin?.caller).to.equal("gateway");
      const stranger = await call(base, "/access/v1/evaluation", { body, tls: as("stranger") });
      expect(stranger.status).to.equal(401);
      expect(stranger.json.error).to.include("no caller is configured for the client certificate");
      // Without a client certificate the TLS handshake itself is refused.
      let failed = false;
      try {
        await call(base, "/access/v1/evaluation", { body, tls: { ca: pem("ca.pem") } });
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
    } finally {
      client.close();
      await server.close(500);
    }
  });
});
