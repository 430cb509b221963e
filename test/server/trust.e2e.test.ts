import { createHash } from "node:crypto";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { parseConfig } from "../../src/config/index.ts";
import { startAgentAuthServer, type AgentAuthServer } from "../../src/server/app/start-server.ts";
import { silentLogger } from "../../src/server/logger.ts";
import { parseServerConfig, type CallerConfig } from "../../src/server/server-config.ts";
import { createAgentAuthClient, isClientError, type AgentAuthClient, type ConnectOptions } from "../../src/client/index.ts";
import { SERVER_POLICY } from "../support/server.ts";
import { healthClient } from "../support/health.ts";

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return status.OK;
  } catch (error) {
    if (isClientError(error)) return error.code;
    throw error;
  }
}

async function firstOfStream(stream: AsyncIterable<unknown>): Promise<void> {
  // A stream the server accepts stays open: one event is enough to call it accepted.
  for await (const _ of stream) return;
}

describe("server config (--server-config)", () => {
  it("reads callers, limits, metrics and reload settings", () => {
    const c = parseServerConfig(`
callers:
  orchestrator: {tokens_sha256: ["${sha("t1")}"], groups: [authorize, sessions]}
  auditor: {certificates: ["CN=auditor", "URI:spiffe://acme/auditor"], groups: [audit]}
limits: {max_string_length: 64, max_batch: 5, max_expression_depth: 10}
metrics: {port: 0}
reload: {watch: false, settle_ms: 250}
`);
    expect(c.callers.map((x) => [x.name, [...x.groups]])).to.deep.equal([
      ["orchestrator", ["authorize", "sessions"]],
      ["auditor", ["audit"]],
    ]);
    expect(c.limits.maxStringLength).to.equal(64);
    expect(c.limits.maxBatch).to.equal(5);
    expect(c.limits.maxMetadataEntries).to.equal(256);
    expect(c.limits.expression).to.deep.equal({ maxLength: 8192, maxDepth: 10 });
    expect(c.metrics).to.deep.equal({ host: "127.0.0.1", port: 0 });
    expect(c.reload).to.deep.equal({ watch: false, settleMs: 250 });
    expect(parseServerConfig("metrics: {port: 0}\n").reload).to.deep.equal({ watch: true, settleMs: 1000 });
  });

  it("reports every problem, each naming its field", () => {
    let errors: readonly string[] = [];
    try {
      parseServerConfig(`
callers:
  plain: {tokens_sha256: ["hunter2"], groups: [authorize, admin]}
  nobody: {groups: [audit]}
  twin: {tokens_sha256: ["${sha("x")}", "${sha("x")}"], certificates: ["orchestrator"]}
limits: {max_batch: 0, max_string_length: "big", max_metadata_depth: 65, max_expression_depth: 1000000, surprise: 1}
metrics: {host: ""}
reload: {settle_ms: 60001}
colour: blue
`);
    } catch (error) {
      errors = (error as { errors: readonly string[] }).errors;
    }
    expect(errors).to.include.members([
      "callers.plain.tokens_sha256[0]: must be a SHA-256 digest in hex (64 characters), never the token itself",
      "callers.plain.groups[1]: unknown group 'admin'; groups are authorize, sessions, delegations, audit, policy, approvals, approve, approvals-relay",
      "callers.nobody: needs tokens_sha256 or certificates (or both)",
      "callers.twin.tokens_sha256[1]: the same token is already given to caller 'twin'",
      "callers.twin.certificates[0]: 'orchestrator' must start with CN=, DNS:, URI:, IP Address: or email:",
      "limits.max_batch: must be at least 1, got 0",
      "limits.max_string_length: must be an integer",
      "limits.max_metadata_depth: must be at most 64, got 65",
      "limits.max_expression_depth: must be at most 256, got 1000000",
      "metrics.host: must be a host name or address",
      "metrics.port: is required",
      "reload.settle_ms: must be at most 60000, got 60001",
    ]);
    expect(errors.some((e) => e.startsWith("limits.surprise: unknown key"))).to.equal(true);
    expect(errors.some((e) => e.startsWith("colour: unknown key"))).to.equal(true);
  });
});

describe("caller authentication and RPC groups (end to end)", function () {
  this.timeout(120_000);
  const callers: CallerConfig[] = [
    { name: "orchestrator", tokenHashes: [sha("orch-token")], certificates: [], groups: new Set(["authorize", "sessions"] as const) },
    { name: "auditor", tokenHashes: [sha("audit-token")], certificates: [], groups: new Set(["audit"] as const) },
    { name: "delegator", tokenHashes: [sha("deleg-token")], certificates: [], groups: new Set(["delegations"] as const) },
    { name: "admin", tokenHashes: [sha("admin-token")], certificates: [], groups: new Set(["authorize", "sessions", "delegations", "audit", "policy"] as const) },
  ];
  let dir: string;
  let server: AgentAuthServer;
  let policyPath: string;
  const clients: AgentAuthClient[] = [];
  const connect = (o: ConnectOptions = {}): AgentAuthClient => {
    const c = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000, ...o });
    clients.push(c);
    return c;
  };
  const bearer = (token: string): ConnectOptions => ({ metadata: { authorization: `Bearer ${token}` } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-trust-"));
    policyPath = join(dir, "policy.yaml");
    const text = SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null}");
    writeFileSync(policyPath, text);
    server = await startAgentAuthServer({
      config: parseConfig(text, { env: {} }),
      port: 0,
      logger: silentLogger,
      callers,
      refusalLog: join(dir, "refusals.jsonl"),
      refusalSummaryMs: 200,
      metrics: { host: "127.0.0.1", port: 0 },
      policyFile: { path: policyPath, watch: false },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every RPC, by the group that grants it; each call is valid for a permitted caller. */
  function rpcs(c: AgentAuthClient): Record<string, { group: string; call: () => Promise<unknown> }> {
    const deadline = { deadlineMs: 3000 };
    return {
      Authorize: { group: "authorize", call: () => c.authorization.authorize({ agent: "assistant", user: "alice", action: "read", scope: "project:x" }) },
      AuthorizeBatch: { group: "authorize", call: () => c.authorization.authorizeBatch({ requests: [{ agent: "assistant", user: "alice", action: "read" }] }) },
      CreateSession: { group: "sessions", call: () => c.sessions.createSession({ agent: "assistant", user: "alice" }) },
      GetSession: { group: "sessions", call: () => c.sessions.getSession({ sessionId: "no-such-session" }) },
      ListSessions: { group: "sessions", call: () => c.sessions.listSessions({}) },
      RevokeSession: { group: "sessions", call: () => c.sessions.revokeSession({ sessionId: "no-such-session" }) },
      CreateDelegation: { group: "delegations", call: () => c.delegations.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["read"], durationSeconds: 60n }) },
      ListDelegations: { group: "delegations", call: () => c.delegations.listDelegations({}) },
      RevokeDelegation: { group: "delegations", call: () => c.delegations.revokeDelegation({ delegationId: "no-such-grant" }) },
      Subscribe: {
        group: "audit",
        // Subscribing from the oldest retained decision: a permitted caller receives one at once.
        call: () => firstOfStream(c.audit.subscribe({ afterCursor: "0-0" }, deadline)),
      },
      Query: { group: "audit", call: () => c.audit.query({}) },
      ValidatePolicy: { group: "policy", call: () => c.policy.validatePolicy({ yaml: SERVER_POLICY }) },
      DescribePolicy: { group: "policy", call: () => c.policy.describePolicy({}) },
      ReloadPolicy: { group: "policy", call: () => c.policy.reloadPolicy({}) },
    };
  }

  it("walks the whole matrix of callers × RPCs: granted groups pass, everything else is refused and audited", async () => {
    // One decision exists, so that a permitted subscriber from 0-0 gets an event at once.
    await connect(bearer("admin-token")).authorization.authorize({ agent: "assistant", user: "alice", action: "read" });
    const identities: Array<{ who: string; options: ConnectOptions; groups: ReadonlySet<string> | undefined }> = [
      { who: "no credentials", options: {}, groups: undefined },
      { who: "unknown token", options: bearer("guessed-token"), groups: undefined },
      { who: "malformed header", options: { metadata: { authorization: "Basic b3JjaDp0b2tlbg==" } }, groups: undefined },
      ...callers.map((c) => ({ who: c.name, options: bearer(`${c.name === "orchestrator" ? "orch" : c.name === "auditor" ? "audit" : c.name === "delegator" ? "deleg" : "admin"}-token`), groups: c.groups as ReadonlySet<string> })),
    ];
    let expectedRefusals = 0;
    const table: string[] = [];
    for (const id of identities) {
      const c = connect(id.options);
      const row: string[] = [];
      for (const [name, rpc] of Object.entries(rpcs(c))) {
        const code = await codeOf(rpc.call());
        row.push(`${name}=${status[code]}`);
        if (id.groups === undefined) {
          expect(code, `${id.who} → ${name}`).to.equal(status.UNAUTHENTICATED);
          expectedRefusals++;
        } else if (!id.groups.has(rpc.group)) {
          expect(code, `${id.who} → ${name}`).to.equal(status.PERMISSION_DENIED);
          expectedRefusals++;
        } else {
          // Granted: the call reaches its handler (NOT_FOUND for unknown ids is the handler's answer).
          expect([status.OK, status.NOT_FOUND], `${id.who} → ${name}`).to.include(code);
        }
      }
      table.push(`${id.who}: ${row.join(" ")}`);
    }
    // 3 anonymous rows of 14; orchestrator lacks 8 RPCs, auditor 12, delegator 11, admin none.
    expect(expectedRefusals).to.equal(3 * 14 + 8 + 12 + 11);

    // Every refusal is in the refusal log: an identified caller's one line each, with the caller
    // and the method; unidentified ones the first of a burst in full, the rest in summary lines.
    await new Promise((r) => setTimeout(r, 400));
    const lines = readFileSync(join(dir, "refusals.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l["code"] === "PERMISSION_DENIED")).to.have.length(expectedRefusals - 42);
    const unauthenticated = lines.filter((l) => l["code"] === "UNAUTHENTICATED");
    expect(unauthenticated.reduce((n, l) => n + (l["event"] === "calls_refused_summary" ? (l["count"] as number) : 1), 0)).to.equal(42);
    expect(lines.find((l) => l["caller"] === "auditor" && l["method"] === "/agentauth.v1.SessionService/CreateSession")).to.include({ event: "call_refused", code: "PERMISSION_DENIED" });
    // …and counted in the metrics.
    const text = await (await fetch(`http://${server.metricsEndpoint!.address}/metrics`)).text();
    const refused = [...text.matchAll(/^agent_auth_calls_refused_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(refused).to.equal(expectedRefusals);
  });

  it("refuses an unauthenticated call before decoding its body", async () => {
    const { Client, credentials, Metadata } = await import("@grpc/grpc-js");
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const send = (headers: InstanceType<typeof Metadata>): Promise<number> =>
      new Promise((resolve) =>
        raw.makeUnaryRequest("/agentauth.v1.AuthorizationService/Authorize", (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0xff, 0xff, 0xff]), headers, { deadline: Date.now() + 5000 }, (e: { code: number } | null) =>
          resolve(e === null ? status.OK : e.code),
        ),
      );
    expect(await send(new Metadata())).to.equal(status.UNAUTHENTICATED);
    const authed = new Metadata();
    authed.set("authorization", "Bearer orch-token");
    expect(await send(authed)).to.equal(status.INVALID_ARGUMENT);
    raw.close();
  });

  it("refuses a call with two authorization headers, whichever comes first", async function () {
    // Node's HTTP/2 clients cannot send a header twice; nghttp (Debian's nghttp2-client) can.
    if (spawnSync("nghttp", ["--version"], { stdio: "ignore" }).status !== 0) {
      if (process.env["CI"] === "true") throw new Error("nghttp (nghttp2-client) is required in CI");
      this.skip();
    }
    const body = join(dir, "empty.grpc");
    writeFileSync(body, Buffer.alloc(5));
    const call = (...tokens: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const headers = ["content-type: application/grpc", "te: trailers", ...tokens.map((t) => `authorization: Bearer ${t}`)].flatMap((h) => ["-H", h]);
        execFile("nghttp", ["-v", ...headers, "-d", body, `http://127.0.0.1:${server.port}/agentauth.v1.AuthorizationService/Authorize`], { timeout: 20_000 }, (error, stdout) =>
          error !== null && stdout === "" ? reject(error) : resolve(stdout),
        );
      });
    const trailer = (out: string, name: string): string | undefined => new RegExp(`\\) ${name}: (.*)$`, "m").exec(out)?.[1];
    // One valid token reaches the handler (which refuses the empty request).
    expect(trailer(await call("orch-token"), "grpc-status")).to.equal(String(status.INVALID_ARGUMENT));
    for (const tokens of [["orch-token", "guessed"], ["guessed", "orch-token"], ["orch-token", "orch-token"]]) {
      const out = await call(...tokens);
      expect(trailer(out, "grpc-status"), tokens.join(", ")).to.equal(String(status.UNAUTHENTICATED));
      expect(decodeURIComponent(trailer(out, "grpc-message") ?? "")).to.equal("caller not authenticated: more than one authorization header");
    }
  });

  it("answers health checks without credentials", async () => {
    const health = healthClient(`127.0.0.1:${server.port}`);
    expect(await health.check("")).to.equal("SERVING");
    expect(await health.check("agentauth.v1.AuthorizationService")).to.equal("SERVING");
    health.close();
  });
});

describe("callers identified by client certificate (mutual TLS)", function () {
  this.timeout(120_000);
  let dir: string;
  const file = (n: string): string => join(dir, n);
  let server: AgentAuthServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-mtls-callers-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca");
    for (const [name, cn, ext] of [
      ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ["auditor", "auditor", "subjectAltName=URI:spiffe://acme/auditor"],
      ["orchestrator", "orchestrator", "subjectAltName=DNS:orchestrator.acme.internal"],
      ["stranger", "stranger", "subjectAltName=DNS:stranger.example"],
    ] as const) {
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
      writeFileSync(file(`${name}.ext`), `${ext}\n`);
      ssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    }
    const text = SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null}");
    server = await startAgentAuthServer({
      config: parseConfig(text, { env: {} }),
      port: 0,
      logger: silentLogger,
      tls: { cert: file("server.pem"), key: file("server.key"), clientCa: file("ca.pem") },
      callers: [
        { name: "auditor", tokenHashes: [], certificates: ["URI:spiffe://acme/auditor"], groups: new Set(["audit"] as const) },
        { name: "orchestrator", tokenHashes: [], certificates: ["CN=orchestrator"], groups: new Set(["authorize"] as const) },
      ],
    });
  });
  after(async () => {
    await server.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  const as = (name: string): AgentAuthClient =>
    createAgentAuthClient(`localhost:${server.port}`, { defaultDeadlineMs: 5000, tls: { ca: file("ca.pem"), cert: file(`${name}.pem`), key: file(`${name}.key`) } });

  it("maps the certificate's CN or SAN to a caller and applies its groups", async () => {
    const orchestrator = as("orchestrator");
    const auditor = as("auditor");
    const stranger = as("stranger");
    try {
      expect(await codeOf(orchestrator.authorization.authorize({ agent: "assistant", user: "alice", action: "read" }))).to.equal(status.OK);
      expect(await codeOf(orchestrator.audit.query({}))).to.equal(status.PERMISSION_DENIED);
      expect(await codeOf(auditor.audit.query({}))).to.equal(status.OK);
      expect(await codeOf(auditor.authorization.authorize({ agent: "assistant", user: "alice", action: "read" }))).to.equal(status.PERMISSION_DENIED);
      // A certificate the CA signed but no caller is configured for: unauthenticated.
      expect(await codeOf(stranger.authorization.authorize({ agent: "assistant", user: "alice", action: "read" }))).to.equal(status.UNAUTHENTICATED);
    } finally {
      orchestrator.close();
      auditor.close();
      stranger.close();
    }
  });
});

describe("limits (configurable, each naming its setting)", function () {
  this.timeout(120_000);
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  before(async () => {
    server = await startAgentAuthServer({
      config: parseConfig(SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null}"), { env: {} }),
      port: 0,
      logger: silentLogger,
      maxBatch: 2,
      maxMessageBytes: 4096,
      limits: { maxStringLength: 16, maxMetadataEntries: 2, maxMetadataDepth: 2 },
      maxSubscribers: 1,
    });
    client = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 5000 });
  });
  after(async () => {
    client.close();
    await server.close(1000);
  });

  async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
    try {
      await p;
    } catch (error) {
      if (isClientError(error)) return { code: error.code, details: error.details };
      throw error;
    }
    throw new Error("expected a failure");
  }

  it("refuses what exceeds each limit with INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming it", async () => {
    const base = { agent: "assistant", user: "alice", action: "read" };
    let e = await failure(client.authorization.authorize({ ...base, resource: "r".repeat(17) }));
    expect([status[e.code], e.details]).to.deep.equal(["INVALID_ARGUMENT", "resource: is 17 characters long; the limit is 16 (limits.max_string_length)"]);
    e = await failure(client.authorization.authorize({ ...base, metadata: { a: 1, b: 2, c: 3 } }));
    expect([status[e.code], e.details]).to.deep.equal(["INVALID_ARGUMENT", "metadata: metadata has more than 2 entries (limits.max_metadata_entries)"]);
    e = await failure(client.authorization.authorize({ ...base, metadata: { a: { b: { c: 1 } } } }));
    expect([status[e.code], e.details]).to.deep.equal(["INVALID_ARGUMENT", "metadata.a.b: nesting exceeds the limit of 2 levels (limits.max_metadata_depth)"]);
    e = await failure(client.authorization.authorizeBatch({ requests: [base, base, base] }));
    expect([status[e.code], e.details]).to.deep.equal(["INVALID_ARGUMENT", "requests: has 3 items; the limit is 2 (limits.max_batch)"]);
    e = await failure(client.policy.validatePolicy({ yaml: "x".repeat(5000) }));
    expect([status[e.code], e.details]).to.deep.equal(["RESOURCE_EXHAUSTED", "request is 5003 bytes; the limit is 4096 (limits.max_message_bytes)"]);
    // Far over the limit, the transport itself refuses the message, with the same code.
    e = await failure(client.policy.validatePolicy({ yaml: "x".repeat(20_000) }));
    expect(status[e.code]).to.equal("RESOURCE_EXHAUSTED");

    const stop = new AbortController();
    const first = firstOfStream(client.audit.subscribe({}, { signal: stop.signal, deadlineMs: Infinity })).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    e = await failure(firstOfStream(client.audit.subscribe({})));
    expect([status[e.code], e.details]).to.deep.equal(["RESOURCE_EXHAUSTED", "this server already has 1 audit subscribers, the limit (limits.max_subscribers)"]);
    stop.abort();
    await first;
    // The server keeps serving.
    expect((await client.authorization.authorize(base)).decision?.reason).to.equal("Allowed by profile 'assistant'");
  });
});

describe("metrics endpoint (Prometheus)", function () {
  this.timeout(120_000);
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  before(async () => {
    server = await startAgentAuthServer({
      config: parseConfig(SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null}"), { env: {} }),
      port: 0,
      logger: silentLogger,
      metrics: { host: "127.0.0.1", port: 0 },
    });
    client = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 5000 });
  });
  after(async () => {
    client.close();
    await server.close(1000);
  });

  const scrape = async (): Promise<Map<string, number>> => {
    const res = await fetch(`http://${server.metricsEndpoint!.address}/metrics`);
    expect(res.headers.get("content-type")).to.contain("text/plain");
    const out = new Map<string, number>();
    for (const line of (await res.text()).split("\n")) {
      const m = /^(agent_auth_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m !== null) out.set(m[1]!, Number(m[2]));
    }
    return out;
  };

  it("counts decisions by effect and tier, state reads, subscribers and stream lag; drops stay 0", async () => {
    const stop = new AbortController();
    const events: unknown[] = [];
    const following = (async () => {
      for await (const e of client.audit.subscribe({}, { signal: stop.signal, deadlineMs: Infinity })) events.push(e);
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect((await scrape()).get("agent_auth_audit_subscribers")).to.equal(1);

    const { session } = await client.sessions.createSession({ agent: "assistant", user: "alice" });
    for (let i = 0; i < 3; i++) await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read", sessionId: session!.sessionId });
    await client.authorization.authorize({ agent: "assistant", user: "alice", action: "delete" });
    await client.authorization.authorize({ agent: "deployer", user: "alice", action: "deploy" });
    while (events.length < 5) await new Promise((r) => setTimeout(r, 20));

    const m = await scrape();
    expect(m.get('agent_auth_decisions_total{effect="allow",tier="autonomous"}')).to.equal(3);
    expect(m.get('agent_auth_decisions_total{effect="allow",tier="soft"}')).to.equal(1);
    expect(m.get('agent_auth_decisions_total{effect="deny",tier="autonomous"}')).to.equal(1);
    expect(m.get("agent_auth_decision_duration_seconds_count")).to.equal(5);
    expect(m.get("agent_auth_state_store_duration_seconds_count")).to.equal(3);
    expect(m.get("agent_auth_state_store_up")).to.equal(1);
    expect(m.get("agent_auth_state_store_errors_total")).to.equal(0);
    expect(m.get('agent_auth_audit_records_dropped_total{sink="file"}')).to.equal(0);
    expect(m.get("agent_auth_audit_stream_lag_seconds")).to.be.within(0, 5);
    expect(m.get('agent_auth_rpc_total{method="/agentauth.v1.AuthorizationService/Authorize",code="OK"}')).to.equal(5);
    expect(m.get(`agent_auth_policy_info{revision="${server.engine.revision}",name="server-test",version="1.0"}`)).to.equal(1);
    stop.abort();
    await following;
  });

  it("serves only /metrics", async () => {
    const res = await fetch(`http://${server.metricsEndpoint!.address}/`);
    expect(res.status).to.equal(404);
  });
});
