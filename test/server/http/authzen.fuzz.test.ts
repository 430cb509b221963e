/**
 * The AuthZEN listener under random JSON bodies: structured requests whose
 * members have random shapes and types (entities, actors, reserved context
 * names, batches, options, page tokens, long strings, deep nesting) and raw
 * texts (truncated or bit-flipped valid bodies, random text, nesting far
 * beyond any limit), sent to every endpoint.
 *
 * Invariants: every answer is 200, 400 or 413 (501 on the resource search
 * path) with a JSON body — never a 500, nothing logged as an internal error;
 * a 200 evaluation has a boolean decision, a batch as many results as items
 * (or fewer under a short-circuit semantic); an agent without a profile is
 * never allowed; afterwards the server still answers a known-good request.
 */
import { expect } from "chai";
import fc from "fast-check";
import type { AgentAuthServer } from "../../../src/server/app/start-server.ts";
import type { Logger } from "../../../src/server/logger.ts";
import { call, type HttpAnswer } from "../../support/http.ts";
import { fuzzRuns, fuzzSeed, fuzzTimeout, InputTimer } from "../../support/fuzz.ts";
import { startTestServer } from "../../support/server.ts";

const STRUCTURED_RUNS = fuzzRuns(400);
const RAW_RUNS = fuzzRuns(200);
const PATHS = ["/access/v1/evaluation", "/access/v1/evaluations", "/access/v1/search/subject", "/access/v1/search/action", "/access/v1/search/resource"] as const;
const PROFILED: ReadonlySet<string> = new Set(["assistant", "deployer", "caller"]);

// ---------------------------------------------------------------- random values

const name = fc.oneof(fc.constantFrom("assistant", "deployer", "caller", "stranger", "alice", "bob", "", "read", "write", "delete", "pay", "/prod/db", "project:web"), fc.string({ maxLength: 12 }));
const scalar = fc.oneof(name, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("value"), { maxLength: 3 }), fc.dictionary(name, tie("value"), { maxKeys: 3 })),
})).value;
/** A member that is usually well-typed and sometimes anything at all. */
const mostly = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: json });
/** A record whose keys are usually all there, and sometimes any subset. */
const usually = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T, optional: readonly (keyof T)[] = []) =>
  fc.oneof({ weight: 4, arbitrary: fc.record(model, { requiredKeys: Object.keys(model).filter((k) => !optional.includes(k)) as never }) }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });
const actor = fc.oneof(fc.record({ sub: mostly(name), sub_profile: fc.constant("ai_agent") }, { requiredKeys: [] }), json);
const properties = fc.dictionary(fc.oneof(name, fc.constantFrom("act", "user", "scope", "agent", "session_id", "target_agent", "amount")), fc.oneof(json, actor), { maxKeys: 4 });
const entity = (types: readonly string[]) => usually({ type: mostly(fc.constantFrom(...types)), id: mostly(name), properties: mostly(properties) }, ["properties"]);
const subject = fc.oneof(
  fc.record({ type: fc.constant("user"), id: name, properties: fc.record({ act: actor }) }),
  fc.record({ type: fc.constant("agent"), id: name, properties: fc.record({ user: mostly(name) }) }),
  entity(["user", "agent", "service"]),
);
const resource = entity(["document", "record"]);
const action = usually({ name: mostly(name), properties: mostly(properties) }, ["properties"]);
const context = fc.dictionary(fc.oneof(name, fc.constantFrom("agent", "user", "scope", "session_id", "target_agent", "amount", "priority")), json, { maxKeys: 5 });
const evaluation = usually({ subject: mostly(subject), action: mostly(action), resource: mostly(resource), context: mostly(context) }, ["context"]);
const page = fc.record({ token: mostly(fc.oneof(fc.string({ maxLength: 30 }), fc.constant("MS4wMDAwMDAwMDAwMDAwMDAw"))), limit: mostly(fc.integer({ min: -2, max: 2000 })) }, { requiredKeys: [] });
const batch = usually(
  {
    subject: mostly(subject),
    action: mostly(action),
    resource: mostly(resource),
    context: mostly(context),
    evaluations: mostly(fc.array(fc.oneof({ weight: 5, arbitrary: evaluation }, { weight: 1, arbitrary: json }), { maxLength: 6 })),
    options: mostly(fc.record({ evaluations_semantic: mostly(fc.constantFrom("execute_all", "deny_on_first_deny", "permit_on_first_permit", "other")) }, { requiredKeys: [] })),
    page: mostly(page),
  },
  ["resource", "context", "options", "page"],
);
/** Well-formed requests with random values: these reach the engine (decisions, limits, batches, search). */
const wellFormedEvaluation = fc.record({
  subject: fc.oneof(
    fc.record({ type: fc.constant("user"), id: name, properties: fc.record({ act: fc.record({ sub: name }) }) }),
    fc.record({ type: fc.constant("agent"), id: name, properties: fc.record({ user: name }) }),
  ),
  action: fc.record({ name, properties: fc.dictionary(name, json, { maxKeys: 2 }) }, { requiredKeys: ["name"] }),
  resource: fc.record({ type: name, id: name, properties: fc.dictionary(name, json, { maxKeys: 2 }) }, { requiredKeys: ["type", "id"] }),
  context: fc.dictionary(fc.oneof(name, fc.constantFrom("scope", "session_id", "target_agent", "amount")), fc.oneof(name, json), { maxKeys: 3 }),
});
const wellFormed = fc.oneof(
  wellFormedEvaluation,
  fc.record({ evaluations: fc.array(wellFormedEvaluation, { maxLength: 5 }), options: fc.record({ evaluations_semantic: fc.constantFrom("execute_all", "deny_on_first_deny", "permit_on_first_permit") }) }),
  wellFormedEvaluation.map((e) => ({ ...e, subject: { type: "agent", properties: e.subject.properties }, context: { ...e.context, user: "alice" }, page: { limit: 2 } })),
);
const body = fc.oneof({ weight: 4, arbitrary: wellFormed }, { weight: 3, arbitrary: evaluation }, { weight: 2, arbitrary: batch }, { weight: 1, arbitrary: json });
const longText = fc.constantFrom(4096, 4097, 70_000).map((n) => "x".repeat(n));

/** A valid body, then damaged: truncated, a byte flipped, or text spliced in. */
const damaged = fc.tuple(evaluation, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("truncate", "flip", "splice")).map(([e, at, byte, how]) => {
  const text = JSON.stringify(e);
  const i = text.length === 0 ? 0 : at % text.length;
  if (how === "truncate") return text.slice(0, i);
  if (how === "flip") return text.slice(0, i) + String.fromCharCode(byte) + text.slice(i + 1);
  return text.slice(0, i) + '"}]{,:' + text.slice(i);
});
const raw = fc.oneof(damaged, fc.string({ maxLength: 60 }), fc.constantFrom("[".repeat(100_000) + "]".repeat(100_000), `{"context":${'{"a":'.repeat(5000)}1${"}".repeat(5000)},"subject":{"type":"user","id":"u"}}`, "null", "true", "1e999", '"str"', "{}", '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'));

// ---------------------------------------------------------------- the property

describe("AuthZEN listener under random JSON (fuzz)", function () {
  this.timeout(fuzzTimeout(STRUCTURED_RUNS + RAW_RUNS, 200));
  let server: AgentAuthServer;
  let base: string;
  const internal: unknown[] = [];
  const logger: Logger = {
    info: () => {},
    warn: () => {},
    error: (msg: string, fields?: Record<string, unknown>) => {
      if (msg === "internal error") internal.push(fields);
    },
  } as unknown as Logger;

  before(async () => {
    ({ server } = await startTestServer({ http: { port: 0 }, logger, maxBatch: 5 }));
    base = server.http!.url;
  });
  after(async () => server?.close(1000));

  function check(path: string, sent: unknown, r: HttpAnswer): void {
    const allowed = path.endsWith("/resource") ? [501, 400, 413] : [200, 400, 413];
    expect(allowed, `${path} ${r.status} ${r.text.slice(0, 300)} for ${JSON.stringify(sent)?.slice(0, 300)}`).to.include(r.status);
    expect(r.json, r.text.slice(0, 200)).to.be.an("object");
    if (r.status !== 200) {
      expect(r.json.error).to.be.a("string").and.not.equal("");
      return;
    }
    const decisions: Array<{ decision: boolean; context?: Record<string, unknown> }> = path.endsWith("/evaluations") && Array.isArray(r.json.evaluations) ? r.json.evaluations : "decision" in r.json ? [r.json] : [];
    for (const d of decisions) {
      expect(d.decision).to.be.a("boolean");
      // Fail closed: only profiled agents are ever allowed (no delegations exist in this run).
      if (d.decision) expect(d.context?.["reason"]).to.match(/^Allowed by profile '(assistant|deployer|caller)'$/);
    }
    if (path.endsWith("/evaluations") && Array.isArray(r.json.evaluations)) {
      const items = (sent as { evaluations: unknown[] }).evaluations;
      const semantic = (sent as { options?: { evaluations_semantic?: string } }).options?.evaluations_semantic;
      if (semantic === undefined || semantic === "execute_all") expect(r.json.evaluations).to.have.length(items.length);
      else expect(r.json.evaluations.length).to.be.within(1, items.length);
    }
    if (path.includes("/search/subject")) for (const x of r.json.results) expect(PROFILED.has(x.id), x.id).to.equal(true);
  }

  it("answers structured random requests on every endpoint with 200/400/413, never a 500", async () => {
    const timer = new InputTimer();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), body, fc.option(longText, { nil: undefined }), async (path, b, long) => {
        // Sometimes one member is far over the string limit.
        const sent = long !== undefined && typeof b === "object" && b !== null && !Array.isArray(b) ? { ...(b as object), resource: { type: "d", id: long } } : b;
        await timer.timeAsync(async () => {
          const r = await call(base, path, { body: sent });
          timer.tally(String(r.status));
          check(path, sent, r);
        });
      }),
      { numRuns: STRUCTURED_RUNS, seed: fuzzSeed(401) },
    );
    timer.report("structured bodies");
    expect(internal).to.deep.equal([]);
  });

  it("answers raw, damaged and pathological texts with 400, never a 500", async () => {
    const timer = new InputTimer();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), raw, async (path, text) => {
        await timer.timeAsync(async () => {
          const r = await call(base, path, { raw: text, headers: { "content-type": "application/json" } });
          timer.tally(String(r.status));
          check(path, text, r);
        });
      }),
      { numRuns: RAW_RUNS, seed: fuzzSeed(402) },
    );
    timer.report("raw bodies");
    expect(internal).to.deep.equal([]);
  });

  it("still serves a known-good request afterwards", async () => {
    const r = await call(base, "/access/v1/evaluation", { body: { subject: { type: "user", id: "alice", properties: { act: { sub: "assistant" } } }, action: { name: "read" }, resource: { type: "d", id: "x" } } });
    expect(r.status).to.equal(200);
    expect(r.json.decision).to.equal(true);
  });
});
