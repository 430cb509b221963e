import { expect } from "chai";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer } from "../../src/testing.ts";
import type { AgentAuthServer } from "../../src/server/index.ts";

/**
 * The package as a user gets it: `npm pack` (of the dist/ that `npm test`
 * just built), installed into an empty project that has no tsx and no
 * TypeScript loader, then used from plain Node and type-checked by a strict
 * NodeNext project.
 */
describe("the packed package, installed in an empty project", function () {
  this.timeout(180_000);
  const root = process.cwd();
  let dir: string;
  let server: AgentAuthServer;

  const node = (file: string, ...args: string[]) => spawnSync(process.execPath, [file, ...args], { cwd: dir, encoding: "utf8" });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-consumer-"));
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: root, encoding: "utf8" })) as { filename: string }[];
    const tarball = join(dir, packed[0]!.filename);
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    const typesNode = lock.packages["node_modules/@types/node"]!.version!;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // From the npm cache `npm ci` filled: the same versions the project was tested with.
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball, `@types/node@${typesNode}`], { cwd: dir, stdio: "pipe" });
    // Allows what the examples of docs/api.md ask the example policy (copilot reads in project:web).
    server = await startTestServer("profiles: {copilot: {allow: [read], deny: [delete], scopes: ['project:*']}}\naudit: {enabled: false}\n");
  });

  after(async () => {
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("ships the built code, the contract and the docs, and no tests, benchmarks or CI", () => {
    const pkg = join(dir, "node_modules", "agent-auth");
    for (const f of ["dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/bin.js", "proto/agentauth/v1/decision.proto", "README.md", "LICENSE", "docs/api.md"]) {
      expect(existsSync(join(pkg, f)), f).to.equal(true);
    }
    for (const f of ["test", "bench", ".ci", "src/index.ts", "tsconfig.json"]) expect(existsSync(join(pkg, f)), f).to.equal(false);
    expect(existsSync(join(dir, "node_modules", "tsx")), "tsx is a dev dependency").to.equal(false);
  });

  it("(a) decides with the engine from plain Node ESM", () => {
    writeFileSync(
      join(dir, "engine.mjs"),
      `import { AuthEngine, parseConfig } from "agent-auth";
const engine = new AuthEngine(parseConfig("profiles: {copilot: {allow: [read], deny: [delete]}}\\naudit: {enabled: false}\\n", { env: {} }));
const allowed = await engine.authorize({ agent: "copilot", user: "alice", action: "read" });
const denied = await engine.authorize({ agent: "copilot", user: "alice", action: "delete" });
console.log(JSON.stringify([allowed.allowed, allowed.reason, denied.allowed, denied.reason]));
await engine.close();
`,
    );
    const r = node("engine.mjs");
    expect(r.stderr).to.equal("");
    expect(JSON.parse(r.stdout)).to.deep.equal([true, "Allowed by profile 'copilot'", false, "Action 'delete' denied by profile 'copilot'"]);
  });

  it("(b) calls a running server with the client and compares the effect with the exported enum", async () => {
    writeFileSync(
      join(dir, "client.mjs"),
      `import { createAgentAuthClient, Effect, Tier, tierName, Code, isClientError } from "agent-auth/client";
const client = createAgentAuthClient(process.argv[2]);
const { decision } = await client.authorization.authorize({ agent: "copilot", user: "alice", action: "read" });
const denied = (await client.authorization.authorize({ agent: "copilot", user: "alice", action: "delete" })).decision;
let code;
try { await client.authorization.authorize({ agent: "", user: "alice", action: "read" }); } catch (e) { code = isClientError(e) ? e.code : "not a ClientError"; }
console.log(JSON.stringify([decision.effect === Effect.ALLOW, tierName(decision.tier), denied.effect === Effect.DENY, code === Code.INVALID_ARGUMENT, decision.tier === Tier.AUTONOMOUS]));
client.close();
`,
    );
    // Asynchronously: the server answering it runs in this process.
    const r = await promisify(execFile)(process.execPath, ["client.mjs", server.address], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).to.equal("");
    expect(JSON.parse(r.stdout)).to.deep.equal([true, "autonomous", true, true, true]);
  });

  it("(c) type-checks a strict NodeNext consumer of all four entry points", () => {
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, types: ["node"] }, files: ["consumer.ts"] }),
    );
    writeFileSync(
      join(dir, "consumer.ts"),
      `import { AuthEngine, parseConfig, isConfigError, type AuthDecision, type AuthRequest, type ApprovalTier } from "agent-auth";
import { createAgentAuthClient, Effect, Code, ClientError, type Decision } from "agent-auth/client";
import { startAgentAuthServer, type AgentAuthServer } from "agent-auth/server";
import { ManualClock, testEngine } from "agent-auth/testing";

export async function run(address: string): Promise<[boolean, ApprovalTier, number | undefined]> {
  const engine: AuthEngine = testEngine("profiles: {bot: {allow: [read]}}", { clock: new ManualClock() });
  const request: AuthRequest = { agent: "bot", user: "alice", action: "read" };
  const d: AuthDecision = await engine.authorize(request);
  const client = createAgentAuthClient(address);
  const wire: Decision | undefined = (await client.authorization.authorize({ agent: "bot", user: "alice", action: "read" })).decision;
  const code: Code = Code.NOT_FOUND;
  const err: ClientError | undefined = undefined;
  client.close();
  const server: AgentAuthServer = await startAgentAuthServer({ config: parseConfig("profiles: {}", { env: {} }), port: 0 });
  await server.close();
  void err;
  void isConfigError;
  void new AuthEngine(parseConfig("profiles: {}", { env: {} }), { audit: false });
  return [wire?.effect === Effect.ALLOW && code === 5, d.tier, wire?.effect];
}
// @ts-expect-error an unknown field of a request
export const bad: AuthRequest = { agent: "a", user: "u", action: "x", nope: 1 };
`,
    );
    const r = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8" });
    expect(r.stdout + r.stderr).to.equal("");
    expect(r.status).to.equal(0);
  });

  it("(d) works from CommonJS require() where Node can require ES modules, else says what to do", () => {
    writeFileSync(
      join(dir, "require.cjs"),
      `let out;
try {
  const { AuthEngine, parseConfig } = require("agent-auth");
  const { Effect } = require("agent-auth/client");
  const engine = new AuthEngine(parseConfig("profiles: {bot: {allow: [read]}}\\naudit: {enabled: false}", { env: {} }));
  engine.authorize({ agent: "bot", user: "u", action: "read" }).then((d) => console.log(JSON.stringify(["loaded", d.allowed, Effect.ALLOW])));
} catch (e) { console.log(JSON.stringify(["refused", e.message])); }
`,
    );
    const r = node("require.cjs");
    const [how, ...rest] = JSON.parse(r.stdout) as [string, ...unknown[]];
    // Node 20.19+ and 22.12+ load ES modules with require() (the "module-sync" condition); older ones get the stub.
    if ((process.features as { require_module?: boolean }).require_module === true) expect([how, ...rest]).to.deep.equal(["loaded", true, 1]);
    else expect([how, String(rest[0])]).to.match(/refused.*agent-auth is an ES module package.*await import\("agent-auth"\)/s);
  });

  it("(d) the require() stub older Node versions get says what to do", () => {
    const r = spawnSync(process.execPath, ["-e", `try { require(${JSON.stringify(join(dir, "node_modules", "agent-auth", "cjs", "require.cjs"))}) } catch (e) { console.log(e.message) }`], { encoding: "utf8" });
    expect(r.stdout).to.match(/agent-auth is an ES module package.*await import\("agent-auth"\).*README/s);
  });

  describe("the examples of docs/api.md, run as written", () => {
    const examples = new Map<string, string>();
    for (const m of readFileSync(join(root, "docs", "api.md"), "utf8").matchAll(/<!-- example: (\w+) -->\n```js\n([\s\S]*?)```/g)) examples.set(m[1]!, m[2]!);
    const run = async (name: string): Promise<string> => {
      const code = examples.get(name);
      expect(code, `docs/api.md example '${name}'`).to.be.a("string");
      writeFileSync(join(dir, `${name}.mjs`), code!);
      const r = await promisify(execFile)(process.execPath, [`${name}.mjs`], { cwd: dir, encoding: "utf8", env: { ...process.env, AGENT_AUTH_SERVER: server.address } });
      expect(r.stderr).to.equal("");
      return r.stdout;
    };

    it("has one for each entry point", () => {
      expect([...examples.keys()]).to.have.members(["engine", "client", "server", "testing"]);
    });
    it("engine", async () => {
      expect(await run("engine")).to.equal("true Action 'pr:merge' denied by profile 'copilot' soft true\n");
    });
    it("client", async () => {
      expect(await run("client")).to.equal("true autonomous Allowed by profile 'copilot'\nbad request: agent: must not be empty\n");
    });
    it("server", async () => {
      expect(await run("server")).to.match(/^127\.0\.0\.1:\d+ Allowed by profile 'bot'\n$/);
    });
    it("testing", async () => {
      expect(await run("testing")).to.equal("true Invalid or expired session\n");
    });
  });

  it("runs the agent-auth program from node_modules/.bin", () => {
    const bin = join(dir, "node_modules", ".bin", "agent-auth");
    const r = spawnSync(bin, ["version"], { cwd: dir, encoding: "utf8" });
    const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
    expect(r.stdout.trim()).to.equal(`agent-auth ${version}`);
    expect(readdirSync(join(dir, "node_modules", "agent-auth", "dist", "src", "cli")).length).to.be.greaterThan(3);
  });
});
