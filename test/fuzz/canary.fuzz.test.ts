/**
 * The never-grant canary and decision invariants under random valid policies.
 *
 * 1. An agent with no profile, no delegation and no user-permission grant is
 *    never allowed — whatever the policy (roles with inheritance, glob allow and
 *    deny lists, scopes, tiers, approval and A2A rules with either default) and
 *    whatever else is in the state store: sessions and wide delegations of
 *    other agents, delegations whose (agent, user) pair differs from the
 *    intruder's only by where a NUL falls, sessions the intruder steals.
 * 2. For requests from any agent, `authorize` never rejects a well-formed
 *    request, and its decision is well formed (valid tier; a denial has tier
 *    `autonomous`, no approval and no approval policy) and equals the decision
 *    of a reference model of the pipeline written from docs/config.md.
 *
 * Complements test/engine/canary.property.test.ts, which draws policies and
 * intruder names from a fixed vocabulary.
 */
import { expect } from "chai";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { dump } from "js-yaml";
import { isConfigError, parseConfig, type AuthConfig } from "../../src/config/index.ts";
import { AuthEngine } from "../../src/embedded-engine.ts";
import type { UserPermissionsFunction } from "../../src/engine/index.ts";
import { TIER_ORDER, VALID_TIERS, type AuthDecision, type AuthRequest } from "../../src/model/index.ts";
import { fnmatch } from "../../src/policy/fnmatch.ts";
import { exprArb, literalText, printExpr, printStyle, referenceEvaluate, truthy, type Expr, type ExprVocabulary } from "./expr-gen.ts";
import { fuzzRuns, fuzzSeed, fuzzTimeout, InputTimer } from "../support/fuzz.ts";

const CANARY_POLICIES = fuzzRuns(100);
const DECISION_POLICIES = fuzzRuns(100);
const REQUESTS_PER_POLICY = 20;

// ---------------------------------------------------------------- vocabulary

const ACTIONS = ["read", "write", "delete", "deploy", "pay", "list", "pr:open", "pr:merge", "logs:read", "search:x", "*", "?", "[", "READ", "réad"];
const PATTERNS = ["*", "read", "read*", "[a-z]*", "[!a-z]*", "?ead", "pr:*", "*:*", "**", "[", "[]]", "[!]]", "\\*", "*[0-9]", "write", "deploy", "pay", "delete", "logs:*", "é*", "[é]*"];
const pattern = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PATTERNS) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom("a", "r", "e", "d", "*", "?", "[", "]", "!", "-", ":", "\\", "é"), { minLength: 1, maxLength: 6 }).map((c) => c.join("")) },
);
const SCOPE_PATTERNS = ["project:*", "repo:x", "*", "service:[a-m]*", "team:?", "[", "project:web"];
const SCOPES = ["", "project:web", "project:", "repo:x", "service:api", "service:zeta", "team:a", "*", "[", "PROJECT:web"];
const RESOURCES = ["", "/prod/db", "/prod", "/stage/x", "/docs/a.key", "service:payments", "/PROD/x", "/pröd"];
const NAME_POOL = ["reader", "writer", "a", "A", "a0", "bot", "deploy-bot", "ops_bot", "α", "日本", "x y", "*", "a*", "?", "[a]", "__proto__", "constructor", "toString", "hasOwnProperty", "1", "true", "null", "yes", "~", "-", "é", "e\u0301", "🙂"];
const name = fc
  .oneof(fc.constantFrom(...NAME_POOL), fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }))
  .filter((n) => n.trim() !== "" && n !== "<<" && n.isWellFormed());
const USERS = ["alice", "bob", "root", "*", "a\u0000b", "Alice", "ålice"];
/** The one user the "grants to others" provider grants; intruders never act for it. */
const GRANTED_USER = "granted-user";

const CONDITION_STRINGS = fc.oneof(fc.constantFrom(...ACTIONS, ...RESOURCES, ...SCOPES, "/prod", "production", "pii", "a1", "alice"), literalText);
const REGEXES = ["^/prod", "(?i)pii", "a+b*", "[0-9]{2,3}", "^$", "\\d+", "^(read|write)$", ".", "é", "^\\p{L}+$"];
const APPROVAL_FIELDS = ["agent", "user", "action", "resource", "scope", "amount", "urgent", "tags", "env", "count"];
const A2A_FIELDS = ["from_agent", "to_agent", "action", "amount", "urgent", "tags"];
const PATHS = [["order", "total"], ["a", "b", "c"]] as const;

const variableValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -5, max: 2000 }),
  fc.constantFrom("production", "staging", "", "pii", "read"),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom("alice", "read", 1, true), { maxLength: 3 }),
  fc.constant({ total: 10, x: "y" }),
);

const metadataValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -5, max: 3000 }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("x", "", "pii", "production", "read", "/prod/db"),
  literalText,
  fc.array(fc.constantFrom("pii", "x", 1, null), { maxLength: 3 }),
  fc.record({ total: fc.integer({ min: 0, max: 100 }), b: fc.record({ c: fc.constantFrom(1, "x", null) }) }),
);

/** Metadata as a plain object, with keys like `__proto__` as own properties (as a JSON parser makes them). */
const metadata = fc
  .array(fc.tuple(fc.constantFrom("amount", "urgent", "tags", "env", "count", "order", "a", "agent", "action", "resource", "__proto__", "constructor", "to_agent", "from_agent"), metadataValue), { maxLength: 5 })
  .map((pairs) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });

// ---------------------------------------------------------------- random valid policies

interface Condition {
  readonly ast: Expr | undefined;
  readonly source: string;
}

interface RandomPolicy {
  /** The document, dumped to YAML for parseConfig. */
  readonly doc: Record<string, unknown>;
  /** Conditions as trees, for the reference model (same order as in the document). */
  readonly approvalConditions: readonly Condition[];
  readonly a2aConditions: readonly Condition[];
}

const condition = (v: ExprVocabulary): fc.Arbitrary<Condition> =>
  fc.option(fc.tuple(exprArb(v, 3), printStyle), { nil: undefined, freq: 4 }).map((c) => (c === undefined ? { ast: undefined, source: "" } : { ast: c[0], source: printExpr(c[0], c[1]) }));

const unique = <T>(arb: fc.Arbitrary<T>, maxLength: number, by: (t: T) => string = String): fc.Arbitrary<T[]> => fc.uniqueArray(arb, { maxLength, selector: by });

const randomPolicy: fc.Arbitrary<RandomPolicy> = fc
  .record({
    variables: fc.uniqueArray(fc.constantFrom("limit", "env", "users", "flag", "nothing", "obj", "Limit"), { maxLength: 4 }).chain((names) =>
      fc.tuple(...names.map((n) => variableValue.map((v) => [n, v] as const))),
    ),
    roleNames: unique(name, 6),
    profileNames: unique(name, 5),
  })
  .chain(({ variables, roleNames, profileNames }) => {
    const variableNames = variables.map(([n]) => n);
    const approvalVocabulary: ExprVocabulary = { fields: APPROVAL_FIELDS, paths: PATHS, variables: variableNames, strings: CONDITION_STRINGS, regexes: REGEXES };
    const a2aVocabulary: ExprVocabulary = { fields: A2A_FIELDS, paths: PATHS, variables: variableNames, strings: CONDITION_STRINGS, regexes: REGEXES };
    const agentPattern = fc.oneof(fc.constantFrom("*", "a*", "?", "*bot", "[a-z]*"), ...(profileNames.length > 0 ? [fc.constantFrom(...profileNames)] : []), name);
    const maxSession = fc.integer({ min: 60, max: 86_400 });
    return fc.record({
      variables: fc.constant(variables),
      // Each role may extend an earlier one: chains and trees, never a cycle.
      roles: fc.tuple(...roleNames.map((_, i) => fc.record({ actions: fc.array(pattern, { maxLength: 4 }), parent: fc.option(fc.nat({ max: Math.max(0, i - 1) }), { nil: undefined }), description: fc.option(literalText, { nil: undefined }) }))),
      profiles: fc.tuple(
        ...profileNames.map(() =>
          fc.record(
            {
              role: fc.nat(),
              allow: fc.array(pattern, { maxLength: 3 }),
              deny: fc.array(pattern, { maxLength: 2 }),
              scopes: fc.array(fc.constantFrom(...SCOPE_PATTERNS), { maxLength: 2 }),
              default_tier: fc.constantFrom("autonomous", "soft", "strong"),
              max_session_duration: fc.integer({ min: 1, max: 3600 }),
            },
            { requiredKeys: ["allow", "role"] },
          ),
        ),
      ),
      approvals: fc.array(fc.record({ condition: condition(approvalVocabulary), tier: fc.constantFrom("autonomous", "soft", "strong") }), { maxLength: 5 }),
      delegation: fc.record({ enabled: fc.boolean(), rules: fc.array(fc.record({ allowed_actions: fc.array(pattern, { maxLength: 3 }), require_reason: fc.boolean() }), { maxLength: 2 }) }),
      a2aDefault: fc.constantFrom("allow", "deny"),
      a2a: fc.array(fc.record({ from: agentPattern, to: agentPattern, action: fc.oneof(fc.constant("*"), pattern), effect: fc.constantFrom("allow", "deny"), condition: condition(a2aVocabulary) }), { maxLength: 4 }),
      sessions: fc.record({ default_duration: fc.integer({ min: 1, max: 3600 }), max_duration: fc.integer({ min: 3600, max: 86_400 }) }),
      maxSession,
      roleNames: fc.constant(roleNames),
      profileNames: fc.constant(profileNames),
    });
  })
  .map((p): RandomPolicy => {
    const roles: Record<string, unknown> = {};
    p.roles.forEach((r, i) => {
      const parent = r.parent === undefined || i === 0 ? undefined : p.roleNames[r.parent % i];
      put(roles, p.roleNames[i]!, { actions: r.actions, ...(parent === undefined ? {} : { extends: parent }), ...(r.description === undefined ? {} : { description: r.description }) });
    });
    const profiles: Record<string, unknown> = {};
    p.profiles.forEach((pr, i) => {
      const { role, ...rest } = pr;
      const roleName = p.roleNames.length === 0 || role % 3 === 0 ? undefined : p.roleNames[role % p.roleNames.length];
      put(profiles, p.profileNames[i]!, { ...(roleName === undefined ? {} : { role: roleName }), ...rest });
    });
    const variables: Record<string, unknown> = {};
    for (const [k, v] of p.variables) put(variables, k, v);
    const doc = {
      version: "1.0",
      metadata: { name: "random-policy" },
      variables,
      roles,
      profiles,
      approval_policies: p.approvals.map((a, i) => ({ name: `approval-${i}`, condition: a.condition.source, tier: a.tier })),
      delegation: {
        enabled: p.delegation.enabled,
        default_duration: 600,
        max_duration: 86_400,
        rules: p.delegation.rules.map((r, i) => ({ name: `rule-${i}`, allowed_actions: r.allowed_actions, require_reason: r.require_reason, max_duration: 86_400 })),
      },
      a2a: {
        default: p.a2aDefault,
        policies: p.a2a.map((a, i) => ({ name: `a2a-${i}`, from_agent: a.from, to_agent: a.to, action: a.action, effect: a.effect, condition: a.condition.source })),
      },
      sessions: p.sessions,
      audit: { enabled: false },
    };
    return { doc, approvalConditions: p.approvals.map((a) => a.condition), a2aConditions: p.a2a.map((a) => a.condition) };
  });

function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function load(policy: RandomPolicy): AuthConfig {
  const yaml = dump(policy.doc, { noRefs: true });
  try {
    return parseConfig(yaml, { env: {} });
  } catch (error) {
    if (isConfigError(error)) throw new Error(`the generator made an invalid policy: ${error.errors.join("; ")}\n${yaml}`);
    throw error;
  }
}

// ---------------------------------------------------------------- intruders

/** Names close to the profile names (and glob-looking ones) that are not profile names themselves. */
function intruderCandidates(profiles: readonly string[]): string[] {
  const out = ["intruder", "*", "?", "[a-z]*", "__proto__", "constructor", "toString", "a\u0000", "\u0000"];
  for (const p of profiles) {
    out.push(p.toUpperCase(), p.toLowerCase(), ` ${p}`, `${p} `, `${p}\u0000`, `${p}\u0000x`, `${p}\u200b`, p.normalize("NFC"), p.normalize("NFD"), p.slice(0, -1), `${p}*`, `${p}?`, `[${p}]`, `${p}${p}`);
  }
  const keys = new Set(profiles);
  return [...new Set(out)].filter((n) => n !== "" && !keys.has(n) && n.isWellFormed() && n.length <= 4096);
}

// ---------------------------------------------------------------- reference model

function roleActions(config: AuthConfig, role: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let r = config.roles.get(role); r !== undefined && !seen.has(r.name); r = config.roles.get(r.extends)) {
    seen.add(r.name);
    out.push(...r.actions);
  }
  return out;
}

function conditionHolds(c: Condition, field: (name: string) => unknown, variables: ReadonlyMap<string, unknown>, onError: boolean): boolean {
  if (c.ast === undefined) return true;
  try {
    return truthy(referenceEvaluate(c.ast, field, variables));
  } catch {
    return onError;
  }
}

interface Expected {
  readonly allowed: boolean;
  readonly tier: string;
  readonly approvalPolicy: string;
}

/** The decision docs/config.md describes, for a request with no session state, delegation or provider. */
function expectedDecision(config: AuthConfig, policy: RandomPolicy, r: Required<Pick<AuthRequest, "agent" | "user" | "action">> & { resource: string; scope: string; targetAgent: string; sessionId: string; metadata: Record<string, unknown> }): Expected {
  const deny: Expected = { allowed: false, tier: "autonomous", approvalPolicy: "" };
  if (r.sessionId !== "") return deny; // no session exists in this property
  const profile = config.profiles.get(r.agent);
  if (profile === undefined) return deny;
  if (profile.deny.some((p) => fnmatch(r.action, p))) return deny;
  if (r.scope !== "" && profile.scopes.length > 0 && !profile.scopes.some((p) => fnmatch(r.scope, p))) return deny;
  const allow = [...roleActions(config, profile.role), ...profile.allow];
  if (!allow.some((p) => fnmatch(r.action, p))) return deny;
  const meta = (name: string): unknown => (Object.hasOwn(r.metadata, name) ? (r.metadata[name] ?? null) : null);
  if (r.targetAgent !== "") {
    const a2aField = (name: string): unknown => (name === "from_agent" ? r.agent : name === "to_agent" ? r.targetAgent : name === "action" ? r.action : meta(name));
    let allowMatched = false;
    let denied = false;
    config.a2a.policies.forEach((p, i) => {
      if (denied || !fnmatch(r.agent, p.fromAgent) || !fnmatch(r.targetAgent, p.toAgent) || !fnmatch(r.action, p.action)) return;
      const isDeny = p.effect === "deny";
      if (!conditionHolds(policy.a2aConditions[i]!, a2aField, config.variables, isDeny)) return;
      if (isDeny) denied = true;
      else allowMatched = true;
    });
    if (denied || !(allowMatched || config.a2a.default === "allow")) return deny;
  }
  const own: Record<string, string> = { agent: r.agent, user: r.user, action: r.action, resource: r.resource, scope: r.scope };
  const approvalField = (name: string): unknown => (Object.hasOwn(own, name) ? own[name] : meta(name));
  const rank = (tier: string): number => TIER_ORDER[tier as keyof typeof TIER_ORDER];
  const matched = config.approvalPolicies.filter((p, i) => conditionHolds(policy.approvalConditions[i]!, approvalField, config.variables, true));
  const final = Math.max(rank(profile.defaultTier), ...matched.map((p) => rank(p.tier)));
  const tier = (["autonomous", "soft", "strong"] as const)[final]!;
  return { allowed: true, tier, approvalPolicy: final === 0 ? "" : (matched.find((p) => rank(p.tier) === final)?.name ?? "") };
}

/** Invariants every decision satisfies, whatever the request. */
function checkWellFormed(d: AuthDecision, engine: AuthEngine, config: AuthConfig): void {
  expect(VALID_TIERS.has(d.tier), `tier ${d.tier}`).to.equal(true);
  expect(d.reason).to.be.a("string").and.not.equal("");
  expect(d.policyRevision).to.equal(engine.revision);
  if (!d.allowed) {
    // A denial carries tier autonomous, no approval and no approval policy (src/engine/types.ts).
    expect([d.tier, d.requiresApproval, d.approvalPolicy], `denial ${d.reason}`).to.deep.equal(["autonomous", false, ""]);
  } else {
    expect(d.requiresApproval).to.equal(d.tier !== "autonomous");
    if (d.approvalPolicy !== "") {
      const named = config.approvalPolicies.find((p) => p.name === d.approvalPolicy);
      expect(named?.tier, `approval policy ${d.approvalPolicy}`).to.equal(d.tier);
    }
  }
}

// ---------------------------------------------------------------- tests

describe("decisions under random valid policies (fuzz)", function () {
  this.timeout(fuzzTimeout(Math.max(CANARY_POLICIES, DECISION_POLICIES), 100));

  it(`never-grant canary: an agent with no profile, no delegation and no provider grant is never allowed (${CANARY_POLICIES} policies × ${REQUESTS_PER_POLICY} requests)`, async () => {
    const timer = new InputTimer();
    const providers: ReadonlyArray<readonly [string, UserPermissionsFunction | undefined]> = [
      ["none", undefined],
      ["empty", () => []],
      ["throws", () => {
        throw new Error("directory down");
      }],
      ["grants-others", (user) => (user === GRANTED_USER ? new Set([...ACTIONS, "*"]) : [])],
      ["grants-others-async", async (user) => (user === GRANTED_USER ? [...ACTIONS] : [])],
    ];
    try {
      await fc.assert(
        fc.asyncProperty(
          randomPolicy,
          fc.nat({ max: providers.length - 1 }),
          fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
          fc.array(
            fc.record({
              intruder: fc.nat(),
              user: fc.oneof(fc.constantFrom(...USERS), fc.string({ unit: "grapheme", minLength: 1, maxLength: 5 })),
              action: fc.oneof(fc.constantFrom(...ACTIONS, ...PATTERNS), fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 })),
              resource: fc.oneof(fc.constantFrom(...RESOURCES), fc.string({ maxLength: 8 })),
              scope: fc.oneof(fc.constantFrom(...SCOPES), fc.string({ maxLength: 8 })),
              target: fc.oneof(fc.constant(0), fc.nat({ max: 5 })),
              session: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 1) }, { weight: 2, arbitrary: fc.nat({ max: 7 }) }),
              metadata,
            }),
            { minLength: REQUESTS_PER_POLICY, maxLength: REQUESTS_PER_POLICY },
          ),
          async (policy, providerIndex, collisions, requests) => {
            const config = load(policy);
            const [providerName, provider] = providers[providerIndex]!;
            const engine = new AuthEngine(config, { audit: false, ...(provider === undefined ? {} : { userPermissions: provider }) });
            const profiles = [...config.profiles.keys()];
            const intruders = intruderCandidates(profiles);
            timer.tally(`provider:${providerName}`);

            // State that belongs to others: sessions of profiled agents, wide delegations to them and to look-alike names.
            const now = Date.now();
            const others = [...profiles, ...intruders.map((i) => i.toUpperCase()).filter((n) => !intruders.includes(n))];
            const foreignSessions: string[] = [];
            for (const agent of others.slice(0, 4)) {
              if (agent === "" || !agent.isWellFormed()) continue;
              foreignSessions.push((await engine.createSession({ agent, user: USERS[0]! })).sessionId);
              for (const user of USERS) {
                await engine.store.delegations.create({ id: randomUUID(), fromUser: user, toAgent: agent, actions: ["*", ...ACTIONS], createdAt: now, expiresAt: now + 3_600_000, reason: "fuzz" });
              }
            }
            // Delegations whose store key (`agent NUL user`) equals an intruder's while agent and user differ.
            for (const [i, u] of collisions) {
              const intruder = intruders[i % intruders.length]!;
              const user = USERS[u % USERS.length]!;
              const key = `${intruder}\u0000${user}`;
              for (let cut = key.indexOf("\u0000"); cut >= 0; cut = key.indexOf("\u0000", cut + 1)) {
                const toAgent = key.slice(0, cut);
                const fromUser = key.slice(cut + 1);
                if (toAgent === intruder || toAgent === "" || fromUser === "") continue;
                await engine.store.delegations.create({ id: randomUUID(), fromUser, toAgent, actions: ["*"], createdAt: now, expiresAt: now + 3_600_000, reason: "collision" });
              }
            }

            for (const r of requests) {
              const agent = intruders[r.intruder % intruders.length]!;
              if (r.user === GRANTED_USER) continue;
              // The intruder's own sessions (a session grants nothing) and sessions stolen from others.
              const own = await engine.createSession({ agent, user: r.user, scope: r.scope });
              const revoked = await engine.createSession({ agent, user: r.user });
              await engine.revokeSession(revoked.sessionId);
              const sessionId = [null, "", "no-such-session", own.sessionId, revoked.sessionId, foreignSessions[0] ?? null, foreignSessions[1] ?? null, randomUUID()][r.session]!;
              const targetAgent = [null, "", agent, profiles[0] ?? "helper", intruders[(r.intruder + 1) % intruders.length]!, "*"][r.target]!;
              const request: AuthRequest = { agent, user: r.user, action: r.action, resource: r.resource, scope: r.scope, sessionId, targetAgent, metadata: r.metadata };
              let d: AuthDecision | undefined;
              await timer.timeAsync(async () => {
                d = await engine.authorize(request);
              });
              expect(d!.allowed, `${JSON.stringify(agent)} (no profile) was allowed: ${d!.reason}\nrequest: ${JSON.stringify(request)}\npolicy:\n${dump(policy.doc)}`).to.equal(false);
              checkWellFormed(d!, engine, config);
              timer.tally(denialKind(d!.reason));
            }
            await engine.close();
          },
        ),
        { numRuns: CANARY_POLICIES, seed: fuzzSeed(11) },
      );
    } finally {
      timer.report(`never-grant canary (${CANARY_POLICIES} policies)`, "decisions");
    }
    expect(timer.count).to.be.greaterThan(CANARY_POLICIES * REQUESTS_PER_POLICY * 0.9);
  });

  it(`decisions from any agent are well formed and match the reference model (${DECISION_POLICIES} policies × ${REQUESTS_PER_POLICY} requests)`, async () => {
    const timer = new InputTimer();
    try {
      await fc.assert(
        fc.asyncProperty(
          randomPolicy,
          fc.array(
            fc.record({
              agent: fc.nat(),
              fromProfile: fc.nat({ max: 4 }),
              user: fc.constantFrom(...USERS),
              action: fc.oneof(fc.nat(), fc.constantFrom(...ACTIONS, ...PATTERNS), fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 })),
              resource: fc.oneof(fc.constantFrom(...RESOURCES), fc.string({ maxLength: 8 })),
              scope: fc.oneof(fc.constant(""), fc.constantFrom(...SCOPES), fc.string({ maxLength: 8 })),
              target: fc.oneof(fc.constant(0), fc.nat({ max: 4 })),
              session: fc.constantFrom(null, "", "", "", "", "", "unknown-session"),
              metadata,
            }),
            { minLength: REQUESTS_PER_POLICY, maxLength: REQUESTS_PER_POLICY },
          ),
          async (policy, requests) => {
            const config = load(policy);
            const engine = new AuthEngine(config, { audit: false });
            const profiles = [...config.profiles.keys()];
            const intruders = intruderCandidates(profiles);
            for (const r of requests) {
              // Mostly profiled agents: they are the ones with something to get right.
              const agent = r.fromProfile > 0 && profiles.length > 0 ? profiles[r.agent % profiles.length]! : intruders[r.agent % intruders.length]!;
              const targetAgent = ["", "", profiles[(r.agent + 1) % Math.max(1, profiles.length)] ?? "helper", "helper", agent][r.target]!;
              // A number picks one of the agent's own patterns as the action (a literal name for most of them).
              const own = config.profiles.get(agent);
              const ownPatterns = own === undefined ? [] : [...own.allow, ...roleActions(config, own.role), ...own.deny];
              const action = typeof r.action === "number" ? (ownPatterns.length > 0 ? ownPatterns[r.action % ownPatterns.length]! : "read") : r.action;
              const request = { agent, user: r.user, action, resource: r.resource, scope: r.scope, targetAgent, sessionId: r.session ?? "", metadata: r.metadata };
              let d: AuthDecision | undefined;
              await timer.timeAsync(async () => {
                d = await engine.authorize({ ...request, sessionId: r.session, targetAgent: targetAgent === "" ? null : targetAgent });
              });
              checkWellFormed(d!, engine, config);
              const expected = expectedDecision(config, policy, request);
              expect(
                { allowed: d!.allowed, tier: d!.tier, approvalPolicy: d!.approvalPolicy },
                `decision differs from the reference model (reason: ${d!.reason})\nrequest: ${JSON.stringify(request)}\npolicy:\n${dump(policy.doc)}`,
              ).to.deep.equal(expected);
              timer.tally(d!.allowed ? `allow:${d!.tier}` : denialKind(d!.reason));
            }
            await engine.close();
          },
        ),
        { numRuns: DECISION_POLICIES, seed: fuzzSeed(12) },
      );
    } finally {
      timer.report(`decisions from any agent (${DECISION_POLICIES} policies)`, "decisions");
    }
    // The model is only tested where it allows: make sure it does, at every tier.
    for (const tier of ["autonomous", "soft", "strong"]) expect(timer.counters.get(`allow:${tier}`) ?? 0, `allowed at ${tier}`).to.be.greaterThan(0);
  });

  it("the random policy generator makes only valid policies (a generator of invalid ones would make the canary vacuous)", () => {
    let profiles = 0;
    for (const policy of fc.sample(randomPolicy, { numRuns: 100, seed: fuzzSeed(13) })) profiles += load(policy).profiles.size;
    expect(profiles).to.be.greaterThan(100);
  });
});

function denialKind(reason: string): string {
  if (reason.startsWith("Denied by A2A") || reason.includes("default A2A")) return "deny:a2a";
  if (/session/i.test(reason)) return "deny:session";
  if (reason.includes("User permissions") || reason.includes("unavailable")) return "deny:provider-unavailable";
  if (reason.includes("not authorized")) return "deny:not-authorized";
  if (reason.includes("denied by profile")) return "deny:profile";
  if (reason.includes("not allowed by profile")) return "deny:scope";
  return `deny:other`;
}
