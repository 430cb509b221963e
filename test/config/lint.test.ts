import { expect } from "chai";
import { readFileSync } from "node:fs";
import { isConfigError, parseConfigWithWarnings, type ConfigIssue } from "../../src/config/index.ts";
import type { AuthzCase } from "../../src/conformance/cases.ts";

const warningsOf = (yaml: string): string[] => {
  try {
    return parseConfigWithWarnings(yaml, { env: {} }).warnings.map((w) => `${w.line ?? "?"}: ${w.message}`);
  } catch (error) {
    if (isConfigError(error)) return error.warnings.map((w: ConfigIssue) => `${w.line ?? "?"}: ${w.message}`);
    throw error;
  }
};

describe("policy lint (warnings)", () => {
  it("flags a bare word compared as if it were text, suggesting the quoted text or the variable", () => {
    const w = warningsOf(`variables: {stage: prod}
profiles: {bot: {allow: ["*"]}}
approval_policies:
  - {name: a, condition: 'action == deploy', tier: strong}
  - {name: b, condition: 'action in [rollback, "restart"]', tier: soft}
  - {name: c, condition: 'env == stage', tier: soft}
`);
    expect(w).to.deep.equal([
      `4: approval_policies[0].condition: 'deploy' is read as a request field (null unless the request's metadata has it), not as text: did you mean "deploy"?`,
      `5: approval_policies[1].condition: 'rollback' is read as a request field (null unless the request's metadata has it), not as text: did you mean "rollback"?`,
      `6: approval_policies[2].condition: 'stage' is read as a request field (null unless the request's metadata has it), not as text: did you mean the variable $stage?`,
    ]);
  });

  it("leaves real metadata fields alone: compared with text, or read elsewhere in the policy", () => {
    expect(
      warningsOf(`profiles: {bot: {allow: ["*"]}}
approval_policies:
  - {name: a, condition: 'priority == "urgent"', tier: soft}
  - {name: b, condition: 'owner == user and amount > 3', tier: soft}
  - {name: c, condition: 'requester == owner', tier: strong}
`),
    ).to.deep.equal([]);
  });

  it("flags a field named like an operator of another language, and suggests in syntax errors", () => {
    expect(warningsOf(`approval_policies: [{name: a, condition: 'startswith', tier: soft}]\n`)[0]).to.contain("'startswith' is read as a request field, not an operator: did you mean starts_with?");
    try {
      parseConfigWithWarnings(`approval_policies: [{name: a, condition: 'resource startswith "/p"', tier: soft}, {name: b, condition: 'a && b', tier: soft}]\n`, { env: {} });
      expect.fail("a syntax error was expected");
    } catch (error) {
      if (!isConfigError(error)) throw error;
      expect(error.errors[0]).to.contain("unexpected 'startswith' (did you mean 'starts_with'?)");
      expect(error.errors[1]).to.contain("unexpected character '&' (did you mean 'and'?)");
    }
  });

  it("flags profiles that can never be reached or never allow", () => {
    const w = warningsOf(`roles: {r: {actions: [read]}}
profiles:
  "bots-*": {allow: [read]}
  locked: {role: r, deny: ["*"]}
  shut: {role: r, allow: [write], deny: [read, write]}
`);
    expect(w).to.deep.equal([
      "3: profiles.bots-*: profile names are exact agent names, not patterns: this profile applies only to an agent literally named 'bots-*'",
      "4: profiles.locked: deny '*' denies every action: this profile can never allow anything",
      "5: profiles.shut: every action its role and allow list grant is also denied: this profile can never allow anything",
    ]);
  });

  it("flags an approval policy an earlier one shadows", () => {
    const w = warningsOf(`approval_policies:
  - {name: pay, condition: 'action == "pay"', tier: strong}
  - {name: big-pay, condition: 'action == "pay" and amount > 100', tier: soft}
  - {name: all, tier: soft}
  - {name: any-write, condition: 'action == "write"', tier: soft}
  - {name: noop, condition: 'action == "x"', tier: autonomous}
`);
    expect(w).to.deep.equal([
      "3: approval_policies[1] (big-pay): shadowed by approval_policies[0] (pay), which matches whenever it does with a tier at least as high: it can never set the tier",
      "5: approval_policies[3] (any-write): shadowed by approval_policies[2] (all), which matches whenever it does with a tier at least as high: it can never set the tier",
      "6: approval_policies[4] (noop): tier autonomous never raises a tier: this policy has no effect",
    ]);
  });

  it("is shown beside errors", () => {
    expect(warningsOf(`version: "9"\napproval_policies: [{name: a, condition: 'action == deploy', tier: strong}]\n`)).to.have.length(1);
  });

  it("finds nothing to say about the example policy and the conformance policies", () => {
    expect(warningsOf(readFileSync("examples/agent_auth.yaml", "utf8"))).to.deep.equal([]);
    const noisy: string[] = [];
    for (const line of readFileSync("test/fixtures/conformance/authz.jsonl", "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const c = JSON.parse(line) as AuthzCase;
      if (Object.hasOwn(c.expect, "config_error")) continue;
      for (const w of warningsOf(c.config)) if (!w.includes("unknown key")) noisy.push(`${c.id}: ${w}`);
    }
    // What the original's test and doc policies really contain: autonomous-tier policies that never
    // raise a tier, and a probe profile that denies everything.
    expect(noisy).to.deep.equal(NOISY);
  });
});

const NOISY: readonly string[] = [
  "approval-match-strong: 16: approval_policies[3] (always_true): tier autonomous never raises a tier: this policy has no effect",
  "approval-escalation: 16: approval_policies[3] (always_true): tier autonomous never raises a tier: this policy has no effect",
  "approval-staging-soft: 16: approval_policies[3] (always_true): tier autonomous never raises a tier: this policy has no effect",
  "config-syntax-suggest: 29: approval_policies[1] (low_risk): tier autonomous never raises a tier: this policy has no effect",
  "config-syntax-delete: 29: approval_policies[1] (low_risk): tier autonomous never raises a tier: this policy has no effect",
  "config-syntax-scope-ok: 29: approval_policies[1] (low_risk): tier autonomous never raises a tier: this policy has no effect",
  "config-syntax-scope-bad: 29: approval_policies[1] (low_risk): tier autonomous never raises a tier: this policy has no effect",
  "probe-deny-star: 2: profiles.bot: deny '*' denies every action: this profile can never allow anything",
];
