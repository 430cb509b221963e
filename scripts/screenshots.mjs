// Writes docs/img/console-*.png: the web console on a desktop and on a
// 360 px phone, against a real `agent-auth serve` (the built dist/) with the
// example policy, callers configured and a few decisions made over gRPC.
// Run with `npm run screenshots` (it builds first). Needs chromium
// (/usr/bin/chromium, or AGENT_AUTH_CHROMIUM).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { createAgentAuthClient } from "../dist/src/client/index.js";

const CHROMIUM = process.env.AGENT_AUTH_CHROMIUM ?? "/usr/bin/chromium";
const OUT = "docs/img";
const sha = (t) => createHash("sha256").update(t).digest("hex");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(CHROMIUM)) {
  console.error(`screenshots: chromium not found at ${CHROMIUM}; install it (apt-get install -y chromium) or set AGENT_AUTH_CHROMIUM`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "agent-auth-screenshots-"));
const policy = readFileSync("examples/agent_auth.yaml", "utf8").replace("path: .agent_auth/audit.jsonl", `path: ${join(dir, "audit.jsonl")}\n  include_metadata: true`);
writeFileSync(join(dir, "policy.yaml"), policy);
writeFileSync(
  join(dir, "server.yaml"),
  `callers:\n  gateway: {tokens_sha256: [${sha("gateway-token")}], groups: [authorize, approvals]}\n  alice: {tokens_sha256: [${sha("alice-token")}], groups: [audit, policy, approve]}\n`,
);

/** Starts the server; resolves with its gRPC address and HTTP URL once it logs "serving". */
function serve() {
  const child = spawn(process.execPath, ["dist/src/cli/bin.js", "-c", join(dir, "policy.yaml"), "serve", "--port", "0", "--http-port", "0", "--server-config", join(dir, "server.yaml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stderr.on("data", (chunk) => {
      buffer += chunk;
      for (const line of buffer.split("\n")) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === "serving") resolve({ child, address: entry.address, http: entry.http });
        } catch {
          // not a whole log line yet
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

const DECISIONS = [
  { agent: "copilot", user: "alice", action: "read", resource: "/src/app.ts", scope: "project:web" },
  { agent: "copilot", user: "alice", action: "pr:create", resource: "/src/app.ts", scope: "project:web" },
  { agent: "reviewer", user: "bob", action: "comment", resource: "/repos/web/pull/42", scope: "repo:web" },
  { agent: "deploy-bot", user: "bob", action: "deploy", resource: "/prod/payments", scope: "service:payments" },
  { agent: "payments-agent", user: "carol", action: "pay", resource: "invoice:7", metadata: { amount: 250 } },
  { agent: "payments-agent", user: "carol", action: "pay", resource: "invoice:8", metadata: { amount: 4800 } },
  { agent: "copilot", user: "dave", action: "delete", resource: "/src/legacy.ts", scope: "project:web" },
  { agent: "security-scanner", user: "erin", action: "scan", resource: "/repos/web" },
  { agent: "deploy-bot", user: "bob", action: "restart", resource: "/staging/api", scope: "service:api" },
];

const APPROVALS = [
  { agent: "payments-agent", user: "alice", action: "pay", resource: "invoice:9", metadata: { amount: 12000 }, justification: "Quarterly licence renewal" },
  { agent: "deploy-bot", user: "bob", action: "restart", resource: "/prod/api", scope: "service:api", justification: "Memory leak after the 14:00 release" },
  { agent: "deploy-bot", user: "bob", action: "deploy", resource: "/prod/payments", scope: "service:payments", justification: "Release 2.14.0: fixes the refund rounding bug" },
];

const { child, address, http } = await serve();
const grpc = createAgentAuthClient(address, { token: "gateway-token", defaultDeadlineMs: 10_000 });
const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
  // A few rounds over twelve seconds, so the Health page's chart has points.
  for (let round = 0; round < 3; round++) {
    for (const d of DECISIONS.slice(0, 3 + 2 * round)) await grpc.authorize(d);
    await sleep(5200);
  }
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860, deviceScaleFactor: 1 });
  await page.goto(`${http}/console/sign-in`);
  await page.type("#token", "alice-token");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  await page.goto(`${http}/console/decisions`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "Live");
  for (const d of DECISIONS) await grpc.authorize(d);
  await page.waitForFunction((n) => document.querySelectorAll("#feed li").length >= n, {}, DECISIONS.length * 2);
  mkdirSync(OUT, { recursive: true });
  const shots = [];
  const shot = async (name) => {
    const path = join(OUT, `console-${name}.png`);
    await page.screenshot({ path });
    shots.push(path);
  };
  await shot("decisions-desktop");
  // The inbox: requests as agents make them; the one whose user is alice shows why she may not decide it.
  await page.goto(`${http}/console/approvals`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "Live");
  const asked = [];
  for (const a of APPROVALS) asked.push((await grpc.approvals.request(a)).task.id);
  await page.waitForFunction((n) => document.querySelectorAll("#tasks li").length >= n, {}, APPROVALS.length);
  await shot("approvals-desktop");
  await page.goto(`${http}/console/approvals/${asked[0]}`);
  await shot("approval-task-desktop");
  await page.goto(`${http}/console/policy`);
  await shot("policy-desktop");
  await page.goto(`${http}/console/health`);
  await shot("health-desktop");
  await page.setViewport({ width: 360, height: 760, deviceScaleFactor: 2 });
  await page.goto(`${http}/console/decisions`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "Live");
  await shot("decisions-phone");
  await page.click("#feed li[data-effect=deny] a.record");
  await page.waitForSelector(".record");
  await shot("record-phone");
  await page.goto(`${http}/console/approvals`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "Live");
  await shot("approvals-phone");
  for (const path of shots) {
    const bytes = statSync(path).size;
    if (bytes < 10_000) throw new Error(`${path} is only ${bytes} bytes: is it blank?`);
    console.log(`${path} (${bytes} bytes)`);
  }
} finally {
  await browser.close();
  grpc.close();
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
