import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { CLI } from "../support/processes.ts";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: {}, color: false };
  return { code: await runCli(argv, io), out, err };
}

const POLICY = `version: "1.0"
variables: {limit: 1000}
roles: {reader: {actions: [read]}}
profiles:
  bot: {role: reader, allow: [pay, deploy], scopes: ["project:*"]}
approval_policies:
  - {name: big, condition: 'action == "pay" and amount > $limit', tier: strong}
  - {name: deploys, condition: 'action == "deploy"', tier: soft}
delegation: {rules: [{name: why, require_reason: true}]}
audit: {enabled: true, path: audit.jsonl}
`;

describe("agent-auth test (policy test files)", function () {
  this.timeout(60_000);
  let dir: string;
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "agent-auth-ptest-"));
    file("policy.yaml", POLICY);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("passes a file whose expectations hold, typed rows, setup and metadata included; writes no audit log", async () => {
    const t = file(
      "policy_test.yaml",
      `policy: policy.yaml
tests:
  - name: reads
    request: {agent: bot, user: alice, action: read, scope: "project:x"}
    expect: {allowed: true, tier: autonomous, reason: "Allowed by profile 'bot'"}
  - name: payments
    each:
      - {amount: 10, tier: autonomous}
      - {amount: 5000, tier: strong}
    request: {agent: bot, user: alice, action: pay, metadata: {amount: "{amount}", note: "amount {amount}"}}
    expect: {tier: "{tier}", reason_matches: "^Allowed by profile"}
  - name: a delegation needs a reason
    setup:
      - delegation: {from_user: alice, to_agent: other, actions: [read]}
        expect_error: "Delegation validation failed:\\n  Delegation rule 'why' requires a reason"
      - delegation: {id: d, from_user: alice, to_agent: other, actions: [read], reason: ok}
      - advance_clock: 10
    request: {agent: other, user: alice, action: read}
    expect: {allowed: true, reason: "Delegated by user 'alice'"}
`,
    );
    const r = await cli("test", t);
    expect(r.err).to.equal("");
    expect(r).to.deep.include({ code: 0, out: "4 passed, 0 failed\n" });
    expect(existsSync(join(dir, "audit.jsonl"))).to.equal(false);
  });

  it("names each failing test with expected and actual and its line; exit 1", async () => {
    const t = file(
      "x.test.yaml",
      `policy: policy.yaml
tests:
  - name: wrong tier
    request: {agent: bot, user: alice, action: deploy}
    expect: {allowed: true, tier: strong}
  - name: rows
    each:
      - {action: read, allowed: true}
      - {action: delete, allowed: true}
    request: {agent: bot, user: alice, action: "{action}"}
    expect: {allowed: "{allowed}"}
  - name: unexpected setup success
    setup:
      - session: {id: s, agent: bot, user: alice}
        expect_error: "nope"
    request: {agent: bot, user: alice, action: read, session: s}
    expect: {allowed: true}
`,
    );
    const r = await cli("test", dir);
    expect(r.code).to.equal(1);
    expect(r.out.split("\n")).to.deep.equal([
      `FAIL ${t}:3 wrong tier: tier: expected "strong", got "soft"`,
      `FAIL ${t}:9 rows [delete, true]: allowed: expected true, got false`,
      `FAIL ${t}:12 unexpected setup success: setup[0] (session, line 14): expected the error "nope", but it succeeded`,
      "1 passed, 3 failed",
      "",
    ]);
  });

  it("requests, decides and redeems approvals in setup; a wrong expectation about one fails naming it", async () => {
    const t = file(
      "a_test.yaml",
      `policy: policy.yaml
tests:
  - name: redeemed
    setup:
      - approval: {id: a1, request: {agent: bot, user: u, action: pay, metadata: {amount: 5000}}, decide: approve, approver: sec-1}
    request: {agent: bot, user: u, action: pay, metadata: {amount: 5000}, approval: a1}
    expect: {allowed: true, requires_approval: false, approval_status: "", reason_matches: "^Approved by 'sec-1' [(]approval "}
  - name: pending, expected approved
    setup:
      - approval: {id: a1, request: {agent: bot, user: u, action: deploy}}
    request: {agent: bot, user: u, action: deploy, approval: a1}
    expect: {requires_approval: false}
  - name: not requestable
    setup:
      - approval: {request: {agent: bot, user: u, action: delete}}
    request: {agent: bot, user: u, action: read}
    expect: {allowed: true}
`,
    );
    const r = await cli("test", t);
    expect(r.code, r.err).to.equal(1);
    const lines = r.out.split("\n");
    expect(lines.find((l) => l.startsWith("FAIL") && l.includes("pending, expected approved"))).to.contain("requires_approval: expected false, got true");
    expect(lines.find((l) => l.startsWith("FAIL") && l.includes("not requestable"))).to.match(/setup\[0\] \(approval, line \d+\): unexpected error ".+"/);
    expect(r.out).to.contain("1 passed, 2 failed");
  });

  const broken: [string, string, RegExp][] = [
    ["an unknown expect key", `policy: policy.yaml\ntests:\n  - name: t\n    request: {agent: bot, user: u, action: read}\n    expect: {alowed: true}\n`, /:5: test 't': expect: unknown key 'alowed'/],
    ["an unknown setup operation", `policy: policy.yaml\ntests:\n  - name: t\n    setup: [{grant: {id: x}}]\n    request: {agent: bot, user: u, action: read}\n    expect: {allowed: true}\n`, /:4: test 't': unknown setup operation 'grant'/],
    ["a bad tier", `policy: policy.yaml\ntests:\n  - name: t\n    request: {agent: bot, user: u, action: read}\n    expect: {tier: hard}\n`, /:5: test 't': expect.tier: 'hard' is not one of/],
    ["a missing request field", `policy: policy.yaml\ntests:\n  - name: t\n    request: {agent: bot, action: read}\n    expect: {allowed: true}\n`, /:4: test 't': request.user is required/],
    ["a missing policy", `policy: nowhere.yaml\ntests:\n  - name: t\n    request: {agent: bot, user: u, action: read}\n    expect: {allowed: true}\n`, /:1: the policy .*nowhere.yaml cannot be used:\n  - Auth config file not found/],
    ["an unknown variable", `policy: policy.yaml\nvariables: {limt: 5}\ntests:\n  - name: t\n    request: {agent: bot, user: u, action: read}\n    expect: {allowed: true}\n`, /variables.limt: the policy has no variable 'limt'/],
    ["YAML syntax", `policy: policy.yaml\ntests: [\n`, /:\d+: YAML syntax error/],
    ["no tests", `policy: policy.yaml\ntests: []\n`, /:2: tests: the list is empty/],
    [
      "an approval decided without an approver",
      `policy: policy.yaml\ntests:\n  - name: t\n    setup:\n      - approval: {request: {agent: bot, user: u, action: deploy}, decide: approve}\n    request: {agent: bot, user: u, action: deploy}\n    expect: {allowed: true}\n`,
      /:5: test 't': approval: approver is required with decide/,
    ],
    [
      "an approval decision that is neither approve nor deny",
      `policy: policy.yaml\ntests:\n  - name: t\n    setup:\n      - approval: {request: {agent: bot, user: u, action: deploy}, decide: maybe, approver: a}\n    request: {agent: bot, user: u, action: deploy}\n    expect: {allowed: true}\n`,
      /:5: test 't': approval: decide: expected approve or deny, got "maybe"/,
    ],
    [
      "an approval request with an unknown field",
      `policy: policy.yaml\ntests:\n  - name: t\n    setup:\n      - approval: {request: {agent: bot, user: u, action: deploy, sesion: s1}}\n    request: {agent: bot, user: u, action: deploy}\n    expect: {allowed: true}\n`,
      /:5: test 't': approval: request: unknown field 'sesion'/,
    ],
    [
      "an unknown approval status",
      `policy: policy.yaml\ntests:\n  - name: t\n    request: {agent: bot, user: u, action: deploy, approval: a1}\n    expect: {approval_status: approved}\n`,
      /:5: test 't': expect.approval_status: 'approved' is not one of/,
    ],
  ];
  for (const [what, text, message] of broken) {
    it(`refuses a broken test file (${what}): exit 2, naming file and line`, async () => {
      const t = file("b_test.yaml", text);
      const r = await cli("test", t);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(new RegExp(`^ERROR ${t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      expect(r.err).to.match(message);
      expect(r.out).to.contain("0 passed, 0 failed");
    });
  }

  it("overrides variables and reads only the file's environment", async () => {
    file("env.yaml", `profiles: {bot: {allow: [pay]}}\nvariables: {limit: "\${LIMIT}"}\napproval_policies: [{name: big, condition: 'amount > $limit', tier: strong}]\n`);
    const t = file(
      "v_test.yaml",
      `policy: policy.yaml\nvariables: {limit: 5}\ntests:\n  - name: over the lowered limit\n    request: {agent: bot, user: u, action: pay, metadata: {amount: 10}}\n    expect: {tier: strong}\n`,
    );
    const e = file(
      "e_test.yaml",
      `policy: env.yaml\nenv: {LIMIT: "100"}\ntests:\n  - name: the environment is the file's\n    request: {agent: bot, user: u, action: pay, metadata: {amount: "x"}}\n    expect: {tier: strong, approval_policy: big}\n`,
    );
    expect((await cli("test", t, e)).out).to.equal("2 passed, 0 failed\n");
  });

  it("writes JUnit XML and JSON", async () => {
    const t = file("j_test.yaml", `policy: policy.yaml\ntests:\n  - name: ok\n    request: {agent: bot, user: u, action: read}\n    expect: {allowed: true}\n  - name: "<bad>"\n    request: {agent: bot, user: u, action: read}\n    expect: {allowed: false}\n`);
    const junit = join(dir, "out.xml");
    const r = await cli("test", t, "--junit", junit, "-o", "json");
    expect(r.code).to.equal(1);
    const json = JSON.parse(r.out) as { passed: number; failed: number; files: { tests: { name: string; line: number; passed: boolean }[] }[] };
    expect([json.passed, json.failed]).to.deep.equal([1, 1]);
    expect(json.files[0]!.tests.map((x) => [x.name, x.line, x.passed])).to.deep.equal([["ok", 3, true], ["<bad>", 6, false]]);
    const xml = readFileSync(junit, "utf8");
    expect(xml).to.contain('<testsuites name="agent-auth test" tests="2" failures="1" errors="0">');
    expect(xml).to.contain('<testcase name="&lt;bad&gt;"').and.contain('<failure message="allowed: expected false, got true">');
  });

  it("exit 2 when no test file is found", async () => {
    const r = await cli("test", join(dir, "nothing-here"));
    expect(r.code).to.equal(2);
    const empty = mkdtempSync(join(tmpdir(), "agent-auth-ptest-empty-"));
    try {
      expect((await cli("test", empty)).code).to.equal(2);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("passes the example policy's own tests and the converted public conformance cases (the built program, as CI runs it)", () => {
    const r = spawnSync(process.execPath, [CLI, "test", "examples", "test/fixtures/policy-tests"], { encoding: "utf8" });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const last = r.stdout.trim().split("\n").at(-1)!;
    const [, passed] = /^(\d+) passed, 0 failed$/.exec(last) ?? expect.fail(`unexpected summary: ${last}`);
    // 118 conformance cases fit the format (one policy, no config error, no provider), plus the example's own.
    expect(Number(passed)).to.be.at.least(118 + 20);
  });
});
