import { expect } from "chai";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { ManualClock } from "../../src/model/clock.ts";
import { isDelegationValidationError, isInvalidRequestError, isLimitExceededError } from "../../src/model/errors.ts";
import type { AuthRequest } from "../../src/model/types.ts";
import { parseConfig } from "../../src/config/index.ts";
import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import type { StateStore } from "../../src/state/store.ts";
import type { AuditEvent } from "../../src/audit/event.ts";
import type { AuditSink } from "../../src/audit/sink.ts";
import { basicConfig, BASIC_POLICY } from "../support/policies.ts";

const ask = (over: Partial<AuthRequest> = {}): AuthRequest => ({ agent: "assistant", user: "alice", action: "read", ...over });

function engineWith(options: ConstructorParameters<typeof AuthEngine>[1] = {}): { engine: AuthEngine; clock: ManualClock } {
  const clock = new ManualClock();
  return { engine: new AuthEngine(basicConfig(), { clock, audit: false, ...options }), clock };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("AuthEngine", () => {
  describe("authorize", () => {
    it("gives each decision a unique id and the policy revision", async () => {
      const { engine } = engineWith();
      const a = await engine.authorize(ask());
      const b = await engine.authorize(ask());
      expect(a.allowed).to.equal(true);
      expect(a.decisionId).to.match(/^[0-9a-f-]{36}$/);
      expect(a.decisionId).to.not.equal(b.decisionId);
      expect(a.policyRevision).to.equal(engine.revision).and.to.match(/^[0-9a-f]{16}$/);
      expect(a.evaluationTimeMs).to.be.a("number").and.to.be.at.least(0);
    });

    it("decide() answers at once when no I/O is needed, with a promise when state is read, and throws for a malformed request", async () => {
      const { engine } = engineWith();
      const now = engine.decide(ask());
      expect(now).to.not.be.instanceOf(Promise);
      expect((now as Awaited<typeof now>).allowed).to.equal(true);
      const session = await engine.createSession({ agent: "assistant", user: "alice" });
      const later = engine.decide(ask({ sessionId: session.sessionId }));
      expect(later).to.be.instanceOf(Promise);
      expect((await later).allowed).to.equal(true);
      expect(() => engine.decide(ask({ agent: "" }))).to.throw().that.satisfies(isInvalidRequestError);
      // authorize() is the same decision, always as a promise, rejecting instead of throwing.
      expect(isInvalidRequestError(await rejection(engine.authorize(ask({ agent: "" }))))).to.equal(true);
    });

    it("exposes isDenied and isAutonomous", async () => {
      const { engine } = engineWith();
      const allowed = await engine.authorize(ask());
      expect([allowed.isDenied, allowed.isAutonomous]).to.deep.equal([false, true]);
      const soft = await engine.authorize(ask({ agent: "deployer", action: "deploy" }));
      expect([soft.isDenied, soft.isAutonomous, soft.tier, soft.approvalPolicy]).to.deep.equal([false, false, "soft", "deploys"]);
      const denied = await engine.authorize(ask({ action: "delete" }));
      expect([denied.isDenied, denied.isAutonomous, denied.tier]).to.deep.equal([true, false, "autonomous"]);
    });

    const badRequests: [string, unknown, string][] = [
      ["missing agent", { user: "u", action: "a" }, "agent"],
      ["empty user", { agent: "a", user: "", action: "a" }, "user"],
      ["numeric action", { agent: "a", user: "u", action: 5 }, "action"],
      ["resource not a string", { agent: "a", user: "u", action: "x", resource: ["r"] }, "resource"],
      ["metadata not an object", { agent: "a", user: "u", action: "x", metadata: "m" }, "metadata"],
      ["metadata with a function", { agent: "a", user: "u", action: "x", metadata: { f: () => 1 } }, "metadata.f"],
      ["metadata with NaN", { agent: "a", user: "u", action: "x", metadata: { n: Number.NaN } }, "metadata.n"],
      ["oversized agent", { agent: "x".repeat(5000), user: "u", action: "a" }, "agent"],
      ["deep metadata", { agent: "a", user: "u", action: "x", metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }, "metadata.a.b.c.d.e.f.g.h"],
      ["session id not a string", { agent: "a", user: "u", action: "x", sessionId: 7 }, "session_id"],
    ];
    for (const [title, request, field] of badRequests) {
      it(`rejects a request with ${title}, naming ${field}`, async () => {
        const { engine } = engineWith();
        const error = await rejection(engine.authorize(request as AuthRequest));
        expect(isInvalidRequestError(error), String(error)).to.equal(true);
        expect((error as { field: string }).field).to.equal(field);
      });
    }

    it("keeps metadata nesting within 64 levels even when the limit is set higher, instead of overflowing the stack", async () => {
      const { engine } = engineWith({ limits: { maxMetadataDepth: 1_000_000 } });
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = { d: deep };
      const error = await rejection(engine.authorize(ask({ metadata: { x: deep } })));
      expect(isInvalidRequestError(error), String(error)).to.equal(true);
      expect((error as Error).message).to.contain("nesting exceeds the limit of 64 levels (limits.max_metadata_depth)");
    });

    it("reads metadata keys named like prototype members as data", async () => {
      const { engine } = engineWith();
      const d = await engine.authorize(ask({ metadata: JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}') as Record<string, unknown> }));
      expect(d.allowed).to.equal(true);
    });

    it("fails closed when the store is unreachable, and still answers requests that need no state", async () => {
      const memory = createMemoryStore();
      const refused = new Error("connection refused");
      const broken: StateStore = {
        kind: "broken",
        sessions: memory.sessions,
        delegations: memory.delegations,
        approvals: memory.approvals,
        resolveOutcome: () => Promise.reject(refused),
        health: () => ({ ok: false, detail: "broken: connection refused" }),
        close: () => memory.close(),
      };
      const errors: string[] = [];
      const { engine } = engineWith({
        store: broken,
        onError: (e, ctx) => {
          // The outage itself, not a fake that broke in some other way.
          expect(e).to.equal(refused);
          errors.push(ctx);
        },
      });
      const needsSession = await engine.authorize(ask({ sessionId: "abc" }));
      expect([needsSession.allowed, needsSession.reason]).to.deep.equal([false, "State store unavailable"]);
      const needsDelegation = await engine.authorize(ask({ action: "pay" }));
      expect([needsDelegation.allowed, needsDelegation.reason]).to.deep.equal([false, "State store unavailable"]);
      const pure = await engine.authorize(ask());
      expect(pure.allowed).to.equal(true);
      expect(errors).to.deep.equal(["state store", "state store"]);
    });

    it("denies when the user-permissions provider fails, unless a delegation already allows", async () => {
      const { engine } = engineWith({
        userPermissions: () => {
          throw new Error("IAM down");
        },
      });
      const d = await engine.authorize(ask({ action: "pay", metadata: { amount: 5 } }));
      expect([d.allowed, d.reason]).to.deep.equal([false, "User permissions unavailable"]);
      await engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["pay"] });
      const delegated = await engine.authorize(ask({ action: "pay", metadata: { amount: 5 } }));
      expect([delegated.allowed, delegated.reason]).to.deep.equal([true, "Delegated by user 'alice'"]);
    });

    it("accepts an async provider object", async () => {
      const { engine } = engineWith({ userPermissions: { getUserActions: async (u: string) => (u === "alice" ? ["pay"] : []) } });
      expect((await engine.authorize(ask({ agent: "ghost", action: "pay", metadata: { amount: 1 } }))).reason).to.equal("Allowed by user permissions");
      expect((await engine.authorize(ask({ agent: "ghost", user: "bob", action: "pay" }))).allowed).to.equal(false);
    });

    it("fails closed on a condition that cannot be evaluated (approval policy counts as matched)", async () => {
      const { engine } = engineWith();
      await engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["pay"] });
      const noAmount = await engine.authorize(ask({ action: "pay" }));
      expect([noAmount.tier, noAmount.approvalPolicy]).to.deep.equal(["strong", "big-payment"]);
      const small = await engine.authorize(ask({ action: "pay", metadata: { amount: 10 } }));
      expect([small.tier, small.approvalPolicy]).to.deep.equal(["autonomous", ""]);
      const text = await engine.authorize(ask({ action: "pay", metadata: { amount: "10" } }));
      expect(text.tier).to.equal("strong");
    });

    it("does not let metadata override request fields in approval conditions", async () => {
      const { engine } = engineWith();
      const d = await engine.authorize(ask({ agent: "deployer", action: "read", resource: "/prod/db", metadata: { resource: "/dev" } }));
      expect([d.tier, d.approvalPolicy]).to.deep.equal(["strong", "prod"]);
    });

    it("swaps policies atomically with setConfig and names the new revision", async () => {
      const { engine } = engineWith();
      const before = engine.revision;
      const pending = engine.authorize(ask({ action: "pay" }));
      engine.setConfig(parseConfig(BASIC_POLICY.replace("deny: [delete]", "deny: [delete, read]"), { env: {} }));
      expect(engine.revision).to.not.equal(before);
      expect((await pending).policyRevision).to.equal(before);
      const after = await engine.authorize(ask());
      expect([after.allowed, after.policyRevision]).to.deep.equal([false, engine.revision]);
    });
  });

  describe("sessions", () => {
    it("uses the profile's max_session_duration, then sessions.default_duration, clamped to max_duration", async () => {
      const { engine } = engineWith();
      const pinned = await engine.createSession({ agent: "pinned", user: "alice" });
      expect(Date.parse(pinned.expiresAt) - Date.parse(pinned.createdAt)).to.equal(120_000);
      const ghost = await engine.createSession({ agent: "ghost", user: "alice" });
      expect(Date.parse(ghost.expiresAt) - Date.parse(ghost.createdAt)).to.equal(300_000);
      const long = await engine.createSession({ agent: "pinned", user: "alice", duration: 999_999 });
      expect(Date.parse(long.expiresAt) - Date.parse(long.createdAt)).to.equal(3_600_000);
    });

    it("reports status through the lifecycle: active, revoked, then gone", async () => {
      const { engine, clock } = engineWith();
      const s = await engine.createSession({ agent: "assistant", user: "alice", scope: "project:x", duration: 100 });
      expect(s.status).to.equal("active");
      expect((await engine.authorize(ask({ sessionId: s.sessionId, scope: "project:x" }))).allowed).to.equal(true);
      const denied = await engine.authorize(ask({ sessionId: s.sessionId, scope: "project:y" }));
      expect(denied.reason).to.equal("Scope 'project:y' outside session scope 'project:x'");
      const revoked = await engine.revokeSession(s.sessionId);
      expect(revoked.status).to.equal("revoked");
      expect((await engine.getSession(s.sessionId))?.status).to.equal("revoked");
      expect((await engine.revokeSession(s.sessionId)).status).to.equal("already_revoked");
      expect((await engine.authorize(ask({ sessionId: s.sessionId }))).reason).to.equal("Invalid or expired session");
      expect(await engine.listSessions()).to.deep.equal([]);
      expect((await engine.listSessions({ includeRevoked: true })).map((x) => x.sessionId)).to.deep.equal([s.sessionId]);
      clock.advance(100);
      expect(await engine.getSession(s.sessionId)).to.equal(undefined);
      expect((await engine.revokeSession(s.sessionId)).status).to.equal("not_found");
    });

    it("with sessions.require_scope, denies a request without a scope in a scoped session, naming the session's scope", async () => {
      const config = parseConfig(BASIC_POLICY.replace("sessions: {default_duration: 300, max_duration: 3600}", "sessions: {default_duration: 300, max_duration: 3600, require_scope: true}"), { env: {} });
      expect(config.sessions.requireScope).to.equal(true);
      const engine = new AuthEngine(config, { audit: false });
      const scoped = await engine.createSession({ agent: "assistant", user: "alice", scope: "project:*" });
      const open = await engine.createSession({ agent: "assistant", user: "alice" });
      const denied = await engine.authorize(ask({ sessionId: scoped.sessionId }));
      expect([denied.allowed, denied.reason]).to.deep.equal([false, "Session scope 'project:*' requires a request scope"]);
      expect((await engine.authorize(ask({ sessionId: scoped.sessionId, scope: "project:a" }))).allowed).to.equal(true);
      expect((await engine.authorize(ask({ sessionId: open.sessionId }))).allowed).to.equal(true);
      // The explanation says the same, at the session step.
      const explained = await engine.explain(ask({ sessionId: scoped.sessionId }));
      expect(explained.decision.reason).to.equal("Session scope 'project:*' requires a request scope");
      expect(explained.steps.find((s) => s.step === "session")).to.include({ outcome: "deny" });
      // The default is the original's behaviour: the request's missing scope is not checked.
      const { engine: lenient } = engineWith();
      expect(lenient.config.sessions.requireScope).to.equal(false);
      const s = await lenient.createSession({ agent: "assistant", user: "alice", scope: "project:*" });
      expect((await lenient.authorize(ask({ sessionId: s.sessionId }))).allowed).to.equal(true);
    });

    it("rejects bad session input naming the field", async () => {
      const { engine } = engineWith();
      for (const [input, field] of [
        [{ agent: "", user: "u" }, "agent"],
        [{ agent: "a", user: 3 }, "user"],
        [{ agent: "a", user: "u", duration: 0 }, "duration"],
        [{ agent: "a", user: "u", duration: 1.5 }, "duration"],
        [{ agent: "a", user: "u", scope: {} }, "scope"],
      ] as const) {
        const error = await rejection(engine.createSession(input as never));
        expect((error as { field?: string }).field, JSON.stringify(input)).to.equal(field);
      }
    });

    it("applies the pattern limits it is given to session scopes and delegated actions", async () => {
      const { engine } = engineWith({ limits: { maxPatternLength: 12, maxPatternWildcards: 2 } });
      const long = await rejection(engine.createSession({ agent: "assistant", user: "alice", scope: "project:abcde" }));
      expect(isInvalidRequestError(long) && long.message).to.equal("scope: is a pattern 13 characters long; the limit is 12 (limits.max_pattern_length)");
      const wild = await rejection(engine.createSession({ agent: "assistant", user: "alice", scope: "p:[ab]?*" }));
      expect(isInvalidRequestError(wild) && wild.message).to.equal("scope: is a pattern with 3 wildcards (*, ?, [...]); the limit is 2 (limits.max_pattern_wildcards)");
      expect((await engine.createSession({ agent: "assistant", user: "alice", scope: "p:**x?" })).scope).to.equal("p:**x?");
      const action = await rejection(engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["write", "w???"] }));
      expect(isInvalidRequestError(action) && [action.field, action.message]).to.deep.equal([
        "actions[1]",
        "actions[1]: is a pattern with 3 wildcards (*, ?, [...]); the limit is 2 (limits.max_pattern_wildcards)",
      ]);
    });
  });

  describe("names matched against caller-chosen patterns (limits.max_name_length)", () => {
    it("refuses a request action or scope over the limit, naming the field and the limit", async () => {
      const { engine } = engineWith();
      expect(engine.limits.maxNameLength).to.equal(256);
      for (const field of ["action", "scope"] as const) {
        const error = await rejection(engine.authorize(ask({ [field]: "x".repeat(257) })));
        expect(isInvalidRequestError(error) && [error.field, error.message]).to.deep.equal([field, `${field}: is 257 characters long; the limit is 256 (limits.max_name_length)`]);
      }
      // At the limit it is decided as before; other fields keep max_string_length.
      expect((await engine.authorize(ask({ action: "x".repeat(256) }))).allowed).to.equal(false);
      expect((await engine.authorize(ask({ resource: "r".repeat(4096) }))).allowed).to.equal(true);
    });

    it("applies a configured limit to requests, session scopes and delegated actions", async () => {
      const { engine } = engineWith({ limits: { maxNameLength: 8, maxPatternLength: 100 } });
      const action = await rejection(engine.authorize(ask({ action: "list:abcd" })));
      expect(isInvalidRequestError(action) && action.message).to.equal("action: is 9 characters long; the limit is 8 (limits.max_name_length)");
      const scope = await rejection(engine.createSession({ agent: "assistant", user: "alice", scope: "project:*" }));
      expect(isInvalidRequestError(scope) && scope.message).to.equal("scope: is 9 characters long; the limit is 8 (limits.max_name_length)");
      const delegated = await rejection(engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["read", "write:abc"] }));
      expect(isInvalidRequestError(delegated) && delegated.message).to.equal("actions[1]: is 9 characters long; the limit is 8 (limits.max_name_length)");
    });
  });

  describe("delegated actions per user and agent (limits.max_delegated_patterns)", () => {
    it("refuses a delegation that would take the pair's active delegations past the limit", async () => {
      const { engine } = engineWith();
      expect(engine.limits.maxDelegatedPatterns).to.equal(16);
      const first = await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: Array.from({ length: 12 }, (_, i) => `write:${i}`) });
      const error = await rejection(engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["read", "pay", "write:a", "write:b", "write:c"] }));
      expect(isLimitExceededError(error) && [error.limit, error.message]).to.deep.equal([
        "limits.max_delegated_patterns",
        "delegations from 'alice' to 'bot' would hold 17 delegated actions; the limit is 16 (limits.max_delegated_patterns)",
      ]);
      expect((await engine.listDelegations({ agent: "bot" })).map((d) => d.delegationId)).to.deep.equal([first.delegationId]);
      // One delegation alone over the limit is refused the same way.
      const alone = await rejection(engine.createDelegation({ fromUser: "carol", toAgent: "bot", actions: Array.from({ length: 20 }, (_, i) => `write:${i}`) }));
      expect(isLimitExceededError(alone) && alone.message).to.equal("delegations from 'carol' to 'bot' would hold 20 delegated actions; the limit is 16 (limits.max_delegated_patterns)");
      // Room is made by revoking.
      await engine.revokeDelegation(first.delegationId);
      expect((await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["read", "pay", "write:a", "write:b", "write:c"] })).actions).to.have.length(5);
    });

    it("counts only the active delegations, and takes a configured limit", async () => {
      const { engine, clock } = engineWith({ limits: { maxDelegatedPatterns: 2 } });
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["read"], duration: 60 });
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["pay"], duration: 600 });
      expect(isLimitExceededError(await rejection(engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["write"] })))).to.equal(true);
      clock.advance(60);
      expect((await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["write"] })).actions).to.deep.equal(["write"]);
    });
  });

  describe("delegations", () => {
    it("validates against settings and every rule, with the original's messages", async () => {
      const { engine } = engineWith();
      const error = await rejection(engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["read", "deploy"], duration: 2000 }));
      expect(isDelegationValidationError(error)).to.equal(true);
      expect((error as Error).message).to.equal(
        "Delegation validation failed:\n  Action 'deploy' not allowed by delegation rule 'safe'\n  Duration (2000s) exceeds rule 'safe' max_duration (1800s)",
      );
      const tooLong = await rejection(engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["read"], duration: 4000 }));
      expect((tooLong as { errors: string[] }).errors[0]).to.equal("Duration (4000s) exceeds max_duration (3600s)");
    });

    it("binds a grant to its user and lists, revokes and expires it", async () => {
      const { engine, clock } = engineWith();
      const g = await engine.createDelegation({ fromUser: "alice", toAgent: "assistant", actions: ["write*"], reason: "vacation" });
      expect(g.status).to.equal("active");
      expect(Date.parse(g.expiresAt) - Date.parse(g.grantedAt)).to.equal(600_000);
      expect((await engine.authorize(ask({ action: "write:docs", scope: "project:a" }))).allowed).to.equal(true);
      expect((await engine.authorize(ask({ action: "writeup" }))).reason).to.equal("Delegated by user 'alice'");
      expect((await engine.authorize(ask({ user: "bob", action: "writeup" }))).allowed).to.equal(false);
      expect((await engine.listDelegations({ agent: "assistant" })).map((d) => d.delegationId)).to.deep.equal([g.delegationId]);
      expect(await engine.listDelegations({ user: "bob" })).to.deep.equal([]);
      expect((await engine.revokeDelegation(g.delegationId)).status).to.equal("revoked");
      expect((await engine.authorize(ask({ action: "writeup" }))).allowed).to.equal(false);
      clock.advance(600);
      expect(await engine.getDelegation(g.delegationId)).to.equal(undefined);
    });
  });

  describe("audit", () => {
    function collectingSink(mode: "async" | "sync" | "fail"): AuditSink & { events: AuditEvent[] } {
      const events: AuditEvent[] = [];
      return {
        events,
        write(e) {
          events.push(e);
          if (mode === "sync") return Promise.resolve();
          if (mode === "fail") return Promise.reject(new Error("disk full"));
          return undefined;
        },
        flush: async () => {},
        close: async () => {},
      };
    }

    it("records every decision, allowed and denied, with the request", async () => {
      const sink = collectingSink("async");
      const { engine } = engineWith({ audit: sink });
      const a = await engine.authorize(ask({ resource: "doc:1" }));
      const b = await engine.authorize(ask({ action: "delete" }));
      expect(sink.events.map((e) => e.decision)).to.deep.equal([a, b]);
      expect(sink.events[0]!.request.resource).to.equal("doc:1");
      expect(sink.events[0]!.configName).to.equal("unit-test");
    });

    it("turns an allow whose record could not be stored into a denial", async () => {
      const { engine } = engineWith({ audit: collectingSink("fail") });
      const d = await engine.authorize(ask());
      expect([d.allowed, d.reason]).to.deep.equal([false, "Audit log unavailable"]);
    });

    it("records that denial after the allow it replaced, so the last record of a decision id is the answer given", async () => {
      const seen = collectingSink("async");
      const { engine } = engineWith({ audit: [seen, collectingSink("fail")] });
      const d = await engine.authorize(ask());
      await new Promise((r) => setImmediate(r));
      expect(seen.events.map((e) => [e.decision.decisionId, e.decision.allowed, e.decision.reason])).to.deep.equal([
        [d.decisionId, true, "Allowed by profile 'assistant'"],
        [d.decisionId, false, "Audit log unavailable"],
      ]);
      expect(seen.events[1]!.decision).to.equal(d);
    });

    describe("records deferred to the end of the task", () => {
      /** A sink that says whether a record may wait (`defer`), and logs writes with what it was told. */
      function deferringSink(defer: (e: AuditEvent) => boolean, log: string[], name = "s"): AuditSink & { events: AuditEvent[] } {
        const events: AuditEvent[] = [];
        return {
          events,
          canDefer: (e) => defer(e),
          write(e) {
            events.push(e);
            log.push(`${name}:${e.request.resource}`);
          },
          flush: async () => {},
          close: async () => {},
        };
      }
      const decideNow = (engine: AuthEngine, resource: string): string => {
        const d = engine.decide(ask({ resource }));
        if (d instanceof Promise) throw new Error("expected an answer without waiting");
        return d.decisionId;
      };

      it("answers at once and writes the task's records after it, in order, each to every sink in turn", async () => {
        const log: string[] = [];
        const a = deferringSink(() => true, log, "a");
        const b = deferringSink(() => true, log, "b");
        const { engine } = engineWith({ audit: [a, b] });
        const ids = ["r1", "r2", "r3"].map((r) => decideNow(engine, r));
        log.push("end of task");
        await Promise.resolve();
        expect(log).to.deep.equal(["end of task", "a:r1", "b:r1", "a:r2", "b:r2", "a:r3", "b:r3"]);
        expect(a.events.map((e) => e.decision.decisionId)).to.deep.equal(ids);
      });

      it("has a decision's record written by the time anything awaiting the decision runs", async () => {
        const log: string[] = [];
        const sink = deferringSink(() => true, log);
        const { engine } = engineWith({ audit: sink });
        const d = await engine.authorize(ask({ resource: "r1" }));
        expect(sink.events.map((e) => e.decision)).to.deep.equal([d]);
      });

      it("writes the waiting records first when a record cannot wait, and when flushed", async () => {
        const log: string[] = [];
        const now = new Set(["r2"]);
        const sink = deferringSink((e) => !now.has(e.request.resource ?? ""), log);
        const { engine } = engineWith({ audit: sink });
        decideNow(engine, "r1");
        decideNow(engine, "r2");
        decideNow(engine, "r3");
        expect(log).to.deep.equal(["s:r1", "s:r2"]);
        await engine.flush();
        expect(log).to.deep.equal(["s:r1", "s:r2", "s:r3"]);
      });

      it("writes at once when any sink cannot say, or says no", async () => {
        const log: string[] = [];
        const plain = collectingSink("async");
        const { engine } = engineWith({ audit: [deferringSink(() => true, log), plain] });
        decideNow(engine, "r1");
        expect([log, plain.events.length]).to.deep.equal([["s:r1"], 1]);
        const log2: string[] = [];
        const { engine: other } = engineWith({ audit: [deferringSink(() => true, log2, "a"), deferringSink(() => false, log2, "b")] });
        decideNow(other, "r1");
        expect(log2).to.deep.equal(["a:r1", "b:r1"]);
      });

      it("reports a deferred write that fails instead of throwing into the event loop", async () => {
        const errors: unknown[] = [];
        const failing: AuditSink = {
          canDefer: () => true,
          write() {
            throw new Error("broken sink");
          },
          flush: async () => {},
          close: async () => {},
        };
        const engine = new AuthEngine(basicConfig(), { audit: failing, onError: (e: unknown) => errors.push(e) } as ConstructorParameters<typeof AuthEngine>[1]);
        expect((await engine.authorize(ask())).allowed).to.equal(true);
        expect(errors.map((e) => (e as Error).message)).to.deep.equal(["broken sink"]);
      });
    });
  });
});
