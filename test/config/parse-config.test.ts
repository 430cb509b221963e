import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCases } from "../../src/conformance/run-file.ts";
import type { AuthzCase } from "../../src/conformance/cases.ts";
import { policyRevision } from "../../src/policy/revision.ts";
import { isConfigError, loadConfig, parseConfig, parseConfigWithWarnings, type ConfigError } from "../../src/config/index.ts";

function errorOf(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, { env });
  } catch (e) {
    if (isConfigError(e)) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  describe("conformance configs", () => {
    for (const { parsed } of readCases("test/fixtures/conformance/authz.jsonl")) {
      const c = parsed as AuthzCase;
      const bad = Object.hasOwn(c.expect, "config_error");
      it(`${bad ? "rejects" : "accepts"} ${c.id}`, () => {
        if (bad) expect(errorOf(c.config, c.env).errors.length).to.be.greaterThan(0);
        else expect(() => parseConfig(c.config, { env: c.env ?? {} })).to.not.throw();
      });
    }
  });

  it("lists every validation problem in the original's order and words", () => {
    const e = errorOf(`
version: "1.0"
profiles: {a: {default_tier: hard, max_session_duration: 0}, b: {max_session_duration: 100000}}
approval_policies: [{tier: soft}, {name: x, tier: meh}, {name: x}]
delegation: {max_duration: 10, rules: [{allowed_actions: [a]}, {name: r, max_duration: 0}, {name: r, max_duration: 5}]}
a2a: {default: maybe, policies: [{effect: allow}, {name: n, effect: permit}, {name: n}]}
sessions: {default_duration: 0, max_duration: 50000}
`);
    expect(e.errors).to.deep.equal([
      "profiles.a: invalid default_tier 'hard', expected one of ['autonomous', 'soft', 'strong']",
      "profiles.a: max_session_duration must be >= 1",
      "profiles.b: max_session_duration (100000) exceeds sessions.max_duration (50000)",
      "approval_policies[0]: 'name' is required",
      "approval_policies[1] (x): invalid tier 'meh', expected one of ['autonomous', 'soft', 'strong']",
      "approval_policies[2]: duplicate approval policy name 'x'",
      "delegation.rules[0]: 'name' is required",
      "delegation.rules[0] (): max_duration (86400) exceeds delegation.max_duration (10)",
      "delegation.rules[1] (r): max_duration must be >= 1",
      "delegation.rules[2]: duplicate delegation rule name 'r'",
      "a2a.default: invalid default 'maybe', expected one of ['allow', 'deny']",
      "a2a.policies[0]: 'name' is required",
      "a2a.policies[1] (n): invalid effect 'permit', expected one of ['allow', 'deny']",
      "a2a.policies[2]: duplicate A2A policy name 'n'",
      "sessions.default_duration must be >= 1",
    ]);
    expect(e.issues[0]).to.deep.include({ path: "profiles.a.default_tier", line: 3 });
    expect(e.message.startsWith("Invalid auth config:\n  profiles.a: invalid default_tier")).to.equal(true);
  });

  describe("approvals section", () => {
    it("has the documented defaults when absent", () => {
      expect(parseConfig("version: '1.0'").approvals).to.deep.equal({
        pendingTtl: 3600,
        grantTtl: 900,
        maxUses: 1,
        historyTtl: 7 * 86400,
        maxPending: 100,
        approvers: { soft: ["self", "*"], strong: ["*"] },
      });
    });

    it("reads every field, and a missing tier's approvers keep their default", () => {
      const a = parseConfig(`
approvals: {pending_ttl: 60, grant_ttl: 30, max_uses: 3, history_ttl: 120, max_pending: 2, approvers: {soft: [self, "lead-*"]}}
`).approvals;
      expect(a).to.deep.equal({ pendingTtl: 60, grantTtl: 30, maxUses: 3, historyTtl: 120, maxPending: 2, approvers: { soft: ["self", "lead-*"], strong: ["*"] } });
    });

    it("counts in the policy revision only when it differs from the defaults", () => {
      const revision = (text: string): string => policyRevision(parseConfig(text));
      const base = "profiles: {a: {allow: [read]}}\n";
      expect(revision(base + "approvals: {pending_ttl: 3600, approvers: {soft: [self, '*']}}")).to.equal(revision(base));
      expect(revision(base + "approvals: {pending_ttl: 60}")).to.not.equal(revision(base));
      expect(revision(base + "approvals: {approvers: {strong: ['sec-*']}}")).to.not.equal(revision(base));
    });

    it("warns about keys it does not know, like every section", () => {
      const { warnings } = parseConfigWithWarnings("approvals: {sweeper: true, approvers: {medium: [x]}}");
      expect(warnings.map((w) => w.message)).to.deep.equal([
        "approvals.sweeper: unknown key 'sweeper' (ignored)",
        "approvals.approvers.medium: unknown key 'medium' (ignored)",
      ]);
    });

    it("collects every problem: bounds, self under strong, empty lists and patterns", () => {
      const e = errorOf(`
approvals:
  pending_ttl: 0
  grant_ttl: -5
  max_uses: 1001
  history_ttl: 0
  max_pending: 0
  approvers: {soft: [], strong: ["sec-*", self, ""]}
`);
      expect(e.errors).to.include.members([
        "approvals.pending_ttl must be >= 1, got 0",
        "approvals.grant_ttl must be >= 1, got -5",
        "approvals.max_uses must be <= 1000, got 1001",
        "approvals.history_ttl must be >= 1, got 0",
        "approvals.max_pending must be >= 1, got 0",
        "approvals.approvers.soft: names no approver, so no soft-tier request could ever be approved (omit it for the default)",
        "approvals.approvers.strong[1]: 'self' is not allowed under strong: the four-eyes rule forbids the request's own user from approving a strong-tier request",
        "approvals.approvers.strong[2]: an approver pattern must not be empty",
      ]);
      expect(e.issues.find((i) => i.path === "approvals.approvers.strong[1]")).to.deep.include({ line: 8 });
    });
  });

  it("reports roles that extend nothing and inheritance cycles in walk order", () => {
    expect(errorOf("roles: {a: {extends: b}, b: {extends: a}, c: {extends: a}, d: {extends: d}, e: {extends: zz}}").errors).to.deep.equal([
      "roles.e: extends 'zz' does not exist",
      "roles.a: circular inheritance detected: a -> b -> a",
      "roles.b: circular inheritance detected: b -> a -> b",
      "roles.c: circular inheritance detected: c -> a -> b -> a",
      "roles.d: circular inheritance detected: d -> d",
    ]);
  });

  it("checks conditions: syntax and undefined variables, after each policy's own checks", () => {
    const e = errorOf(`
variables: {env: prod}
approval_policies:
  - {name: a, condition: "action ==", tier: meh}
  - {name: b, condition: "true or $enviroment == 'x'"}
a2a: {policies: [{name: c, condition: 'x matches "("'}, {name: d, condition: "a matches b"}]}
`);
    expect(e.errors).to.deep.equal([
      "approval_policies[0] (a): invalid tier 'meh', expected one of ['autonomous', 'soft', 'strong']",
      "approval_policies[0].condition: unexpected end of expression at position 9",
      "approval_policies[1].condition: undefined variable '$enviroment'",
      "a2a.policies[0].condition: invalid regular expression for 'matches': error parsing regexp: missing closing ): `(` at position 2",
      "a2a.policies[1].condition: the right side of 'matches' must be a string literal (a regular expression) at position 2",
    ]);
  });

  const typeCases: [string, string][] = [
    ["profiles: {a: {max_session_duration: abc}}", "profiles.a.max_session_duration: expected an integer, got 'abc'"],
    ["profiles: {a: {max_session_duration: 1.5}}", "profiles.a.max_session_duration: expected an integer, got 1.5"],
    ["profiles: {a: {max_session_duration: true}}", "profiles.a.max_session_duration: expected an integer, got true"],
    ["delegation: {enabled: maybe}", "delegation.enabled: expected a boolean (true or false), got 'maybe'"],
    ["delegation: {enabled: 1}", "delegation.enabled: expected a boolean (true or false), got 1"],
    ["roles: [a, b]", "roles: expected a mapping, got a list"],
    ["roles: {r: 5}", "roles.r: expected a mapping, got 5"],
    ["roles: {r: {actions: read}}", "roles.r.actions: expected a list, got 'read'"],
    ["roles: {r: {actions: [read, null, [x]]}}", "roles.r.actions[1]: expected a string, got null"],
    ["approval_policies: {a: 1}", "approval_policies: expected a list, got a mapping"],
    ["approval_policies: [x]", "approval_policies[0]: expected a mapping, got 'x'"],
    ["metadata: {name: [x]}", "metadata.name: expected a string, got a list"],
    ["audit: {durability: eventual}", "audit.durability: invalid durability 'eventual', expected one of ['async', 'sync']"],
    ["audit: {stream_max_length: 0}", "audit.stream_max_length must be >= 1"],
    ["audit: {buffer_bytes: 1000}", "audit.buffer_bytes must be >= 65536 and <= 1073741824, got 1000"],
  ];
  for (const [text, message] of typeCases) {
    it(`rejects ${text}`, () => {
      expect(errorOf(text).errors).to.include(message);
    });
  }

  it("reads YAML 1.1 scalars as the Python library did", () => {
    const c = parseConfig(
      `
version: 1.0
metadata: {name: 0x1F, author: yes}
variables: {a: yes, b: off, c: 017, d: 1_000, e: 0b11, f: 1:30, g: ~, h: .5, i: 2001-12-14, j: y, k: 1e3}
delegation: {enabled: On, max_duration: 1_000, default_duration: 017}
`,
      { env: {} },
    );
    expect(c.version).to.equal("1.0");
    expect(c.metadata.name).to.equal("0x1F");
    expect(c.metadata.author).to.equal("yes");
    expect(Object.fromEntries(c.variables)).to.deep.equal({ a: true, b: false, c: 15, d: 1000, e: 3, f: 90, g: null, h: 0.5, i: "2001-12-14", j: "y", k: "1e3" });
    expect([c.delegation.enabled, c.delegation.maxDuration, c.delegation.defaultDuration]).to.deep.equal([true, 1000, 15]);
  });

  it("keeps the last of duplicate keys and applies merge keys", () => {
    const c = parseConfig(
      `
base: &base {role: r, allow: [a]}
roles: {r: {actions: [x]}, r: {actions: [y]}}
profiles:
  p: {<<: *base, allow: [b]}
  q: {<<: [{default_tier: soft}, {default_tier: strong, scopes: [s]}]}
`,
      { env: {} },
    );
    expect(c.roles.get("r")?.actions).to.deep.equal(["y"]);
    expect(c.profiles.get("p")).to.deep.include({ role: "r", allow: ["b"] });
    expect(c.profiles.get("q")).to.deep.include({ defaultTier: "soft", scopes: ["s"] });
  });

  it("treats prototype-named keys as ordinary names", () => {
    const c = parseConfig("roles: {__proto__: {actions: [x]}, constructor: {actions: [y]}}\nprofiles: {toString: {role: __proto__}}", { env: {} });
    expect([...c.roles.keys()]).to.deep.equal(["__proto__", "constructor"]);
    expect(c.profiles.get("toString")?.role).to.equal("__proto__");
  });

  it("interpolates ${ENV} in strings and integer fields, leaves unset names, and keeps values out of messages", () => {
    const c = parseConfig('metadata: {name: "${NAME}-${UNSET}"}\nsessions: {max_duration: "${MAXD}"}', { env: { NAME: "prod", MAXD: "7200" } });
    expect(c.metadata.name).to.equal("prod-${UNSET}");
    expect(c.sessions.maxDuration).to.equal(7200);
    const e = errorOf('sessions: {max_duration: "${SECRET}"}', { SECRET: "hunter2" });
    expect(e.errors).to.deep.equal(["sessions.max_duration: expected an integer, got '${SECRET}'"]);
    expect(e.message).to.not.contain("hunter2");
  });

  it("never shows an interpolated value in a validation message, whatever field it lands in", () => {
    const secret = (n: number): string => `hunter${n}-s3cr3t`;
    const env: Record<string, string> = {};
    for (let i = 0; i < 16; i++) env[`S${i}`] = secret(i);
    env["COND"] = "amount >>> hunter-cond";
    env["COND2"] = "$hunter_var > 1";
    const policy = `
version: "\${S0}"
roles:
  r: {actions: [x], extends: "\${S1}"}
profiles:
  p: {role: "\${S2}", default_tier: "\${S3}", max_session_duration: "\${S4}"}
approval_policies:
  - {name: "\${S5}", condition: "\${COND}", tier: "\${S6}"}
  - {name: "\${S5}", condition: "action == '\${S7}' and \${COND2}"}
delegation:
  max_duration: 10
  rules: [{name: "\${S8}", max_duration: 100}, {name: "\${S8}"}]
a2a:
  default: "\${S9}"
  policies:
    - {name: "\${S10}", effect: "\${S11}"}
    - {name: "\${S10}"}
sessions: {require_scope: "\${S12}", max_duration: "x\${S13}"}
audit: {durability: "\${S14}", stream_max_length: "\${S15}"}
`;
    const e = errorOf(policy, env);
    expect(e.errors.length).to.be.greaterThan(15);
    const text = [e.message, ...e.errors, ...e.issues.map((i) => JSON.stringify(i)), ...e.warnings.map((w) => JSON.stringify(w))].join("\n");
    for (const value of Object.values(env)) expect(text).to.not.contain(value);
    expect(text).to.not.contain("hunter");
    // Each value is shown as written instead.
    expect(e.errors).to.include("a2a.default: invalid default '${S9}', expected one of ['allow', 'deny']");
    expect(e.errors).to.include("Unsupported config version: '${S0}' (expected '1.0')");
    expect(e.errors).to.include("approval_policies[0].condition: the condition '${COND}' is not valid once its ${…} references are replaced (their values are not shown)");
    // Values not from the environment are still shown, as the original showed them.
    expect(errorOf("a2a: {default: maybe}").errors).to.deep.equal(["a2a.default: invalid default 'maybe', expected one of ['allow', 'deny']"]);
  });

  it("interpolates only variables with an allowed prefix when given prefixes, warning about the others", () => {
    const env = { APP_NAME: "prod", AGENT_AUTH_REDIS_URL: "redis://:pw@db:6379", HOME: "/root" };
    const { config, warnings } = parseConfigWithWarnings('metadata: {name: "${APP_NAME}", description: "${AGENT_AUTH_REDIS_URL} ${HOME} ${HOME}"}', { env, envPrefixes: ["APP_"] });
    expect(config.metadata.name).to.equal("prod");
    expect(config.metadata.description).to.equal("${AGENT_AUTH_REDIS_URL} ${HOME} ${HOME}");
    expect(warnings.map((w) => w.message)).to.deep.equal([
      "${AGENT_AUTH_REDIS_URL} is left as written: only names starting with 'APP_' may be interpolated (AGENT_AUTH_ENV_PREFIXES)",
      "${HOME} is left as written: only names starting with 'APP_' may be interpolated (AGENT_AUTH_ENV_PREFIXES)",
    ]);
    // No prefixes: every variable (the default); an empty list: none.
    expect(parseConfig('metadata: {name: "${HOME}"}', { env }).metadata.name).to.equal("/root");
    expect(parseConfig('metadata: {name: "${APP_NAME}"}', { env, envPrefixes: [] }).metadata.name).to.equal("${APP_NAME}");
  });

  it("warns about unknown keys without failing", () => {
    const { warnings } = parseConfigWithWarnings("profiles: {p: {alow: [x]}}\nextra: 1", { env: {} });
    expect(warnings.map((w) => w.message)).to.deep.equal(["extra: unknown key 'extra' (ignored)", "profiles.p.alow: unknown key 'alow' (ignored)"]);
    expect(warnings[1]).to.deep.include({ line: 1 });
  });

  it("rejects YAML syntax errors, several documents, custom tags and non-mappings, with positions", () => {
    const e = errorOf("roles:\n  a: [unclosed\n");
    expect(e.errors[0]).to.match(/^YAML syntax error at line \d+, column \d+: /);
    expect(e.issues[0]?.line).to.be.a("number");
    expect(errorOf("a: 1\n---\nb: 2\n").errors[0]).to.contain("one YAML document");
    expect(errorOf("x: !!python/object:os.system ls").errors[0]).to.contain("unsupported YAML tag '!!python/object:os.system'");
    expect(errorOf("- a\n- b").errors).to.deep.equal(["Auth config file must be a YAML mapping"]);
    expect(errorOf("").errors).to.deep.equal(["Auth config file must be a YAML mapping"]);
  });

  it("stops alias bombs at the node budget", () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
    const bomb = `variables:\n  ${levels.join("\n  ")}\n`;
    // The reader counts nodes as it expands them and stops at the budget: the work is bounded by it.
    expect(errorOf(bomb).errors[0]).to.contain("expands to more than 1000000 nodes");
  });

  it("rejects recursive aliases, values nested too deep through aliases and runaway merge keys, with positions", () => {
    expect(errorOf("variables: {v: &v [1, *v]}\n").errors).to.deep.equal(["recursive alias '*v': a value cannot contain itself (line 1, column 24)"]);
    expect(errorOf("variables: &v {a: *v}\n").errors[0]).to.contain("recursive alias '*v'");
    const chain = ["x0: &a0 [1]", ...Array.from({ length: 150 }, (_, i) => `x${i + 1}: &a${i + 1} [*a${i}]`)].join("\n");
    const deep = errorOf(`unused:\n  ${chain.replaceAll("\n", "\n  ")}\nvariables: {deep: *a150}\n`);
    expect(deep.errors[0]).to.match(/^values nest more than 100 levels deep \(through aliases\) \(line \d+, column \d+\)$/);
    // A chain of 100 levels is still fine.
    const ok = ["x0: &a0 [1]", ...Array.from({ length: 97 }, (_, i) => `x${i + 1}: &a${i + 1} [*a${i}]`)].join("\n  ");
    expect(parseConfig(`unused:\n  ${ok}\nvariables: {deep: *a97}\n`, { env: {} }).variables.get("deep")).to.be.an("array");
    // Each merge copies everything merged before it: 4,000 chained merges would copy 8 million entries.
    const merges = ["m0: &m0 {k0: 0}", ...Array.from({ length: 4000 }, (_, i) => `m${i + 1}: &m${i + 1} {<<: *m${i}, k${i + 1}: ${i + 1}}`)].join("\n  ");
    expect(errorOf(`unused:\n  ${merges}\n`).errors[0]).to.match(/^merge keys \('<<'\) copy more than 1000000 entries in all/);
  });

  it("rejects a document over the size limit", () => {
    expect(() => parseConfig("a: 1", { limits: { maxBytes: 2 } })).to.throw(/4 bytes; the limit is 2/);
  });

  it("returns a deeply frozen config", () => {
    const c = parseConfig("roles: {r: {actions: [x]}}\nvariables: {v: {k: [1]}}", { env: {} });
    expect(Object.isFrozen(c)).to.equal(true);
    expect(Object.isFrozen(c.roles.get("r")!.actions)).to.equal(true);
    expect(() => (c.roles as Map<string, unknown>).set("x", {})).to.throw(TypeError);
    expect(() => (c.roles as Map<string, unknown>).delete("r")).to.throw(TypeError);
    expect(Object.isFrozen(c.variables.get("v"))).to.equal(true);
  });

  describe("loadConfig", () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), "agent-auth-config-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("names a missing file", () => {
      expect(() => loadConfig(join(dir, "nope.yaml"))).to.throw(`Auth config file not found: ${join(dir, "nope.yaml")}`);
    });

    it("loads a file (with a byte-order mark)", () => {
      const path = join(dir, "p.yaml");
      writeFileSync(path, "\ufeffversion: '1.0'\nprofiles: {a: {allow: [x]}}\n");
      expect(loadConfig(path).profiles.has("a")).to.equal(true);
    });

    it("loads the example policy", () => {
      const c = loadConfig("examples/agent_auth.yaml", { env: {} });
      expect(c.profiles.size).to.be.greaterThan(3);
    });
  });
});
