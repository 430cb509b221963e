import { expect } from "chai";
import fc from "fast-check";
import { dump } from "js-yaml";
import { isConfigError, parseConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { isInvalidRequestError, VALID_TIERS } from "../../src/model/index.ts";
import { fuzzRuns, fuzzSeedOr } from "../support/fuzz.ts";

const RUNS = fuzzRuns(150);
const SEED = fuzzSeedOr(20261123);

const ACTIONS = ["read", "write", "delete", "deploy", "pay", "pr:open", "pr:merge", "logs:read"];
const PATTERNS = [...ACTIONS, "*", "r*", "pr:*", "?ead", "[a-d]*", "[!r]*", "logs:*", "*:*", "**", "[", "\\*"];
const AGENTS = ["a0", "a1", "a2", "a3"];
const CONDITIONS = [
  'action == "deploy"', 'resource starts_with "/prod"', "amount > $limit", 'action in ["pay", "delete"]', "not (scope == \"\")",
  'resource matches "^/(prod|stage)/"', 'agent == "a1" or user == "root"', "amount < 10 and amount >= 0", "urgent", 'tags contains "pii"',
  'resource ends_with ".key"', "missing.field > 3", '$env == "production"',
];

/** A random valid policy over a small vocabulary, as a plain object (dumped to YAML). */
const policy = fc
  .record({
    roles: fc.array(fc.record({ actions: fc.subarray(PATTERNS, { maxLength: 4 }), extendsPrevious: fc.boolean() }), { maxLength: 4 }),
    profiles: fc.array(
      fc.record({
        role: fc.option(fc.nat({ max: 3 }), { nil: undefined }),
        allow: fc.subarray(PATTERNS, { maxLength: 3 }),
        deny: fc.subarray(PATTERNS, { maxLength: 2 }),
        scopes: fc.subarray(["project:*", "repo:x", "*", "service:[a-m]*"], { maxLength: 2 }),
        tier: fc.constantFrom("autonomous", "soft", "strong"),
      }),
      { minLength: 1, maxLength: AGENTS.length },
    ),
    approvals: fc.array(fc.record({ condition: fc.constantFrom(...CONDITIONS), tier: fc.constantFrom("soft", "strong") }), { maxLength: 4 }),
    rules: fc.array(fc.record({ actions: fc.subarray(PATTERNS, { minLength: 1, maxLength: 3 }) }), { maxLength: 2 }),
    a2aDefault: fc.constantFrom("allow", "deny"),
    a2a: fc.array(
      fc.record({ from: fc.constantFrom(...AGENTS, "*", "a*", "x*"), to: fc.constantFrom(...AGENTS, "*", "a?"), action: fc.constantFrom("*", ...ACTIONS), effect: fc.constantFrom("allow", "deny"), condition: fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined }) }),
      { maxLength: 3 },
    ),
  })
  .map((p) => {
    const roles: Record<string, unknown> = {};
    p.roles.forEach((r, i) => (roles[`r${i}`] = { actions: r.actions, ...(r.extendsPrevious && i > 0 ? { extends: `r${i - 1}` } : {}) }));
    const profiles: Record<string, unknown> = {};
    p.profiles.forEach((pr, i) => {
      const role = pr.role !== undefined && p.roles.length > 0 ? `r${pr.role % p.roles.length}` : undefined;
      profiles[AGENTS[i]!] = { ...(role === undefined ? {} : { role }), allow: pr.allow, deny: pr.deny, scopes: pr.scopes, default_tier: pr.tier };
    });
    return {
      version: "1.0",
      metadata: { name: "random" },
      variables: { limit: 100, env: "production" },
      roles,
      profiles,
      approval_policies: p.approvals.map((a, i) => ({ name: `ap${i}`, condition: a.condition, tier: a.tier })),
      delegation: { default_duration: 600, rules: p.rules.map((r, i) => ({ name: `rule${i}`, allowed_actions: r.actions, max_duration: 3600 })) },
      a2a: { default: p.a2aDefault, policies: p.a2a.map((a, i) => ({ name: `a2a${i}`, from_agent: a.from, to_agent: a.to, action: a.action, effect: a.effect, ...(a.condition === undefined ? {} : { condition: a.condition }) })) },
      audit: { enabled: false },
    };
  });

const metadata = fc.dictionary(
  fc.constantFrom("amount", "urgent", "tags", "missing", "scope", "agent", "__proto__", "constructor"),
  fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.boolean(), fc.constantFrom("x", "", "pii"), fc.array(fc.constantFrom("pii", "x"), { maxLength: 2 }), fc.constant(null)),
  { maxKeys: 4 },
);

const request = (agent: fc.Arbitrary<string>) =>
  fc.record({
    agent,
    user: fc.constantFrom("alice", "root", "bob"),
    action: fc.oneof(fc.constantFrom(...ACTIONS), fc.string({ minLength: 1, maxLength: 6 })),
    resource: fc.constantFrom("", "/prod/db", "/stage/x", "/docs/a.key", "service:payments"),
    scope: fc.constantFrom("", "project:web", "repo:x", "service:api", "*"),
    targetAgent: fc.option(fc.constantFrom(...AGENTS, "ghost"), { nil: null }),
    sessionId: fc.option(fc.constantFrom("s-unknown", ""), { nil: null }),
    metadata,
  });

describe("decisions under random policies (property)", function () {
  this.timeout(120_000);

  it(`never-grant canary: an agent with no profile, no delegation and no provider grant is never allowed (${RUNS} policies × 20 requests)`, async () => {
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(policy, fc.array(request(fc.constantFrom("intruder", "A0", "a0 ", "a", "*", "a*", "x-agent")), { minLength: 20, maxLength: 20 }), async (doc, requests) => {
        const engine = new AuthEngine(parseConfig(dump(doc), { env: {} }), { audit: false });
        for (const r of requests) {
          const d = await engine.authorize(r);
          decided++;
          expect(d.allowed, `${r.agent} was allowed: ${d.reason}\n${dump(doc)}`).to.equal(false);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`      ${decided} decisions for agents without a profile: none allowed`);
  });

  it(`every well-formed request gets a well-formed decision, from any agent (${RUNS} policies × 20 requests)`, async () => {
    let allowed = 0;
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(policy, fc.array(request(fc.constantFrom(...AGENTS, "intruder")), { minLength: 20, maxLength: 20 }), async (doc, requests) => {
        const engine = new AuthEngine(parseConfig(dump(doc), { env: {} }), { audit: false });
        for (const r of requests) {
          const d = await engine.authorize(r);
          decided++;
          expect(VALID_TIERS.has(d.tier)).to.equal(true);
          expect(d.reason).to.be.a("string").and.not.equal("");
          expect(d.policyRevision).to.match(/^[0-9a-f]{16}$/);
          if (d.requiresApproval) expect(d.allowed).to.equal(true);
          if (d.allowed) {
            allowed++;
            // An allow needs a profile: the canary above, from the other side.
            expect(AGENTS.slice(0, Object.keys(doc.profiles).length)).to.include(r.agent);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
    console.log(`      ${decided} decisions, ${allowed} allowed`);
    expect(allowed).to.be.greaterThan(0);
  });

  it("malformed requests are typed errors, never decisions", async () => {
    const engine = new AuthEngine(parseConfig("profiles: {a0: {allow: ['*']}}\naudit: {enabled: false}\n", { env: {} }), { audit: false });
    await fc.assert(
      fc.asyncProperty(
        fc.record({ agent: fc.anything(), user: fc.anything(), action: fc.anything(), metadata: fc.anything() }, { requiredKeys: [] }),
        async (r) => {
          try {
            const d = await engine.authorize(r as never);
            // Accepted only when it really is well formed.
            expect(typeof (r as { agent: unknown }).agent).to.equal("string");
            expect(d.allowed === true || d.allowed === false).to.equal(true);
          } catch (error) {
            if (!isInvalidRequestError(error)) throw error;
          }
        },
      ),
      { numRuns: RUNS * 2, seed: SEED + 2 },
    );
  });
});

// Makes sure the generator really produces loadable policies (a generator producing only errors would make the canary vacuous).
describe("the random policy generator", () => {
  it("produces policies that load", () => {
    const samples = fc.sample(policy, { numRuns: 50, seed: SEED });
    for (const doc of samples) {
      try {
        parseConfig(dump(doc), { env: {} });
      } catch (error) {
        if (isConfigError(error)) expect.fail(`generated an invalid policy: ${error.errors.join("; ")}\n${dump(doc)}`);
        throw error;
      }
    }
  });
});
