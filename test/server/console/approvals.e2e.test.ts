import { createHash } from "node:crypto";
import { expect } from "chai";
import type { AgentAuthServer } from "../../../src/server/app/start-server.ts";
import type { CallerConfig } from "../../../src/server/server-config.ts";
import type { AgentAuthClient } from "../../../src/client/index.ts";
import { form, setCookies, signIn } from "../../support/console.ts";
import { call } from "../../support/http.ts";
import { SERVER_POLICY, startTestServer } from "../../support/server.ts";
import { openEvents } from "../../support/sse.ts";

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");
const HOSTILE = `<img src=x onerror="window.__xss=1">`;
const ESCAPED = "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;";
/** The test policy plus a profile named by a hostile string, so a hostile agent's request can need an approval. */
const POLICY = SERVER_POLICY.replace(
  "profiles:\n",
  `profiles:\n  ${JSON.stringify(HOSTILE)}: {allow: ["*"], default_tier: soft, description: ${JSON.stringify(HOSTILE)}}\n`,
).replace("{name: prod, condition", `{name: prod, description: ${JSON.stringify(`Production needs a human ${HOSTILE}`)}, condition`);
const CALLERS: CallerConfig[] = [
  { name: "gateway", tokenHashes: [sha("gw-token")], certificates: [], groups: new Set(["authorize", "approvals"] as const) },
  { name: "watcher", tokenHashes: [sha("watch-token")], certificates: [], groups: new Set(["approvals"] as const) },
  { name: "alice", tokenHashes: [sha("alice-token")], certificates: [], groups: new Set(["approve"] as const) },
  { name: "bob", tokenHashes: [sha("bob-token")], certificates: [], groups: new Set(["approve"] as const) },
  { name: "relay", tokenHashes: [sha("relay-token")], certificates: [], groups: new Set(["approvals", "approvals-relay"] as const) },
  { name: "auditor", tokenHashes: [sha("audit-token")], certificates: [], groups: new Set(["audit"] as const) },
];
const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("console over HTTP: the Approvals inbox with callers", function () {
  this.timeout(60_000);
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  let base: string;

  /** A strong-tier request of user alice (the `prod` approval policy) as an agent asks for it. */
  const requestProd = async (resource = "/prod/db", justification = "nightly migration"): Promise<string> =>
    (await client.approvals.request({ agent: "assistant", user: "alice", action: "write", resource, scope: "project:x", justification })).task.id;
  const decide = (id: string, who: { cookie: string }, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    call(base, `/console/approvals/${id}/decide`, { method: "POST", raw: form(fields), headers: { ...FORM, cookie: who.cookie, ...headers } });

  before(async () => {
    const started = await startTestServer({ http: { port: 0 }, callers: CALLERS }, POLICY, { metadata: { authorization: "Bearer gw-token" } });
    server = started.server;
    client = started.client;
    base = server.http!.url;
  });
  after(async () => {
    client?.close();
    await server?.close(1000);
  });

  it("shows the inbox to callers with approvals or approve, and refuses the others", async () => {
    expect((await call(base, "/console/approvals")).headers.location).to.equal("/console/sign-in");
    const auditor = await signIn(base, "audit-token");
    const refused = await call(base, "/console/approvals", { headers: { cookie: auditor.cookie } });
    expect(refused.status).to.equal(403);
    expect(refused.text).to.include("is not granted one of the &#39;approvals&#39;, &#39;approve&#39; groups");
    expect((await call(base, "/console/approvals/events", { headers: { cookie: auditor.cookie } })).status).to.equal(403);
    const decisions = await call(base, "/console/decisions", { headers: { cookie: auditor.cookie } });
    expect(decisions.text).not.to.include('href="/console/approvals"');

    const id = await requestProd();
    const watcher = await signIn(base, "watch-token");
    const inbox = await call(base, "/console/approvals", { headers: { cookie: watcher.cookie } });
    expect(inbox.status).to.equal(200);
    expect(inbox.text).to.include('href="/console/approvals" aria-current="page"');
    expect(inbox.text).to.include(`id="task-${id}"`);
    expect(inbox.text).to.include("<dt>Approval policy</dt><dd class=\"policy\"><strong>prod</strong> — <span class=\"description\">Production needs a human " + ESCAPED);
    expect(inbox.text).to.include("<dd class=\"justification\">nightly migration</dd>");
    expect(inbox.text).to.match(/<span class="left" data-expires="[^"]+">\d+ (min|s) left<\/span>/);
    // A viewer without an approver group sees no form: a disabled button and why.
    expect(inbox.text).not.to.include('<form class="decide"');
    expect(inbox.text).to.include("<button type=\"button\" disabled>Approve</button> <span class=\"reason\">Caller &#39;watcher&#39; may view approvals but not decide them");
    const post = await decide(id, watcher, { csrf: watcher.csrf, decision: "approve" });
    expect(post.status).to.equal(403);
    expect(post.text).to.include("is not granted one of the &#39;approve&#39;, &#39;approvals-relay&#39; groups");
    expect((await server.engine.getApproval(id))!.status).to.equal("pending");
    await client.approvals.cancel(id);
  });

  it("refuses a decision without the session's CSRF token, with another one, or sent cross-site", async () => {
    const id = await requestProd("/prod/csrf");
    const bob = await signIn(base, "bob-token");
    const none = await decide(id, bob, { decision: "approve" });
    expect(none.status).to.equal(403);
    expect(none.text).to.include("no CSRF token");
    const other = await decide(id, bob, { decision: "approve", csrf: "x".repeat(43) });
    expect(other.status).to.equal(403);
    expect(other.text).to.include("does not match");
    const crossSite = await decide(id, bob, { decision: "approve", csrf: bob.csrf }, { "sec-fetch-site": "cross-site" });
    expect(crossSite.status).to.equal(403);
    expect((await server.engine.getApproval(id))!.status).to.equal("pending");
    await client.approvals.cancel(id);
  });

  it("disables the button for the request's own user (four eyes) and refuses that user's post with the rule's message", async () => {
    const id = await requestProd("/prod/four-eyes");
    const alice = await signIn(base, "alice-token");
    const page = await call(base, `/console/approvals/${id}`, { headers: { cookie: alice.cookie } });
    expect(page.status).to.equal(200);
    expect(page.text).not.to.include('<form class="decide"');
    expect(page.text).to.include("You may not decide this request: four-eyes rule: &#39;alice&#39; is the request&#39;s user and may not approve a strong-tier request.");
    const refused = await decide(id, alice, { csrf: alice.csrf, decision: "approve", back: "task" });
    expect(refused.status).to.equal(403);
    expect(refused.text).to.include("four-eyes rule: &#39;alice&#39; is the request&#39;s user and may not approve a strong-tier request");
    expect((await server.engine.getApproval(id))!.status).to.equal("pending");
    // Another approver sees the form, deciding as themselves.
    const bob = await signIn(base, "bob-token");
    const bobs = await call(base, `/console/approvals/${id}`, { headers: { cookie: bob.cookie } });
    expect(bobs.text).to.include('<form class="decide" method="post" action="/console/approvals/' + id + '/decide">');
    expect(bobs.text).to.include("Deciding as <strong>bob</strong>");
    await client.approvals.cancel(id);
  });

  it("approves with a comment as the signed-in approver; a decided task cannot be decided again", async () => {
    const id = await requestProd("/prod/approve");
    const bob = await signIn(base, "bob-token");
    const events = await openEvents(base, "/console/approvals/events", { cookie: bob.cookie });
    expect(events.status).to.equal(200);
    const ok = await decide(id, bob, { csrf: bob.csrf, decision: "approve", comment: "go ahead", back: "task", approver: "bob" });
    expect(ok.status, ok.text).to.equal(303);
    expect(ok.headers.location).to.equal(`/console/approvals/${id}`);
    const task = (await server.engine.getApproval(id))!;
    expect(task).to.include({ status: "approved", decidedBy: "bob", comment: "go ahead" });
    const event = JSON.parse((await events.next()).data) as Record<string, string>;
    expect(event).to.include({ kind: "approval_approved", id, status: "approved" });
    events.close();
    const again = await decide(id, bob, { csrf: bob.csrf, decision: "deny" });
    expect(again.status).to.equal(409);
    expect(again.text).to.include(`approval &#39;${id}&#39; is approved and can no longer change`);
    // Naming another approver needs approvals-relay.
    const other = await requestProd("/prod/named");
    const named = await decide(other, bob, { csrf: bob.csrf, decision: "approve", approver: "carol" });
    expect(named.status).to.equal(403);
    expect(named.text).to.include("naming approver &#39;carol&#39; needs the &#39;approvals-relay&#39; group");
    // A relay names the approver; the engine still applies the four-eyes rule to that name.
    const relay = await signIn(base, "relay-token");
    const relayPage = await call(base, `/console/approvals/${other}`, { headers: { cookie: relay.cookie } });
    expect(relayPage.text).to.include('<input name="approver" value="" autocomplete="off" required>');
    const asUser = await decide(other, relay, { csrf: relay.csrf, decision: "approve", approver: "alice" });
    expect(asUser.status).to.equal(403);
    expect(asUser.text).to.include("four-eyes rule");
    const denied = await decide(other, relay, { csrf: relay.csrf, decision: "deny", approver: "dave", comment: "not tonight" });
    expect(denied.status).to.equal(303);
    expect(denied.headers.location).to.equal("/console/approvals");
    expect((await server.engine.getApproval(other))!).to.include({ status: "denied", decidedBy: "dave" });
    // Both now show in the history tab, not in the pending list.
    const history = await call(base, "/console/approvals/history", { headers: { cookie: bob.cookie } });
    expect(history.text).to.include(`id="task-${id}"`);
    expect(history.text).to.include(`id="task-${other}"`);
    expect(history.text).to.include('<q class="comment">not tonight</q>');
    expect(history.text.indexOf(`id="task-${other}"`)).to.be.lessThan(history.text.indexOf(`id="task-${id}"`));
    const pending = await call(base, "/console/approvals", { headers: { cookie: bob.cookie } });
    expect(pending.text).not.to.include(`id="task-${id}"`);
  });

  it("lists pending tasks newest first and streams changes resumably by cursor", async () => {
    const bob = await signIn(base, "bob-token");
    const page = await call(base, "/console/approvals", { headers: { cookie: bob.cookie } });
    const after = /data-after="([^"]*)"/.exec(page.text)![1]!;
    const first = await requestProd("/prod/one");
    const second = await requestProd("/prod/two");
    const listed = await call(base, "/console/approvals", { headers: { cookie: bob.cookie } });
    expect(listed.text.indexOf(`id="task-${second}"`)).to.be.greaterThan(0);
    expect(listed.text.indexOf(`id="task-${second}"`)).to.be.lessThan(listed.text.indexOf(`id="task-${first}"`));
    // A stream opened after the page was rendered resumes after it and sees both requests, in order.
    const stream = await openEvents(base, `/console/approvals/events?after=${encodeURIComponent(after)}`, { cookie: bob.cookie });
    const a = JSON.parse((await stream.next()).data) as Record<string, string>;
    const b = JSON.parse((await stream.next()).data) as Record<string, string>;
    expect([a["id"], a["kind"], b["id"], b["kind"]]).to.deep.equal([first, "approval_requested", second, "approval_requested"]);
    stream.close();
    const card = await call(base, `/console/approvals/${first}/card`, { headers: { cookie: bob.cookie } });
    expect(card.status).to.equal(200);
    expect(card.text).to.match(/^<li class="task pending" id="task-/);
    expect((await call(base, "/console/approvals/no-such-task", { headers: { cookie: bob.cookie } })).status).to.equal(404);
    await client.approvals.cancel(first);
    await client.approvals.cancel(second);
  });

  it("renders hostile text in every task field as text, in the inbox, the card, the task page and the history", async () => {
    const { task } = await client.approvals.request({ agent: HOSTILE, user: HOSTILE, action: HOSTILE, resource: HOSTILE, scope: HOSTILE, justification: HOSTILE, metadata: { note: HOSTILE } });
    const bob = await signIn(base, "bob-token");
    const pages = [`/console/approvals`, `/console/approvals/${task.id}`, `/console/approvals/${task.id}/card`];
    for (const path of pages) {
      const answer = await call(base, path, { headers: { cookie: bob.cookie } });
      expect(answer.status, path).to.equal(200);
      expect(answer.text, path).not.to.include("<img");
      for (const cls of ["agent", "user", "resource", "scope", "justification"]) expect(answer.text, `${path} ${cls}`).to.include(`<dd class="${cls}">${ESCAPED}</dd>`);
      expect(answer.text, path).to.include(`<dd class="action"><code>${ESCAPED}</code></dd>`);
    }
    expect((await decide(task.id, bob, { csrf: bob.csrf, decision: "deny", comment: HOSTILE })).status).to.equal(303);
    const history = await call(base, "/console/approvals/history", { headers: { cookie: bob.cookie } });
    expect(history.text).not.to.include("<img");
    expect(history.text).to.include(`<q class="comment">${ESCAPED}</q>`);
    const escapedId = await call(base, `/console/approvals/${encodeURIComponent(HOSTILE)}`, { headers: { cookie: bob.cookie } });
    expect(escapedId.status).to.equal(404);
    expect(escapedId.text).not.to.include("<img");
  });
});

describe("console over HTTP: the Approvals inbox without callers", function () {
  this.timeout(60_000);
  let server: AgentAuthServer;
  let base: string;
  before(async () => {
    ({ server } = await startTestServer({ http: { port: 0 } }, POLICY));
    base = server.http!.url;
  });
  after(async () => server?.close(1000));

  it("shows the banner, names the approver in a field, and checks a double-submit CSRF cookie", async () => {
    const { task } = await server.engine.requestApproval({ agent: "deployer", user: "dora", action: "deploy", resource: "/svc/a", justification: "release" });
    const page = await call(base, "/console/approvals");
    expect(page.status).to.equal(200);
    expect(page.text).to.include("Authentication is off");
    expect(page.text).to.include('<input name="approver" value="" autocomplete="off" required>');
    const cookie = setCookies(page).get("agent_auth_console_csrf")!;
    expect(page.text).to.include(`name="csrf" value="${cookie.value}"`);
    const post = (fields: Record<string, string>, cookieValue = cookie.value) =>
      call(base, `/console/approvals/${task.id}/decide`, { method: "POST", raw: form(fields), headers: { ...FORM, cookie: `agent_auth_console_csrf=${cookieValue}` } });
    expect((await post({ csrf: cookie.value, decision: "approve", approver: "ops" }, "other")).status).to.equal(403);
    const unnamed = await post({ csrf: cookie.value, decision: "approve" });
    expect(unnamed.status).to.equal(400);
    expect(unnamed.text).to.include("approver: is required");
    const agentItself = await post({ csrf: cookie.value, decision: "approve", approver: "deployer" });
    expect(agentItself.status).to.equal(403);
    expect(agentItself.text).to.include("four-eyes rule: the requesting agent &#39;deployer&#39; may not decide its own approval");
    expect((await post({ csrf: cookie.value, decision: "approve", approver: "ops", comment: "ok" })).status).to.equal(303);
    expect((await server.engine.getApproval(task.id))!).to.include({ status: "approved", decidedBy: "ops" });
  });
});
