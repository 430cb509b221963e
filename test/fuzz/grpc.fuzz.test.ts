/**
 * A running server under random gRPC traffic.
 *
 * Invariants: every call ends OK or with a proper status (INVALID_ARGUMENT,
 * NOT_FOUND, FAILED_PRECONDITION, RESOURCE_EXHAUSTED) — never INTERNAL or
 * UNKNOWN, and nothing reaches the server log as an internal error; an agent
 * without a profile (and without a delegation created during the run) is never
 * allowed, on typed calls as on raw bodies; a denial on the wire has tier autonomous,
 * no approval and no approval policy; afterwards the server still answers
 * health checks and a known-good Authorize.
 *
 * Covered: every unary method, strings up to 1 MiB, out-of-range durations
 * and page sizes, reuse of real session and delegation ids, Query time
 * ranges, and raw bodies — random bytes, structured protobuf (random fields
 * and wire types, lying lengths, overlong varints, groups, deeply nested
 * Structs) and bit-flipped valid messages — sent to every method.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { AuthorizeRequestSchema, AuthorizeResponseSchema, AuthorizeBatchResponseSchema } from "../../gen/agentauth/v1/authorization_pb.ts";
import { Effect, Tier, type Decision } from "../../gen/agentauth/v1/decision_pb.ts";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import type { Logger } from "../../src/server/logger.ts";
import { isClientError, type AgentAuthClient } from "../../src/client/index.ts";
import { healthClient } from "../support/health.ts";
import { startTestServer } from "../support/server.ts";
import { fuzzRuns, fuzzSeed, fuzzTimeout, InputTimer } from "../support/fuzz.ts";

const MESSAGE_RUNS = fuzzRuns(150);
const RAW_RUNS = fuzzRuns(400);

/** Statuses a call may end with; INTERNAL or UNKNOWN would be a bug (docs/api.md). */
const ACCEPTABLE: ReadonlySet<number> = new Set([status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION, status.RESOURCE_EXHAUSTED]);
/** The profiles of test/support/server.ts's SERVER_POLICY. */
const PROFILED: ReadonlySet<string> = new Set(["assistant", "deployer", "caller"]);
const MIB = 1 << 20;

const UNARY_PATHS = [
  "/agentauth.v1.AuthorizationService/Authorize",
  "/agentauth.v1.AuthorizationService/AuthorizeBatch",
  "/agentauth.v1.SessionService/CreateSession",
  "/agentauth.v1.SessionService/GetSession",
  "/agentauth.v1.SessionService/ListSessions",
  "/agentauth.v1.SessionService/RevokeSession",
  "/agentauth.v1.DelegationService/CreateDelegation",
  "/agentauth.v1.DelegationService/ListDelegations",
  "/agentauth.v1.DelegationService/RevokeDelegation",
  "/agentauth.v1.AuditService/Query",
  "/agentauth.v1.PolicyService/ValidatePolicy",
  "/agentauth.v1.PolicyService/DescribePolicy",
  "/agentauth.v1.PolicyService/ReloadPolicy",
] as const;

/** What the server sees of a string: UTF-8 on the wire turns lone surrogates into U+FFFD. */
const onWire = (s: string): string => Buffer.from(s, "utf8").toString("utf8");

// ---------------------------------------------------------------- random values

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom("", "assistant", "deployer", "caller", "helper", "intruder", "Assistant", "assistant ", "assistant\u0000", "read", "write", "deploy", "pay", "*", "/prod/x", "project:a", "\u0000", "a\u0000b", "🙂", "\uD800", "\uFEFF", "x".repeat(4096), "x".repeat(4097)) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const deepJson = (depth: number, asList: boolean): Json => {
  let v: Json = "bottom";
  for (let i = 0; i < depth; i++) v = asList ? [v] : { d: v };
  return v;
};

/** Request metadata (a google.protobuf.Struct): random keys, JSON values, sometimes too deep or too many entries. */
const metadata: fc.Arbitrary<{ [key: string]: Json }> = fc.oneof(
  { weight: 12, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom("amount", "urgent", "tags", "__proto__", "constructor", "", "a.b", "🙂", "\u0000"), fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>, { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 60 }), fc.boolean()).map(([d, l]) => ({ deep: deepJson(d, l) })) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))) },
);

const duration = fc.option(fc.oneof(fc.bigInt({ min: -5n, max: 100_000n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { nil: undefined });
const pageSize = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 1000 }) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 1002 }) }, { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) });
const pageToken = fc.oneof(
  { weight: 4, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: fc.nat({ max: 2000 }).map((n) => Buffer.from(`o${n}`).toString("base64url")) },
  { weight: 1, arbitrary: fc.constantFrom("1732291200123-0", "0-0", "99999999999999-0") },
  { weight: 1, arbitrary: text },
);
const timestamp = fc.option(fc.record({ seconds: fc.oneof(fc.bigInt({ min: 0n, max: 4_000_000_000n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), nanos: fc.oneof(fc.nat({ max: 999_999_999 }), fc.integer()) }), { nil: undefined });
const enumValue = (valid: number) => fc.oneof({ weight: 5, arbitrary: fc.nat({ max: valid }) }, { weight: 1, arbitrary: fc.integer() });

/** One string field may be huge: 4 KiB boundaries, 64 KiB or 1 MiB. */
const oversize = fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 7 }), fc.constantFrom(4096, 4097, 65_536, MIB)) });

/** Required fields: mostly well formed, so that most requests reach a decision. */
const name = fc.oneof({ weight: 5, arbitrary: text.filter((t) => t !== "" && t.length <= 4096) }, { weight: 1, arbitrary: text });

const smallAuthorizeRequest = fc.record({
  agent: name,
  user: name,
  action: name,
  resource: text,
  scope: text,
  targetAgent: fc.oneof(fc.constant(""), text),
  sessionId: fc.oneof(fc.constant(""), fc.nat(), text),
  metadata: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>, { maxKeys: 4 }),
});

const authorizeRequest = fc
  .record({ agent: name, user: name, action: name, resource: text, scope: text, targetAgent: fc.oneof(fc.constant(""), text), sessionId: fc.oneof(fc.constant(""), fc.nat(), text), metadata, oversize })
  .map(({ oversize: big, ...r }): AuthorizeShape => {
    if (big === undefined) return r;
    const field = (["agent", "user", "action", "resource", "scope", "targetAgent", "sessionId", "metadata"] as const)[big[0]]!;
    return field === "metadata" ? { ...r, metadata: { ["k".repeat(big[1])]: "v" } } : { ...r, [field]: "y".repeat(big[1]) };
  });

/** A generated Authorize request; a number as session id picks a session created earlier in the run. */
interface AuthorizeShape {
  readonly agent: string;
  readonly user: string;
  readonly action: string;
  readonly resource: string;
  readonly scope: string;
  readonly targetAgent: string;
  readonly sessionId: string | number;
  readonly metadata: { [key: string]: Json };
}

const call = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("authorize" as const), request: authorizeRequest }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("authorizeBatch" as const), requests: fc.oneof({ weight: 9, arbitrary: fc.array(authorizeRequest, { maxLength: 4 }) as fc.Arbitrary<AuthorizeShape[]> }, { weight: 1, arbitrary: smallAuthorizeRequest.map((r): AuthorizeShape[] => Array<AuthorizeShape>(1001).fill(r)) }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("createSession" as const), agent: text, user: text, scope: text, durationSeconds: duration }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("getSession" as const, "revokeSession" as const), sessionId: fc.oneof(text, fc.nat()) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("listSessions" as const), agent: text, user: text, includeRevoked: fc.boolean(), pageSize, pageToken }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("createDelegation" as const), fromUser: text, toAgent: text, actions: fc.array(text, { maxLength: 4 }), durationSeconds: duration, reason: text }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("listDelegations" as const), agent: text, user: text, includeRevoked: fc.boolean(), pageSize, pageToken }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("revokeDelegation" as const), delegationId: fc.oneof(text, fc.nat()) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("query" as const),
      filter: fc.option(fc.record({ agents: fc.array(text, { maxLength: 2 }), users: fc.array(text, { maxLength: 2 }), actions: fc.array(text, { maxLength: 2 }), effect: enumValue(2), tiers: fc.array(enumValue(3), { maxLength: 3 }) }), { nil: undefined }),
      since: timestamp,
      until: timestamp,
      pageSize,
      pageToken,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("describePolicy" as const, "reloadPolicy" as const) }) },
);
type Call = typeof call extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------- protobuf wire fuzz

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

/** Random protobuf wire data: fields 1–10 (and a few huge numbers) of every wire type, nested, with honest or lying lengths. */
const wireMessage: fc.Arbitrary<number[]> = fc.letrec<{ msg: number[]; field: number[] }>((tie) => ({
  msg: fc.array(tie("field"), { maxLength: 6 }).map((fields) => fields.flat()),
  field: fc.oneof(
    { depthSize: "small", maxDepth: 6 },
    fc.tuple(fc.integer({ min: 1, max: 10 }), fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }))).map(([f, v]) => [...varint(BigInt(f << 3)), ...varint(v)]),
    fc.tuple(fc.integer({ min: 1, max: 10 }), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([f, b]) => [...varint(BigInt((f << 3) | 1)), ...b]),
    fc.tuple(fc.integer({ min: 1, max: 10 }), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([f, b]) => [...varint(BigInt((f << 3) | 5)), ...b]),
    fc
      .tuple(fc.integer({ min: 1, max: 10 }), fc.oneof(tie("msg"), fc.uint8Array({ maxLength: 20 }).map((b) => [...b]), fc.string({ unit: "binary", maxLength: 12 }).map((s) => [...Buffer.from(s)])), fc.constantFrom(0, 0, 0, 0, 1, -1, 1000, 2 ** 31))
      .map(([f, body, lie]) => [...varint(BigInt((f << 3) | 2)), ...varint(BigInt(Math.max(0, body.length + lie))), ...body]),
    // Groups (wire types 3 and 4), invalid wire types, huge field numbers, overlong and truncated varints.
    fc.tuple(fc.integer({ min: 1, max: 10 }), tie("msg")).map(([f, body]) => [...varint(BigInt((f << 3) | 3)), ...body, ...varint(BigInt((f << 3) | 4))]),
    fc.tuple(fc.integer({ min: 1, max: 10 }), fc.constantFrom(6, 7)).map(([f, wt]) => varint(BigInt((f << 3) | wt))),
    fc.constantFrom<number[]>([0x00], [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00], [0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00], [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x08, 0x80]),
  ),
})).msg;

/** A valid Authorize message, bit-flipped, truncated or extended. */
const mutatedAuthorize = fc
  .tuple(smallAuthorizeRequest, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.nat({ max: 3 })), { minLength: 1, maxLength: 4 }))
  .map(([r, edits]) => {
    const sessionId = typeof r.sessionId === "number" ? String(r.sessionId) : r.sessionId;
    const bytes = [...toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, { ...r, sessionId, metadata: r.metadata as never }))];
    for (const [at, value, kind] of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (kind === 0) bytes[i] = (bytes[i] ?? 0) ^ (1 << (value % 8));
      else if (kind === 1) bytes.splice(i, 0, value);
      else if (kind === 2) bytes.splice(i, 1);
      else bytes.length = i;
    }
    return bytes;
  });

/** A Struct nested `depth` levels (Value.list_value → ListValue.values → …) as AuthorizeRequest.metadata. */
function deepStructAuthorize(depth: number): number[] {
  let value: number[] = [0x1a, 0x01, 0x78]; // Value.string_value = "x"
  for (let i = 0; i < depth; i++) {
    const list = [0x0a, ...varint(BigInt(value.length)), ...value]; // ListValue.values
    value = [0x32, ...varint(BigInt(list.length)), ...list]; // Value.list_value
  }
  const entry = [0x0a, 0x01, 0x64, 0x12, ...varint(BigInt(value.length)), ...value]; // Struct.FieldsEntry {key: "d", value}
  const struct = [0x0a, ...varint(BigInt(entry.length)), ...entry]; // Struct.fields
  const agent = [...Buffer.from("intruder")];
  return [0x0a, agent.length, ...agent, 0x12, 0x01, 0x75, 0x1a, 0x01, 0x72, 0x42, ...varint(BigInt(struct.length)), ...struct];
}

// ---------------------------------------------------------------- the server

describe("gRPC server under random traffic (fuzz)", function () {
  this.timeout(fuzzTimeout(Math.max(MESSAGE_RUNS, RAW_RUNS), 100));
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  let raw: Client;
  const loggedErrors: string[] = [];
  const logger: Logger = { info: () => {}, warn: () => {}, error: (message, fields) => void loggedErrors.push(`${message}: ${fields?.["error"] instanceof Error ? fields["error"].stack : JSON.stringify(fields)}`) };
  /** Agents that received a delegation during the run, or may be receiving one right now (an allow for them is legitimate). */
  const delegated = new Set<string>();
  const delegatedForSure = new Set<string>();
  const sessionIds: string[] = [];
  const delegationIds: string[] = [];

  before(async () => {
    ({ server, client } = await startTestServer({ logger }));
    raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), { "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": -1 });
  });

  after(async () => {
    raw?.close();
    client?.close();
    await server?.close(1000);
  });

  function sendRaw(path: string, body: Uint8Array): Promise<{ code: number; response: Buffer | undefined }> {
    return new Promise((resolve) => {
      raw.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(body),
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (error: ServiceError | null, response?: Buffer) => resolve({ code: error === null ? status.OK : error.code, response }),
      );
    });
  }

  /** A decision on the wire: a denial has tier autonomous, no approval and no approval policy; an allow has a tier. */
  function checkDecision(d: Decision | undefined, agent: string, where: string): void {
    expect(d, `${where}: no decision`).to.not.equal(undefined);
    if (d!.effect === Effect.DENY) {
      expect([d!.tier, d!.requiresApproval, d!.approvalPolicy], `${where}: denial fields`).to.deep.equal([Tier.AUTONOMOUS, false, ""]);
    } else {
      expect(d!.effect, `${where}: effect`).to.equal(Effect.ALLOW);
      expect([Tier.AUTONOMOUS, Tier.SOFT, Tier.STRONG], `${where}: tier`).to.include(d!.tier);
      const wireAgent = onWire(agent);
      expect(PROFILED.has(wireAgent) || delegated.has(wireAgent), `${where}: ${JSON.stringify(agent)} has no profile and no delegation but was allowed: ${d!.reason}`).to.equal(true);
    }
  }

  it(`random messages on every unary method end with a proper status, and agents without a profile are denied (${MESSAGE_RUNS} rounds of 1–4 concurrent calls)`, async () => {
    const timer = new InputTimer();
    const session = (v: string | number): string => (typeof v === "number" ? (sessionIds[v % Math.max(1, sessionIds.length)] ?? "") : v);
    const delegation = (v: string | number): string => (typeof v === "number" ? (delegationIds[v % Math.max(1, delegationIds.length)] ?? "") : v);
    const authorizeInit = (r: AuthorizeShape): MessageInitShape<typeof AuthorizeRequestSchema> => ({ ...r, sessionId: session(r.sessionId), metadata: r.metadata as never });

    /** Runs one call; returns its status. */
    const run = async (c: Call): Promise<number> => {
      try {
        switch (c.kind) {
          case "authorize": {
            const request = authorizeInit(c.request);
            const { decision } = await client.authorization.authorize(request);
            checkDecision(decision, request.agent ?? "", "Authorize");
            break;
          }
          case "authorizeBatch": {
            const requests = c.requests.map(authorizeInit);
            const { results } = await client.authorization.authorizeBatch({ requests });
            expect(results).to.have.length(requests.length);
            results.forEach((r, i) => {
              if (r.result.case === "decision") checkDecision(r.result.value, requests[i]!.agent ?? "", `AuthorizeBatch[${i}]`);
              else {
                expect(r.result.case, `AuthorizeBatch[${i}]`).to.equal("error");
                expect(ACCEPTABLE.has(r.result.value!.code), `AuthorizeBatch[${i}] item ended with ${status[r.result.value!.code]}`).to.equal(true);
              }
            });
            break;
          }
          case "createSession": {
            const { session: s } = await client.sessions.createSession({ agent: c.agent, user: c.user, scope: c.scope, ...(c.durationSeconds === undefined ? {} : { durationSeconds: c.durationSeconds }) });
            if (s !== undefined) sessionIds.push(s.sessionId);
            break;
          }
          case "getSession":
            await client.sessions.getSession({ sessionId: session(c.sessionId) });
            break;
          case "revokeSession":
            await client.sessions.revokeSession({ sessionId: session(c.sessionId) });
            break;
          case "listSessions":
            await client.sessions.listSessions({ agent: c.agent, user: c.user, includeRevoked: c.includeRevoked, pageSize: c.pageSize, pageToken: c.pageToken });
            break;
          case "createDelegation": {
            // Recorded before the call: an Authorize running concurrently may already see it.
            delegated.add(onWire(c.toAgent));
            const { delegation: d } = await client.delegations.createDelegation({ fromUser: c.fromUser, toAgent: c.toAgent, actions: c.actions, reason: c.reason, ...(c.durationSeconds === undefined ? {} : { durationSeconds: c.durationSeconds }) });
            if (d !== undefined) delegationIds.push(d.delegationId);
            delegatedForSure.add(onWire(c.toAgent));
            break;
          }
          case "listDelegations":
            await client.delegations.listDelegations({ agent: c.agent, user: c.user, includeRevoked: c.includeRevoked, pageSize: c.pageSize, pageToken: c.pageToken });
            break;
          case "revokeDelegation":
            await client.delegations.revokeDelegation({ delegationId: delegation(c.delegationId) });
            break;
          case "query":
            await client.audit.query({ ...(c.filter === undefined ? {} : { filter: c.filter }), ...(c.since === undefined ? {} : { since: c.since }), ...(c.until === undefined ? {} : { until: c.until }), pageSize: c.pageSize, pageToken: c.pageToken });
            break;
          case "describePolicy":
            await client.policy.describePolicy({});
            break;
          case "reloadPolicy":
            await client.policy.reloadPolicy({});
            break;
        }
        return status.OK;
      } catch (error) {
        if (!isClientError(error)) throw error;
        expect(error.details, "the client could not encode the request (a generator problem)").not.to.match(/serialization failure/);
        return error.code;
      }
    };

    try {
      await fc.assert(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 4 }), async (calls) => {
          const codes = await Promise.all(
            calls.map(async (c) => {
              let code = status.OK;
              await timer.timeAsync(async () => {
                code = await run(c);
              });
              timer.tally(`${c.kind}:${status[code]}`);
              return [c.kind, code] as const;
            }),
          );
          // Attempts that failed grant nothing: with no call in flight, their agents are intruders again.
          for (const agent of delegated) if (!delegatedForSure.has(agent)) delegated.delete(agent);
          for (const [kind, code] of codes) expect(ACCEPTABLE.has(code), `${kind} ended with ${status[code]}`).to.equal(true);
        }),
        { numRuns: MESSAGE_RUNS, seed: fuzzSeed(31) },
      );
    } finally {
      timer.report("gRPC, random messages", "calls");
    }
    expect(loggedErrors, "internal errors in the server log").to.deep.equal([]);
  });

  it(`raw bodies (random bytes, random protobuf fields, mutated messages) on every unary method end with a proper status (${RAW_RUNS} calls)`, async () => {
    const timer = new InputTimer();
    const anyPath = fc.constantFrom(...UNARY_PATHS);
    const authorizePath = fc.constant(UNARY_PATHS[0]);
    const input = fc.oneof(
      { weight: 2, arbitrary: fc.tuple(anyPath, fc.uint8Array({ maxLength: 300 }).map((b) => [...b])) },
      { weight: 3, arbitrary: fc.tuple(anyPath, wireMessage) },
      { weight: 1, arbitrary: fc.tuple(anyPath, mutatedAuthorize) },
      // Mutated Authorize messages often still decode: the canary then applies to raw bodies too.
      { weight: 3, arbitrary: fc.tuple(authorizePath, mutatedAuthorize) },
      { weight: 1, arbitrary: fc.tuple(authorizePath, fc.integer({ min: 1, max: 120 }).map(deepStructAuthorize)) },
    );
    try {
      await fc.assert(
        fc.asyncProperty(input, async ([path, bytes]) => {
          let result = { code: status.OK as number, response: undefined as Buffer | undefined };
          await timer.timeAsync(async () => {
            result = await sendRaw(path, Uint8Array.from(bytes));
          });
          const method = path.slice(path.lastIndexOf("/") + 1);
          timer.tally(`${method}:${status[result.code]}`);
          expect(ACCEPTABLE.has(result.code), `${path} ended with ${status[result.code]} for body ${Buffer.from(bytes).toString("hex").slice(0, 400)}`).to.equal(true);
          // The canary on raw bodies: decode the request as the server does and check the decision.
          if (result.code === status.OK && method === "Authorize") {
            const request = fromBinary(AuthorizeRequestSchema, Uint8Array.from(bytes));
            checkDecision(fromBinary(AuthorizeResponseSchema, result.response!).decision, request.agent, `raw Authorize ${Buffer.from(bytes).toString("hex").slice(0, 200)}`);
          }
          if (result.code === status.OK && method === "AuthorizeBatch") fromBinary(AuthorizeBatchResponseSchema, result.response!);
        }),
        { numRuns: RAW_RUNS, seed: fuzzSeed(32) },
      );
    } finally {
      timer.report("gRPC, raw bodies", "calls");
    }
    expect(loggedErrors, "internal errors in the server log").to.deep.equal([]);
  });

  it("oversized messages (1 MiB in each field, 5 MiB batches) end with INVALID_ARGUMENT or RESOURCE_EXHAUSTED", async () => {
    const timer = new InputTimer();
    const big = "z".repeat(MIB);
    const base = { agent: "intruder", user: "u", action: "read" };
    const requests: Array<Record<string, unknown>> = [
      ...["agent", "user", "action", "resource", "scope", "targetAgent", "sessionId"].map((f) => ({ ...base, [f]: big })),
      { ...base, metadata: { [big]: 1 } },
      { ...base, metadata: { k: big } },
    ];
    const outcomes: number[] = [];
    for (const r of requests) {
      await timer.timeAsync(async () => {
        outcomes.push(await client.authorization.authorize(r as never).then(() => status.OK, (e: unknown) => (isClientError(e) ? e.code : Promise.reject(e))));
      });
    }
    await timer.timeAsync(async () => {
      outcomes.push(await client.authorization.authorizeBatch({ requests: Array(5).fill({ ...base, resource: big }) }).then(() => status.OK, (e: unknown) => (isClientError(e) ? e.code : Promise.reject(e))));
    });
    await timer.timeAsync(async () => {
      outcomes.push((await sendRaw(UNARY_PATHS[0], new Uint8Array(5 * MIB).fill(0x0a))).code);
    });
    for (const c of outcomes) timer.tally(status[c]!);
    timer.report("gRPC, oversized messages", "calls");
    for (const c of outcomes) expect([status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]).to.include(c);
  });

  it("ValidatePolicy answers hostile policy documents (recursive aliases, deep nesting, bad YAML) with OK or INVALID_ARGUMENT", async () => {
    const timer = new InputTimer();
    const documents = [
      "variables: {v: &v [1, *v]}\n",
      "variables: &v {a: *v}\n",
      "roles: &r {a: {actions: [x]}, b: *r}\n",
      `variables: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`,
      `approval_policies: [{name: p, tier: soft, condition: '${"(".repeat(10_000)}true${")".repeat(10_000)}'}]\n`,
      "\u0000",
      "a: b: c",
      "",
    ];
    const failures: string[] = [];
    for (const yaml of documents) {
      await timer.timeAsync(async () => {
        const code = await client.policy.validatePolicy({ yaml }).then(() => status.OK, (e: unknown) => (isClientError(e) ? e.code : Promise.reject(e)));
        timer.tally(status[code]!);
        if (code !== status.OK && code !== status.INVALID_ARGUMENT) failures.push(`${JSON.stringify(yaml.slice(0, 60))} ended with ${status[code]}`);
      });
    }
    timer.report("gRPC, ValidatePolicy with hostile documents", "calls");
    expect(failures, `\n  ${failures.join("\n  ")}\n`).to.deep.equal([]);
  });

  it("keeps serving afterwards: health SERVING, a known-good Authorize allowed, an intruder denied", async () => {
    const health = healthClient(`127.0.0.1:${server.port}`);
    try {
      expect(await health.check("")).to.equal("SERVING");
    } finally {
      health.close();
    }
    const { decision } = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read" });
    expect([decision?.effect, decision?.reason]).to.deep.equal([Effect.ALLOW, "Allowed by profile 'assistant'"]);
    const intruder = await client.authorization.authorize({ agent: "intruder-after-fuzz", user: "alice", action: "read" });
    expect(intruder.decision?.effect).to.equal(Effect.DENY);
    console.log(`      [fuzz] gRPC, after the run: health SERVING, known-good Authorize allowed; ${sessionIds.length} sessions and ${delegationIds.length} delegations were created by the fuzz`);
  });
});
