import { expect } from "chai";
import fc from "fast-check";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { isClientError, type AgentAuthClient } from "../../src/client/index.ts";
import { startTestServer } from "../support/server.ts";
import { fuzzRuns, fuzzSeedOr } from "../support/fuzz.ts";

const RUNS = fuzzRuns(200);
const SEED = fuzzSeedOr(20261124);

/** Codes a request can legitimately end with; INTERNAL or UNKNOWN would be a bug. */
const ACCEPTABLE = new Set([status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION, status.RESOURCE_EXHAUSTED, status.OUT_OF_RANGE]);

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom("", "assistant", "deployer", "caller", "helper", "read", "write", "deploy", "*", "/prod/x", "project:a", "\u0000", "🙂", "\uD800") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.nat({ max: 6000 }).map((n) => "x".repeat(n)) },
);

function code(p: Promise<unknown>): Promise<number> {
  return p.then(
    () => status.OK,
    (error: unknown) => {
      if (isClientError(error)) return error.code;
      throw error;
    },
  );
}

describe("gRPC server under random requests (fuzz)", function () {
  this.timeout(120_000);
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  before(async () => {
    ({ server, client } = await startTestServer());
  });
  after(async () => {
    client.close();
    await server.close(1000);
  });

  it(`answers random messages on every service with a proper status, and never allows an agent without a profile (${RUNS} × 6 calls)`, async () => {
    const seen = new Map<string, number>();
    let calls = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ agent: text, user: text, action: text, resource: text, scope: text, targetAgent: text, sessionId: text, metadata: fc.jsonValue({ maxDepth: 4 }) }),
        fc.integer({ min: -5, max: 5000 }),
        async (r, n) => {
          const metadata = typeof r.metadata === "object" && r.metadata !== null && !Array.isArray(r.metadata) ? (r.metadata as Record<string, never>) : {};
          const request = { ...r, metadata };
          const outcomes: Array<[string, number]> = [];
          try {
            const { decision } = await client.authorization.authorize(request);
            outcomes.push(["Authorize", status.OK]);
            if (!["assistant", "deployer", "caller"].includes(r.agent)) expect(decision!.effect, `${JSON.stringify(r.agent)} allowed`).to.equal(2);
          } catch (error) {
            if (!isClientError(error)) throw error;
            outcomes.push(["Authorize", error.code]);
          }
          outcomes.push(["AuthorizeBatch", await code(client.authorization.authorizeBatch({ requests: [request, request] }))]);
          outcomes.push(["CreateSession", await code(client.sessions.createSession({ agent: r.agent, user: r.user, scope: r.scope, durationSeconds: BigInt(n) }))]);
          outcomes.push(["CreateDelegation", await code(client.delegations.createDelegation({ fromUser: r.user, toAgent: r.agent, actions: [r.action], durationSeconds: BigInt(n), reason: r.resource }))]);
          outcomes.push(["ListSessions", await code(client.sessions.listSessions({ agent: r.agent, user: r.user, pageSize: n, pageToken: r.sessionId }))]);
          outcomes.push(["Query", await code(client.audit.query({ filter: { agents: [r.agent], effect: n % 7, tiers: [n % 5] }, pageSize: n, pageToken: r.scope }))]);
          for (const [name, c] of outcomes) {
            calls++;
            seen.set(`${name}:${status[c]}`, (seen.get(`${name}:${status[c]}`) ?? 0) + 1);
            expect(ACCEPTABLE.has(c), `${name} ended with ${status[c]}`).to.equal(true);
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`      ${calls} calls: ${[...seen.entries()].sort().map(([k, v]) => `${k}=${v}`).join(" ")}`);
  });

  it(`answers random bytes as a request body with OK or INVALID_ARGUMENT and keeps serving (${RUNS * 2} calls)`, async () => {
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const send = (bytes: Uint8Array): Promise<number> =>
      new Promise((resolve) => {
        raw.makeUnaryRequest(
          "/agentauth.v1.AuthorizationService/Authorize",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from(bytes),
          new Metadata(),
          { deadline: Date.now() + 5000 },
          (error: ServiceError | null) => resolve(error === null ? status.OK : error.code),
        );
      });
    const counts = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const c = await send(bytes);
        counts.set(c, (counts.get(c) ?? 0) + 1);
        expect([status.OK, status.INVALID_ARGUMENT], `random body ended with ${status[c]}`).to.include(c);
      }),
      { numRuns: RUNS * 2, seed: SEED + 1 },
    );
    raw.close();
    console.log(`      random bodies: ${[...counts.entries()].map(([c, n]) => `${status[c]}=${n}`).join(" ")}`);
    const { decision } = await client.authorization.authorize({ agent: "assistant", user: "alice", action: "read" });
    expect(decision?.reason).to.equal("Allowed by profile 'assistant'");
  });
});
