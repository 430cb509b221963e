import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { CLI } from "../support/processes.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Run> {
  return cliWith({}, ...argv);
}

async function cliWith(env: Record<string, string>, ...argv: string[]): Promise<Run> {
  let out = "";
  let err = "";
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env, color: false };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe("agent-auth CLI (local commands)", () => {
  let dir: string;
  let policy: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-cli-"));
    policy = join(dir, "policy.yaml");
    writeFileSync(
      policy,
      `version: "1.0"
metadata: {name: cli-test}
roles: {viewer: {actions: [read]}}
profiles:
  bot: {role: viewer, deny: [delete], scopes: ["project:*"]}
  deployer: {allow: [deploy], default_tier: soft}
approval_policies:
  - {name: prod, condition: 'resource starts_with "/prod"', tier: strong}
audit: {enabled: true, path: ${JSON.stringify(join(dir, "audit.jsonl"))}}
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the version", async () => {
    const r = await cli("version");
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^agent-auth \d+\.\d+\.\d+\n$/);
  });

  it("validates a policy and reports counts", async () => {
    const r = await cli("-c", policy, "validate");
    expect(r).to.deep.include({ code: 0, out: "Config is valid: 1 roles, 2 profiles, 1 approval policies, 0 A2A policies\n" });
    const json = JSON.parse((await cli("--config", policy, "validate", "-o", "json")).out) as { valid: boolean; revision: string };
    expect(json.valid).to.equal(true);
    expect(json.revision).to.match(/^[0-9a-f]{16}$/);
  });

  it("reports every problem of an invalid policy with lines, never a stack trace", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, 'version: "2.0"\nprofiles:\n  p: {default_tier: hard}\napproval_policies: [{name: a, condition: "x =="}]\n');
    const r = await cli("-c", bad, "validate");
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(
      "Validation failed:\n" +
        "  - Unsupported config version: '2.0' (expected '1.0') (line 1, column 11)\n" +
        "  - profiles.p: invalid default_tier 'hard', expected one of ['autonomous', 'soft', 'strong'] (line 3, column 21)\n" +
        "  - approval_policies[0].condition: unexpected end of expression at position 4 (line 4, column 43)\n",
    );
    const json = JSON.parse((await cli("-c", bad, "validate", "-o", "json")).out) as { valid: boolean; errors: unknown[] };
    expect([json.valid, json.errors.length]).to.deep.equal([false, 3]);
  });

  it("names a missing policy file", async () => {
    const r = await cli("-c", join(dir, "missing.yaml"), "check", "--agent", "a", "--user", "u", "--action", "x");
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(`Auth config file not found: ${join(dir, "missing.yaml")}`);
  });

  it("inspects a policy as tables and as JSON", async () => {
    const r = await cli("-c", policy, "inspect");
    expect(r.code).to.equal(0);
    expect(r.out).to.contain("cli-test").and.contain("Profiles (2)").and.contain("deployer").and.contain("Approval policies (1)");
    const json = JSON.parse((await cli("-c", policy, "inspect", "-o", "json")).out) as { config: { profiles: Record<string, unknown> } };
    expect(Object.keys(json.config.profiles)).to.deep.equal(["bot", "deployer"]);
  });

  it("interpolates only the variables AGENT_AUTH_ENV_PREFIXES allows, and never shows a value in an error", async () => {
    const file = join(dir, "env-policy.yaml");
    writeFileSync(file, 'metadata: {name: "${APP_NAME}", description: "${DB_PASSWORD}"}\nprofiles: {bot: {allow: [read]}}\naudit: {enabled: false}\n');
    const env = { APP_NAME: "cli-env", DB_PASSWORD: "hunter2", AGENT_AUTH_ENV_PREFIXES: "APP_" };
    const r = await cliWith(env, "-c", file, "inspect", "-o", "json");
    expect(r.code).to.equal(0);
    expect((JSON.parse(r.out) as { config: { metadata: unknown } }).config.metadata).to.deep.include({ name: "cli-env", description: "${DB_PASSWORD}" });
    expect((await cliWith(env, "-c", file, "validate")).err).to.contain("${DB_PASSWORD} is left as written: only names starting with 'APP_' may be interpolated");
    // Without the variable every name is read, as before.
    const all = { APP_NAME: "cli-env", DB_PASSWORD: "hunter2" };
    expect((JSON.parse((await cliWith(all, "-c", file, "inspect", "-o", "json")).out) as { config: { metadata: { description: string } } }).config.metadata.description).to.equal("hunter2");
    writeFileSync(file, 'a2a: {default: "${DB_PASSWORD}"}\n');
    const bad = await cliWith({ DB_PASSWORD: "hunter2" }, "-c", file, "validate");
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain("a2a.default: invalid default '${DB_PASSWORD}'");
    expect(bad.out + bad.err).to.not.contain("hunter2");
  });

  it("checks requests: exit 0 when allowed, 1 when denied", async () => {
    const allowed = await cli("-c", policy, "check", "--agent", "bot", "--user", "alice", "--action", "read", "--scope", "project:x");
    expect(allowed.code).to.equal(0);
    expect(allowed.out).to.match(/^ALLOWED\n  Tier: autonomous\n  Reason: Allowed by profile 'bot'\n/);
    const denied = await cli("-c", policy, "check", "-a", "bot", "-u", "alice", "--action", "delete", "-o", "json");
    expect(denied.code).to.equal(1);
    expect(JSON.parse(denied.out)).to.deep.include({ allowed: false, tier: "autonomous", reason: "Action 'delete' denied by profile 'bot'" });
    const strong = await cli("-c", policy, "check", "-a", "deployer", "-u", "alice", "--action", "deploy", "-r", "/prod/api", "-o", "json");
    expect(JSON.parse(strong.out)).to.deep.include({ allowed: true, tier: "strong", requires_approval: true, approval_policy: "prod" });
  });

  it("does not record a local check unless --audit, and resolves the audit path against the policy's directory", async () => {
    const sub = join(dir, "nested");
    mkdirSync(sub);
    writeFileSync(join(sub, "p.yaml"), "profiles: {b: {allow: [read]}}\naudit: {enabled: true, path: logs/audit.jsonl}\n");
    const log = join(sub, "logs", "audit.jsonl");
    await cli("-c", join(sub, "p.yaml"), "check", "-a", "b", "-u", "u", "--action", "read");
    expect(existsSync(log)).to.equal(false);
    const r = await cli("-c", join(sub, "p.yaml"), "check", "-a", "b", "-u", "u", "--action", "read", "--audit", "-o", "json");
    const id = (JSON.parse(r.out) as { decision_id: string }).decision_id;
    expect(JSON.parse(readFileSync(log, "utf8").trim()).decision_id).to.equal(id);
    // audit reads the same file, wherever it is run from.
    const shown = JSON.parse((await cli("-c", join(sub, "p.yaml"), "audit", "--last", "1", "-o", "json")).out) as { decision_id: string }[];
    expect(shown.map((e) => e.decision_id)).to.deep.equal([id]);
  });

  it("says plainly when an allow needs approval, and --require-no-approval makes it exit 1", async () => {
    const r = await cli("-c", policy, "check", "-a", "deployer", "-u", "alice", "--action", "deploy");
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^ALLOWED ONLY WITH SOFT APPROVAL\n  Tier: soft\n/);
    expect((await cli("-c", policy, "check", "-a", "deployer", "-u", "alice", "--action", "deploy", "--require-no-approval")).code).to.equal(1);
  });

  it("validate shows warnings, also beside errors, and --strict fails on them", async () => {
    const w = join(dir, "warn.yaml");
    writeFileSync(w, "profiles: {b: {allow: [deploy]}}\napproval_policies: [{name: p, condition: 'action == deploy', tier: strong}]\n");
    const r = await cli("-c", w, "validate");
    expect(r.code).to.equal(0);
    expect(r.err).to.contain("Warning: approval_policies[0].condition: 'deploy' is read as a request field").and.contain('did you mean "deploy"?').and.contain("(line 2");
    expect(r.out).to.contain("(1 warning)");
    expect((await cli("-c", w, "validate", "--strict")).code).to.equal(1);
    const both = join(dir, "both.yaml");
    writeFileSync(both, "version: '7'\napproval_policies: [{name: p, condition: 'action == deploy', tier: strong}]\n");
    const b = await cli("-c", both, "validate", "-o", "json");
    const json = JSON.parse(b.out) as { valid: boolean; errors: unknown[]; warnings: unknown[] };
    expect([b.code, json.valid, json.errors.length, json.warnings.length]).to.deep.equal([1, false, 1, 1]);
  });

  it("passes metadata, reading JSON values", async () => {
    const p = join(dir, "meta.yaml");
    writeFileSync(p, 'profiles: {b: {allow: ["*"]}}\napproval_policies: [{name: big, condition: "amount > 100 and tags contains \'x\'", tier: strong}]\naudit: {enabled: false}\n');
    const r = await cli("-c", p, "check", "-a", "b", "-u", "u", "--action", "pay", "--metadata", "amount=500", "--metadata", 'tags=["x"]', "-o", "json");
    expect(JSON.parse(r.out)).to.deep.include({ tier: "strong", approval_policy: "big" });
  });

  const usage: string[][] = [
    ["check", "--agent", "a", "--user", "u"],
    ["check", "--agent", "a", "--user", "u", "--action", "x", "--bogus"],
    ["check", "--agent", "a", "--user", "u", "--action", "x", "-o", "xml"],
    ["frobnicate"],
    ["--nope", "validate"],
    [],
  ];
  for (const args of usage) {
    it(`exits 2 on a usage error: ${args.join(" ") || "(no command)"}`, async () => {
      const r = await cli("-c", policy, ...args);
      expect(r.code).to.equal(2);
      expect(r.err.length).to.be.greaterThan(0);
    });
  }

  it("runs as a program (the built bin)", function () {
    this.timeout(120_000);
    const r = spawnSync(process.execPath, [CLI, "-c", policy, "check", "--agent", "bot", "--user", "alice", "--action", "read", "-o", "json"], { encoding: "utf8" });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ allowed: true });
    const bad = spawnSync(process.execPath, [CLI, "-c", policy, "check"], { encoding: "utf8" });
    expect(bad.status).to.equal(2);
  });
});
