/**
 * The console in a real browser (Debian's chromium through puppeteer-core)
 * against a real `agent-auth serve` process with callers configured.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "puppeteer-core";
import { createAgentAuthClient, type AgentAuthClient } from "../../../src/client/index.ts";
import { launchChromium, pngHasContent } from "../../support/browser.ts";
import { exited, startServe } from "../../support/processes.ts";

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");
// Functions given to page.evaluate run in the page; this program is typed without the DOM library, so they reach it through globalThis.
/** Sets a flag if any markup from the data ever runs. */
const HOSTILE = `<img src=x onerror="window.__xss=1">`;

describe("console in a browser (chromium)", function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess;
  let base: string;
  let grpc: AgentAuthClient;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  const statusText = (): Promise<string> => page.$eval("#status", (e) => e.textContent ?? "");
  const waitForStatus = (text: string): Promise<unknown> => page.waitForFunction((t) => (globalThis as any).document.getElementById("status")?.textContent === t, { timeout: 20_000 }, text);
  const visibleUsers = (): Promise<string[]> =>
    page.$$eval("#feed li", (items) => items.filter((li) => !(li as any).hidden).map((li) => li.getAttribute("data-user") ?? ""));
  const noHorizontalScroll = (): Promise<boolean> => page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth <= (globalThis as any).document.documentElement.clientWidth);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-console-browser-"));
    const policy = readFileSync("examples/agent_auth.yaml", "utf8").replace("path: .agent_auth/audit.jsonl", `path: ${join(dir, "audit.jsonl")}\n  include_metadata: true`);
    writeFileSync(join(dir, "policy.yaml"), policy);
    writeFileSync(
      join(dir, "server.yaml"),
      [
        "callers:",
        `  gateway: {tokens_sha256: [${sha("gateway-token")}], groups: [authorize, approvals]}`,
        `  admin: {tokens_sha256: [${sha("admin-token")}], groups: [audit, policy, approve]}`,
        "",
      ].join("\n"),
    );
    const started = await startServe(["-c", join(dir, "policy.yaml"), "serve", "--port", "0", "--http-port", "0", "--server-config", join(dir, "server.yaml")]);
    child = started.child;
    const serving = started.logs.map((l) => JSON.parse(l) as { msg?: string; http?: string }).find((l) => l.msg === "serving")!;
    base = serving.http!;
    grpc = createAgentAuthClient(started.address, { token: "gateway-token", defaultDeadlineMs: 10_000 });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    grpc?.close();
    if (child !== undefined && child.exitCode === null) {
      child.kill("SIGTERM");
      await exited(child);
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("signs in through the form and lands on the live feed, with a strict CSP", async () => {
    const first = await page.goto(`${base}/console/`);
    expect(page.url()).to.equal(`${base}/console/sign-in`);
    const csp = first!.headers()["content-security-policy"]!;
    expect(csp).to.include("default-src 'self'");
    expect(csp).to.include("frame-ancestors 'none'");
    expect(csp).not.to.include("unsafe-inline");
    expect(first!.headers()["x-content-type-options"]).to.equal("nosniff");
    await page.type("#token", "wrong-token");
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    expect(await page.$eval("#sign-in-error", (e) => e.textContent)).to.equal("That token is not accepted.");
    await page.type("#token", "admin-token");
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    expect(page.url()).to.equal(`${base}/console/approvals`);
    await page.goto(`${base}/console/decisions`);
    expect(await page.$eval(".who strong", (e) => e.textContent)).to.equal("admin");
    // The session cookie is HttpOnly: the page's script cannot read it.
    expect(await page.evaluate(() => (globalThis as any).document.cookie)).to.equal("");
    await waitForStatus("Live");
  });

  it("shows an Authorize decision live without a reload, hostile strings as text", async () => {
    const marker = await page.evaluate(() => ((globalThis as unknown as { __marker: number }).__marker = 42));
    await grpc.authorize({ agent: "copilot", user: "alice", action: "read", resource: "/src/app.ts", scope: "project:web" });
    await grpc.authorize({ agent: HOSTILE, user: HOSTILE, action: HOSTILE, resource: HOSTILE, metadata: { note: HOSTILE } });
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("#feed li").length >= 2, { timeout: 20_000 });
    // Same document: no reload happened.
    expect(await page.evaluate(() => (globalThis as unknown as { __marker: number }).__marker)).to.equal(marker);
    const hostileRow = await page.$eval("#feed li:first-child", (li) => ({
      agent: li.querySelector(".agent")!.textContent,
      user: li.querySelector(".user")!.textContent,
      action: li.querySelector(".action")!.textContent,
      resource: li.querySelector(".resource")!.textContent,
      reason: li.querySelector(".reason")!.textContent,
    }));
    expect(hostileRow).to.deep.equal({ agent: HOSTILE, user: HOSTILE, action: HOSTILE, resource: HOSTILE, reason: `Action '${HOSTILE}' not authorized for agent '${HOSTILE}'` });
    expect(await page.$$eval("#feed img", (imgs) => imgs.length)).to.equal(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).to.equal(undefined);
  });

  it("filters the feed in place by agent, effect and text", async () => {
    expect(await visibleUsers()).to.deep.equal([HOSTILE, "alice"]);
    await page.type("input[name=agent]", "copilot");
    expect(await visibleUsers()).to.deep.equal(["alice"]);
    await page.$eval("input[name=agent]", (e) => ((e as any).value = ""));
    await page.select("select[name=effect]", "deny");
    expect(await visibleUsers()).to.deep.equal([HOSTILE]);
    await page.select("select[name=effect]", "");
    await page.type("input[name=q]", "APP.TS");
    expect(await visibleUsers()).to.deep.equal(["alice"]);
    // A decision arriving while filtered is filtered too.
    await grpc.authorize({ agent: "reviewer", user: "bob", action: "comment", resource: "/src/app.ts", scope: "repo:web" });
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("#feed li").length >= 3, { timeout: 20_000 });
    expect(await visibleUsers()).to.deep.equal(["bob", "alice"]);
    await page.$eval("input[name=q]", (e) => ((e as any).value = ""));
    await page.select("select[name=effect]", "");
    expect(await visibleUsers()).to.have.length(3);
  });

  it("pauses, and resumes after the last decision shown without missing any", async () => {
    await page.click("#pause");
    expect(await statusText()).to.equal("Paused");
    await grpc.authorize({ agent: "copilot", user: "while-paused", action: "read", resource: "/x", scope: "project:web" });
    await page.click("#pause");
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#feed li[data-user="while-paused"]') !== null, { timeout: 20_000 });
    await waitForStatus("Live");
  });

  it("opens a decision's record from the feed, its metadata as text", async () => {
    const link = await page.$eval("#feed li[data-effect=deny] a.record", (a) => (a as any).href);
    await Promise.all([page.waitForNavigation(), page.click("#feed li[data-effect=deny] a.record")]);
    expect(page.url()).to.equal(link);
    const fields = await page.$$eval(".fields dt", (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling!.textContent])));
    expect(fields).to.include({ Agent: HOSTILE, User: HOSTILE, Action: HOSTILE, Resource: HOSTILE });
    expect(fields["Reason"]).to.equal(`Action '${HOSTILE}' not authorized for agent '${HOSTILE}'`);
    expect(JSON.parse((await page.$eval("pre.metadata", (e) => e.textContent))!)).to.deep.equal({ note: HOSTILE });
    expect(await page.$$eval("img", (imgs) => imgs.length)).to.equal(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).to.equal(undefined);
  });

  it("fits a 360 px wide phone without horizontal scrolling", async () => {
    const record = page.url();
    await page.setViewport({ width: 360, height: 740, deviceScaleFactor: 1 });
    const { task } = await grpc.approvals.request({ agent: "deploy-bot", user: "bob", action: "deploy", resource: `/prod/${"very-long-service-name-".repeat(6)}`, scope: "service:payments" });
    for (const path of ["/console/approvals", `/console/approvals/${task.id}`, "/console/approvals/history", "/console/decisions", "/console/policy", "/console/health"]) {
      await page.goto(`${base}${path}`);
      expect(await noHorizontalScroll(), path).to.equal(true);
    }
    await page.goto(record);
    expect(await noHorizontalScroll(), "record").to.equal(true);
    await page.setViewport({ width: 1280, height: 800 });
  });

  it("shows the policy and health pages", async () => {
    await page.goto(`${base}/console/policy`);
    expect(await page.$eval("#revision", (e) => e.textContent)).to.match(/^[0-9a-f]{16}$/);
    expect(await page.$$eval("table", (t) => t.length)).to.equal(4);
    await page.goto(`${base}/console/health`);
    expect(await page.$eval("h1", (e) => e.textContent)).to.equal("Health");
  });

  it("shows an agent's approval request in the inbox without a reload, approves it there, and the agent redeems it", async () => {
    await page.goto(`${base}/console/approvals`);
    await waitForStatus("Live");
    const marker = await page.evaluate(() => ((globalThis as unknown as { __marker: number }).__marker = 7));
    const request = { agent: "deploy-bot", user: "bob", action: "deploy", resource: "/prod/payments", scope: "service:payments" };
    const { task } = await grpc.approvals.request({ ...request, justification: HOSTILE });
    expect(task.status).to.equal("pending");
    // A generous wait: it arrives over the approval-event stream, not by reloading.
    await page.waitForSelector(`#task-${task.id}`, { timeout: 20_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { __marker: number }).__marker)).to.equal(marker);
    const card = await page.$eval(`#task-${task.id}`, (li) => ({
      agent: li.querySelector(".agent")!.textContent,
      user: li.querySelector(".user")!.textContent,
      policy: li.querySelector(".policy strong")!.textContent,
      description: li.querySelector(".policy .description")!.textContent,
      justification: li.querySelector(".justification")!.textContent,
      as: li.querySelector(".decide .as strong")!.textContent,
    }));
    expect(card).to.deep.equal({ agent: "deploy-bot", user: "bob", policy: "production-deploy", description: "A human approves production deployments", justification: HOSTILE, as: "admin" });
    expect(await page.$$eval("#tasks img", (imgs) => imgs.length)).to.equal(0);
    await page.type(`#task-${task.id} input[name=comment]`, "ship it");
    await Promise.all([page.waitForNavigation(), page.click(`#task-${task.id} button.approve`)]);
    expect(page.url()).to.equal(`${base}/console/approvals`);
    expect(await page.$(`#task-${task.id}`)).to.equal(null);
    const redeemed = await grpc.authorize({ ...request, approvalId: task.id });
    expect(redeemed.allowed).to.equal(true);
    expect(redeemed.reason).to.equal(`Approved by 'admin' (approval ${task.id})`);
    // The three events in the audit record: requested, approved, redeemed.
    const kinds = (): string[] =>
      readFileSync(join(dir, "audit.jsonl"), "utf8")
        .split("\n")
        .filter((l) => l.includes(task.id))
        .map((l) => (JSON.parse(l) as { kind?: string }).kind ?? "decision");
    for (let i = 0; i < 200 && !["approval_requested", "approval_approved", "approval_redeemed"].every((k) => kinds().includes(k)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(kinds()).to.include.members(["approval_requested", "approval_approved", "approval_redeemed"]);
    // The redeeming decision on the live feed, and the task in the history tab.
    await page.goto(`${base}/console/decisions`);
    expect(await page.$$eval("#feed .reason", (rs) => rs.map((r) => r.textContent))).to.include(`Approved by 'admin' (approval ${task.id})`);
    await page.goto(`${base}/console/approvals/history`);
    expect(await page.$eval(`#task-${task.id} .by`, (e) => e.textContent)).to.equal("admin");
    expect(await page.$eval(`#task-${task.id} .comment`, (e) => e.textContent)).to.equal("ship it");
    await page.goto(`${base}/console/approvals/${task.id}`);
    expect(await page.$eval("#task-status", (e) => e.textContent)).to.equal("used");
  });

  it("refuses what the rules refuse (four eyes, a form without its CSRF token); the inbox's screenshots at desktop and phone widths are not blank", async () => {
    // admin asks for a strong-tier action on their own behalf: the four-eyes rule keeps them from approving it.
    const own = { agent: "deploy-bot", user: "admin", action: "deploy", resource: "/prod/ledger", scope: "service:ledger" };
    const { task } = await grpc.approvals.request({ ...own, justification: "my own deploy" });
    await page.goto(`${base}/console/approvals`);
    await page.waitForSelector(`#task-${task.id}`, { timeout: 20_000 });
    expect(await page.$(`#task-${task.id} button.approve`)).to.equal(null);
    expect(await page.$eval(`#task-${task.id} .cannot button`, (b) => (b as any).disabled)).to.equal(true);
    expect(await page.$eval(`#task-${task.id} .cannot .reason`, (e) => e.textContent)).to.match(/^You may not decide this request: four-eyes rule/);
    // A decision admin may make, posted with the browser's session but without the form's CSRF token, is refused; the task stays pending.
    const other = (await grpc.approvals.request({ ...own, user: "carol", justification: "carol's deploy" })).task;
    const cookie = (await page.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const forged = await fetch(`${base}/console/approvals/${other.id}/decide`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "approve", comment: "" }).toString(),
      redirect: "manual",
    });
    expect(forged.status).to.equal(403);
    expect(await forged.text()).to.contain("the form carries no CSRF token");
    expect((await grpc.approvals.get(other.id))?.status).to.equal("pending");
    // Screenshots of the inbox, saved beside the run's files and checked not to be blank.
    for (const [name, viewport] of [
      ["desktop", { width: 1280, height: 800 }],
      ["phone", { width: 360, height: 740 }],
    ] as const) {
      await page.setViewport(viewport);
      await page.goto(`${base}/console/approvals`);
      await page.waitForSelector(`#task-${task.id}`, { timeout: 20_000 });
      const png = await page.screenshot({ type: "png", path: join(dir, `inbox-${name}.png`) });
      expect(readFileSync(join(dir, `inbox-${name}.png`)).length).to.be.greaterThan(0);
      expect(pngHasContent(png), `the ${name} screenshot is blank`).to.equal(true);
    }
    await page.setViewport({ width: 1280, height: 800 });
  });

  it("signs out: the session ends and the console asks to sign in again", async () => {
    await Promise.all([page.waitForNavigation(), page.click(".who button[type=submit]")]);
    expect(page.url()).to.equal(`${base}/console/sign-in`);
    await page.goto(`${base}/console/decisions`);
    expect(page.url()).to.equal(`${base}/console/sign-in`);
  });

  it("broke no Content-Security-Policy rule and threw no script error", () => {
    // Chromium logs the refused sign-in's 401; a CSP violation would be logged as "Refused to …".
    expect(consoleErrors.filter((e) => !/status of 401/.test(e))).to.deep.equal([]);
  });

  it("made no request anywhere but the server", () => {
    expect(requests.length).to.be.greaterThan(10);
    const elsewhere = requests.filter((u) => !u.startsWith(`${base}/`));
    expect(elsewhere).to.deep.equal([]);
    expect(base).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
