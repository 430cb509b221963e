import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { AgentAuthServer } from "../../../src/server/app/start-server.ts";
import type { CallerConfig } from "../../../src/server/server-config.ts";
import { form, setCookies, signIn as signInAs } from "../../support/console.ts";
import { call, type HttpAnswer } from "../../support/http.ts";
import { SERVER_POLICY, startTestServer } from "../../support/server.ts";
import { openEvents } from "../../support/sse.ts";

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");
const HOSTILE = `<img src=x onerror="window.__xss=1">`;
/** The test policy with metadata recorded, so the record page shows it. */
const POLICY = SERVER_POLICY.replace("audit: {enabled: false}", "audit: {enabled: true, path: /dev/null, include_metadata: true}");
const CALLERS: CallerConfig[] = [
  { name: "gateway", tokenHashes: [sha("gw-token")], certificates: [], groups: new Set(["authorize"] as const) },
  { name: "auditor", tokenHashes: [sha("audit-token")], certificates: [], groups: new Set(["audit"] as const) },
  { name: "operator", tokenHashes: [sha("policy-token")], certificates: [], groups: new Set(["policy"] as const) },
];

function expectSecurityHeaders(answer: HttpAnswer): void {
  const csp = String(answer.headers["content-security-policy"]);
  expect(csp).to.include("default-src 'self'");
  expect(csp).to.include("script-src 'self'");
  expect(csp).to.include("style-src 'self'");
  expect(csp).to.include("frame-ancestors 'none'");
  expect(csp).not.to.include("unsafe-inline");
  expect(answer.headers["x-content-type-options"]).to.equal("nosniff");
  expect(answer.headers["x-frame-options"]).to.equal("DENY");
}

describe("console over HTTP: with callers configured", function () {
  this.timeout(60_000);
  let server: AgentAuthServer;
  let base: string;

  const signIn = (token: string) => signInAs(base, token);

  const evaluate = (agent: string, user: string, action: string, resource: string, context: Record<string, unknown> = {}) =>
    call(base, "/access/v1/evaluation", {
      body: { subject: { type: "agent", id: agent, properties: { user } }, action: { name: action }, resource: { type: "r", id: resource }, context },
      headers: { authorization: "Bearer gw-token" },
    });

  before(async () => {
    ({ server } = await startTestServer({ http: { port: 0 }, callers: CALLERS }, POLICY));
    base = server.http!.url;
  });
  after(async () => {
    await server?.close(1000);
  });

  it("sends a browser that is not signed in to the sign-in form, with a CSRF cookie for it", async () => {
    for (const path of ["/console", "/console/", "/console/decisions", "/console/policy", "/console/health"]) {
      const answer = await call(base, path);
      expect(answer.status, path).to.equal(303);
      expect(answer.headers.location, path).to.equal("/console/sign-in");
    }
    const page = await call(base, "/console/sign-in");
    expect(page.status).to.equal(200);
    expectSecurityHeaders(page);
    expect(page.text).to.include('<input type="password" name="token"');
    expect(page.text).not.to.include("Authentication is off");
    const csrf = setCookies(page).get("agent_auth_console_csrf")!;
    expect(csrf.value).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(page.text).to.include(`name="csrf" value="${csrf.value}"`);
    expect(csrf.attributes).to.equal("Path=/console; Max-Age=3600; HttpOnly; SameSite=Strict");
  });

  it("refuses a sign-in without the CSRF token, with another one, or sent cross-site", async () => {
    const csrf = setCookies(await call(base, "/console/sign-in")).get("agent_auth_console_csrf")!.value;
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      call(base, "/console/sign-in", { method: "POST", raw: form(fields), headers: { "content-type": "application/x-www-form-urlencoded", cookie: `agent_auth_console_csrf=${csrf}`, ...headers } });
    const none = await post({ token: "audit-token" });
    expect(none.status).to.equal(403);
    expect(none.text).to.include("no CSRF token");
    expect(setCookies(none).has("agent_auth_console")).to.equal(false);
    const other = await post({ token: "audit-token", csrf: "x".repeat(43) });
    expect(other.status).to.equal(403);
    expect(other.text).to.include("does not match");
    const noCookie = await call(base, "/console/sign-in", { method: "POST", raw: form({ token: "audit-token", csrf }), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(noCookie.status).to.equal(403);
    const crossSite = await post({ token: "audit-token", csrf }, { "sec-fetch-site": "cross-site" });
    expect(crossSite.status).to.equal(403);
    expect(crossSite.text).to.include("another site");
  });

  it("refuses an unknown token without a session and without echoing it", async () => {
    const csrf = setCookies(await call(base, "/console/sign-in")).get("agent_auth_console_csrf")!.value;
    const answer = await call(base, "/console/sign-in", {
      method: "POST",
      raw: form({ csrf, token: "not-a-token<b>" }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `agent_auth_console_csrf=${csrf}` },
    });
    expect(answer.status).to.equal(401);
    expect(answer.text).to.include("That token is not accepted.");
    expect(answer.text).not.to.include("not-a-token");
    expect(setCookies(answer).has("agent_auth_console")).to.equal(false);
  });

  it("signs in to an HttpOnly, SameSite=Strict session cookie with a bounded lifetime, and clears the CSRF cookie", async () => {
    const csrf = setCookies(await call(base, "/console/sign-in")).get("agent_auth_console_csrf")!.value;
    const answer = await call(base, "/console/sign-in", {
      method: "POST",
      raw: form({ csrf, token: " audit-token " }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `agent_auth_console_csrf=${csrf}` },
    });
    expect(answer.status).to.equal(303);
    expect(answer.headers.location).to.equal("/console/");
    const cookies = setCookies(answer);
    const session = cookies.get("agent_auth_console")!;
    expect(session.value).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(session.attributes).to.equal("Path=/console; Max-Age=28800; HttpOnly; SameSite=Strict");
    expect(cookies.get("agent_auth_console_csrf")!.attributes).to.include("Max-Age=0");
    const home = await call(base, "/console/", { headers: { cookie: `agent_auth_console=${session.value}` } });
    expect(home.status).to.equal(303);
    expect(home.headers.location).to.equal("/console/decisions");
  });

  it("grants pages by the caller's groups: audit for decisions and their stream, policy for the policy", async () => {
    const auditor = await signIn("audit-token");
    const decisions = await call(base, "/console/decisions", { headers: { cookie: auditor.cookie } });
    expect(decisions.status).to.equal(200);
    expectSecurityHeaders(decisions);
    expect(decisions.text).to.include("Signed in as <strong>auditor</strong>");
    expect(decisions.text).to.include('href="/console/decisions" aria-current="page"');
    expect(decisions.text).not.to.include('href="/console/policy"');
    expect((await call(base, "/console/policy", { headers: { cookie: auditor.cookie } })).status).to.equal(403);
    expect((await call(base, "/console/health", { headers: { cookie: auditor.cookie } })).status).to.equal(200);

    const operator = await signIn("policy-token");
    const policy = await call(base, "/console/policy", { headers: { cookie: operator.cookie } });
    expect(policy.status).to.equal(200);
    expect(policy.text).to.include(server.engine.revision);
    expect(policy.text).to.include("<strong>editor</strong>");
    expect(policy.text).to.include("<code>resource starts_with &quot;/prod&quot;</code>");
    const denied = await call(base, "/console/decisions", { headers: { cookie: operator.cookie } });
    expect(denied.status).to.equal(403);
    expect(denied.text).to.include("Caller &#39;operator&#39; is not granted the &#39;audit&#39; group");
    const stream = await call(base, "/console/events", { headers: { cookie: operator.cookie } });
    expect(stream.status).to.equal(403);
    const anonymous = await call(base, "/console/events");
    expect(anonymous.status).to.equal(401);
    const forged = await call(base, "/console/decisions", { headers: { cookie: "agent_auth_console=" + "A".repeat(43) } });
    expect(forged.status).to.equal(303);
  });

  it("streams decisions as Server-Sent Events with cursors as ids, and resumes after Last-Event-ID without a gap", async () => {
    const { cookie } = await signIn("audit-token");
    const live = await openEvents(base, "/console/events", { cookie });
    expect(live.status).to.equal(200);
    expect(live.headers["content-type"]).to.equal("text/event-stream; charset=utf-8");
    expect(live.headers["content-security-policy"]).to.include("default-src 'self'");
    expect((await evaluate("assistant", "alice", "read", "/docs/1", { scope: "project:x" })).status).to.equal(200);
    const first = await live.next();
    const row = JSON.parse(first.data) as Record<string, unknown>;
    expect(first.id).to.equal(row["cursor"]);
    expect(row).to.include({ agent: "assistant", user: "alice", action: "read", resource: "/docs/1", effect: "allow", tier: "autonomous" });
    live.close();
    // Two decisions while no stream is open: the next stream resumes after the first one and gets both, in order.
    await evaluate("assistant", "bob", "write", "/docs/2");
    await evaluate("assistant", "carol", "delete", "/docs/3");
    const resumed = await openEvents(base, "/console/events", { cookie, "last-event-id": first.id });
    const users = [JSON.parse((await resumed.next()).data).user, JSON.parse((await resumed.next()).data).user];
    expect(users).to.deep.equal(["bob", "carol"]);
    resumed.close();
    // A cursor the history does not know: the stream says decisions may be missing and continues live.
    const lost = await openEvents(base, "/console/events", { cookie, "last-event-id": "1-0@zzzzzzzz" });
    const notice = await lost.next();
    expect(notice.event).to.equal("notice");
    expect(notice.data).to.include("Decisions may be missing");
    lost.close();
  });

  it("renders hostile agent, user, action, resource, scope, metadata and reason text as text on the feed and the record page", async () => {
    const { cookie } = await signIn("audit-token");
    const answer = await evaluate(HOSTILE, HOSTILE, HOSTILE, HOSTILE, { note: HOSTILE, scope: HOSTILE });
    expect(answer.status).to.equal(200);
    const feed = await call(base, `/console/decisions?agent=${encodeURIComponent(HOSTILE)}`, { headers: { cookie } });
    expect(feed.status).to.equal(200);
    expect(feed.text).not.to.include("<img");
    expect(feed.text).to.include("&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;");
    const href = /href="(\/console\/decisions\/[^"]+)"/.exec(feed.text)![1]!;
    const record = await call(base, href, { headers: { cookie } });
    expect(record.status).to.equal(200);
    expect(record.text).not.to.include("<img");
    expect(record.text).to.include("&quot;note&quot;: &quot;&lt;img src=x onerror=\\&quot;window.__xss=1\\&quot;&gt;&quot;");
    expect(record.text).to.match(/<dt>Reason<\/dt><dd>[^<]*&lt;img/);
    expect(record.text).to.include("<dt>Scope</dt><dd>&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;</dd>");
    expect(record.text).to.include("<dt>Caller</dt><dd>gateway</dd>");
    const missing = await call(base, "/console/decisions/1-0", { headers: { cookie } });
    expect(missing.status).to.equal(404);
    const malformed = await call(base, `/console/decisions/${encodeURIComponent(HOSTILE)}`, { headers: { cookie } });
    expect(malformed.status).to.equal(404);
    expect(malformed.text).not.to.include("<img");
  });

  it("filters the first page on the server by agent, user, effect, tier and text", async () => {
    const { cookie } = await signIn("audit-token");
    await evaluate("deployer", "dora", "deploy", "/svc/a");
    await evaluate("deployer", "erin", "shred", "/svc/b");
    const page = async (query: string): Promise<string[]> => {
      const text = (await call(base, `/console/decisions?${query}`, { headers: { cookie } })).text;
      return [...text.matchAll(/<span class="user">([^<]*)<\/span>/g)].map((m) => m[1]!);
    };
    expect(await page("agent=deployer")).to.deep.equal(["erin", "dora"]);
    expect(await page("agent=deployer&effect=deny")).to.deep.equal(["erin"]);
    expect(await page("agent=deployer&tier=soft")).to.deep.equal(["dora"]);
    expect(await page("user=dora")).to.deep.equal(["dora"]);
    expect(await page("agent=deployer&q=SHRED")).to.deep.equal(["erin"]);
    const long = await call(base, `/console/decisions?q=${"x".repeat(1025)}`, { headers: { cookie } });
    expect(long.status).to.equal(400);
    expect(long.text).to.include("filter &#39;q&#39; is longer than 1024 characters");
  });

  it("signs out only with the session's CSRF token; the session then ends on the server", async () => {
    const { cookie, csrf } = await signIn("audit-token");
    const stream = await openEvents(base, "/console/events", { cookie });
    const post = (fields: Record<string, string>) => call(base, "/console/sign-out", { method: "POST", raw: form(fields), headers: { "content-type": "application/x-www-form-urlencoded", cookie } });
    expect((await post({})).status).to.equal(403);
    expect((await post({ csrf: "wrong" })).status).to.equal(403);
    expect((await call(base, "/console/decisions", { headers: { cookie } })).status).to.equal(200);
    const out = await post({ csrf });
    expect(out.status).to.equal(303);
    expect(out.headers.location).to.equal("/console/sign-in");
    expect(setCookies(out).get("agent_auth_console")!.attributes).to.include("Max-Age=0");
    // The session's live stream ends with it.
    let ended = false;
    try {
      for (;;) await stream.next(20_000);
    } catch (error) {
      ended = (error as Error).message === "the stream ended";
    }
    expect(ended).to.equal(true);
    // The old cookie is worth nothing now, even when a browser keeps sending it.
    expect((await call(base, "/console/decisions", { headers: { cookie } })).status).to.equal(303);
    expect((await call(base, "/console/events", { headers: { cookie } })).status).to.equal(401);
  });

  it("serves its assets from the package, with the same headers, and answers unknown console paths in HTML", async () => {
    for (const [path, type] of [
      ["/console/static/console.js", "text/javascript; charset=utf-8"],
      ["/console/static/console.css", "text/css; charset=utf-8"],
      ["/console/static/icon.svg", "image/svg+xml"],
    ] as const) {
      const answer = await call(base, path);
      expect(answer.status, path).to.equal(200);
      expect(answer.headers["content-type"], path).to.equal(type);
      expectSecurityHeaders(answer);
      expect(answer.text).not.to.match(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    const unknown = await call(base, "/console/nope");
    expect(unknown.status).to.equal(404);
    expect(unknown.headers["content-type"]).to.equal("text/html; charset=utf-8");
    expectSecurityHeaders(unknown);
  });
});

describe("console over HTTP: without callers", function () {
  this.timeout(60_000);
  let server: AgentAuthServer;
  let base: string;
  before(async () => {
    ({ server } = await startTestServer({ http: { port: 0 } }, POLICY));
    base = server.http!.url;
  });
  after(async () => server?.close(1000));

  it("opens without sign-in and says on every page that authentication is off", async () => {
    for (const path of ["/console/decisions", "/console/policy", "/console/health"]) {
      const answer = await call(base, path);
      expect(answer.status, path).to.equal(200);
      expect(answer.text, path).to.include("Authentication is off");
      expect(answer.text, path).not.to.include("Sign out");
    }
    expect((await call(base, "/console/sign-in")).headers.location).to.equal("/console/");
    const post = await call(base, "/console/sign-in", { method: "POST", raw: "token=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(post.status).to.equal(303);
    expect(post.headers["set-cookie"]).to.equal(undefined);
    const stream = await openEvents(base, "/console/events");
    expect(stream.status).to.equal(200);
    stream.close();
  });

  it("shows the store, the audit sink, the subscribers and the decision rate on the Health page", async () => {
    const answer = await call(base, "/console/health");
    expect(answer.text).to.include("<h2>State store</h2><p><span class=\"ok\">OK</span> <span class=\"muted\">memory</span>");
    expect(answer.text).to.include("/dev/null is the record");
    expect(answer.text).to.match(/<strong>\d+<\/strong> audit streams open/);
    expect(answer.text).to.include("Decisions per second");
  });
});

describe("console over HTTP: the Policy page follows reloads", function () {
  this.timeout(60_000);

  it("shows when the file was last read, and the problems of an invalid one while the old revision is served", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-auth-console-reload-"));
    const path = join(dir, "policy.yaml");
    writeFileSync(path, POLICY);
    const { server } = await startTestServer({ http: { port: 0 }, policyFile: { path, watch: false } }, POLICY);
    try {
      const base = server.http!.url;
      const before = (await call(base, "/console/policy")).text;
      expect(before).to.include("none since start");
      expect(before).to.include('<span class="ok" id="reload-state">no errors</span>');
      writeFileSync(path, POLICY.replace("roles:", "roles: {broken: {extends: <nobody>}}\nx:"));
      expect(server.reloader!.reload("SIGHUP").ok).to.equal(false);
      const after = (await call(base, "/console/policy")).text;
      expect(after).to.match(/\(SIGHUP, \d+ s ago\)/);
      expect(after).to.include("The file on disk is invalid; this revision is still served:");
      expect(after).to.include(`<code id="revision">${server.engine.revision}</code>`);
      expect(after).to.match(/<ul class="errors"><li>[^<]+<\/li>/);
      expect(after).not.to.include("<nobody>");
    } finally {
      await server.close(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("console over HTTP: configuration", function () {
  this.timeout(60_000);

  it("marks cookies Secure with a __Host- name when asked (TLS at a proxy), and honours the session lifetime", async () => {
    const { server } = await startTestServer({ http: { port: 0, console: { secureCookies: true, sessionMinutes: 5 } }, callers: CALLERS }, POLICY);
    try {
      const base = server.http!.url;
      const page = await call(base, "/console/sign-in");
      const csrf = setCookies(page).get("__Host-agent_auth_console_csrf")!;
      expect(csrf.attributes).to.equal("Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure");
      const answer = await call(base, "/console/sign-in", {
        method: "POST",
        raw: form({ csrf: csrf.value, token: "audit-token" }),
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `__Host-agent_auth_console_csrf=${csrf.value}` },
      });
      expect(setCookies(answer).get("__Host-agent_auth_console")!.attributes).to.equal("Path=/; Max-Age=300; HttpOnly; SameSite=Strict; Secure");
    } finally {
      await server.close(1000);
    }
  });

  it("over TLS, marks cookies Secure with a __Host- name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-auth-console-tls-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.pem", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], {
        cwd: dir,
        stdio: "pipe",
      });
      const tls = { cert: join(dir, "server.pem"), key: join(dir, "server.key") };
      const { server } = await startTestServer({ http: { port: 0 }, tls, callers: CALLERS }, POLICY, { tls: { ca: tls.cert } });
      try {
        expect(server.http!.url).to.match(/^https:/);
        const page = await call(server.http!.url, "/console/sign-in", { tls: { ca: readFileSync(tls.cert) } });
        expect(page.status).to.equal(200);
        expect(setCookies(page).get("__Host-agent_auth_console_csrf")!.attributes).to.equal("Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure");
      } finally {
        await server.close(1000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serves no console when it is turned off", async () => {
    const { server } = await startTestServer({ http: { port: 0, console: { enabled: false } } }, POLICY);
    try {
      const answer = await call(server.http!.url, "/console/");
      expect(answer.status).to.equal(404);
      expect(answer.json.error).to.equal("no route for GET /console/");
    } finally {
      await server.close(1000);
    }
  });
});
