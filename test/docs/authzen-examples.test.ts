import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { exited, startServe } from "../support/processes.ts";

const CURL = "/usr/bin/curl";
const DOC = "docs/authzen.md";

/** Every `curl` example of the page with the JSON answer shown after it. */
function examples(): { command: string; answer: string }[] {
  const blocks = [...readFileSync(DOC, "utf8").matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, text: m[2]! }));
  const out: { command: string; answer: string }[] = [];
  blocks.forEach((b, i) => {
    const next = blocks[i + 1];
    if (b.lang === "sh" && b.text.startsWith("curl ") && next?.lang === "json") out.push({ command: b.text, answer: next.text });
  });
  return out;
}

/** What varies from run to run: decision ids, binding tokens and their expiry, the signing key. */
const VARYING = new Set(["decision_id", "evaluation_id", "binding_token", "expires_at", "kid", "x"]);
function masked(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) => (VARYING.has(key) ? "<varies>" : v));
}

describe(`the curl examples of ${DOC} against the example policy, served as npm start serves it`, function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess;
  let base: string;

  before(async function () {
    if (!existsSync(CURL)) {
      if (process.env["CI"] === "true") throw new Error(`${CURL} is required in CI`);
      process.stdout.write(`  ${DOC} examples skipped: ${CURL} not found.\n`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), "agent-auth-doc-examples-"));
    const policy = join(dir, "agent_auth.yaml");
    // The example policy as it is, except where its audit file goes (the revision does not cover audit settings).
    writeFileSync(policy, readFileSync("examples/agent_auth.yaml", "utf8").replace("path: .agent_auth/audit.jsonl", `path: ${join(dir, "audit.jsonl")}`));
    const started = await startServe(["serve", "-c", policy, "--port", "0", "--http-port", "0"], { ...process.env, AGENT_AUTH_SERVER_CONFIG: "" });
    child = started.child;
    const serving = started.logs.map((l) => JSON.parse(l) as { msg?: string; http?: string }).find((l) => l.msg === "serving")!;
    base = serving.http!;
  });
  after(async () => {
    if (child !== undefined) {
      child.kill("SIGTERM");
      await exited(child);
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("has examples of every endpoint served", () => {
    const paths = examples().map((e) => /127\.0\.0\.1:8080(\S+)/.exec(e.command)?.[1]);
    for (const p of ["/access/v1/evaluation", "/access/v1/evaluations", "/access/v1/search/subject", "/access/v1/search/action", "/.well-known/authzen-configuration", "/.well-known/jwks.json"]) expect(paths).to.include(p);
  });

  for (const [i, e] of examples().entries()) {
    it(`example ${i + 1}: ${e.command.split("\n")[0]!.slice(0, 80)}`, async () => {
      const command = e.command.replaceAll("http://127.0.0.1:8080", base);
      const out = await new Promise<string>((resolve, reject) =>
        execFile("sh", ["-c", command], { timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
      );
      const expected = JSON.parse(e.answer.replaceAll("http://127.0.0.1:8080", base)) as unknown;
      expect(masked(JSON.parse(out))).to.deep.equal(masked(expected));
    });
  }
});
