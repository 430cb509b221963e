import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { COMMANDS } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/index.ts";
import { startAgentAuthServer, type AgentAuthServer } from "../../src/server/app/start-server.ts";
import { silentLogger } from "../../src/server/logger.ts";
import { CLI } from "../support/processes.ts";

/** The `agent-auth …` lines of the ```sh blocks of a markdown file, in order. */
function examplesOf(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) if (line.startsWith("agent-auth ")) out.push(line);
  }
  return out;
}

function run(cli: string, argv: string[], cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, [cli, ...argv], { cwd, encoding: "utf8" }, (error, stdout, stderr) => ok({ status: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }));
  });
}

/** Shell words: plain, 'single' and "double" quoted. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

describe("docs/cli.md examples (each one run)", function () {
  this.timeout(180_000);
  const docs = readFileSync("docs/cli.md", "utf8");
  let dir: string;
  let server: AgentAuthServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-docs-"));
    mkdirSync(join(dir, "examples"));
    for (const f of ["agent_auth.yaml", "agent_auth_test.yaml"]) cpSync(join("examples", f), join(dir, "examples", f));
    server = await startAgentAuthServer({ config: loadConfig(join(dir, "examples", "agent_auth.yaml"), { env: {} }), port: 0, logger: silentLogger });
  });
  after(async () => {
    await server?.close(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows every command's own example", () => {
    for (const c of COMMANDS) expect(docs, `${c.name}'s example`).to.contain(c.examples[0]);
  });

  it("runs every example to success, in order", async () => {
    const examples = examplesOf(docs);
    expect(examples.length).to.be.greaterThan(15);
    const cli = resolve(CLI);
    const ran: string[] = [];
    for (const example of examples) {
      const argv = words(example.replace("127.0.0.1:50051", `127.0.0.1:${server.port}`)).slice(1);
      if (argv.includes("mcp-proxy")) {
        // The MCP gateway over stdio, run from the repository (the example server needs its packages):
        // it starts the real server and exits 0 when its client closes stdin.
        const child = spawn(process.execPath, [cli, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
        let log = "";
        child.stderr!.on("data", (c: Buffer) => void (log += c.toString()));
        const code = await new Promise<number | null>((ok) => child.once("exit", (c) => ok(c)));
        expect(code, `${example}\n${log}`).to.equal(0);
      } else if (argv.includes("serve")) {
        // A server runs until stopped: it must come up, then stop cleanly on SIGTERM.
        const child = spawn(process.execPath, [cli, ...argv.map((a) => (a === "50051" ? "0" : a)), "--log-format", "json"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
        let log = "";
        await new Promise<void>((ok, fail) => {
          child.stderr!.on("data", (c: Buffer) => {
            log += c.toString();
            if (log.includes('"msg":"serving"')) ok();
          });
          child.once("exit", () => fail(new Error(`${example}: ${log}`)));
        });
        const exit = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
        child.kill("SIGTERM");
        expect(await exit, example).to.equal(0);
      } else {
        // Not spawnSync: the server the examples talk to runs in this process.
        const r = await run(cli, argv, dir);
        expect(r.status, `${example}\n${r.stdout}\n${r.stderr}`).to.equal(0);
        expect(r.stderr, example).to.not.match(/Error|    at /);
      }
      ran.push(example);
    }
    expect(ran).to.deep.equal(examples);
  });
});
