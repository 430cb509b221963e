import { expect } from "chai";
import { status } from "@grpc/grpc-js";
import { Effect, Tier } from "../../gen/agentauth/v1/decision_pb.ts";
import type { SubscribeResponse } from "../../gen/agentauth/v1/audit_pb.ts";
import { isClientError, type AgentAuthClient, type ClientError } from "../../src/client/index.ts";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { startTestServer } from "../support/server.ts";
import { compareCursors, splitCursor } from "../../src/audit/cursor.ts";

/** The position part of a cursor as clients see it (`<ms>-<seq>@<epoch>`). */
const position = (cursor: string): string => splitCursor(cursor)!.position;

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    if (isClientError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

async function take(stream: AsyncIterable<SubscribeResponse>, n: number): Promise<SubscribeResponse[]> {
  const out: SubscribeResponse[] = [];
  for await (const r of stream) {
    out.push(r);
    if (out.length === n) break;
  }
  return out;
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("AuditService (end to end, real sockets)", () => {
  let server: AgentAuthServer;
  let client: AgentAuthClient;
  beforeEach(async () => {
    ({ server, client } = await startTestServer({ subscriberBuffer: 50 }));
  });
  afterEach(async () => {
    client.close();
    await server.close(1000);
  });

  const decide = (user: string, action = "read") => client.authorization.authorize({ agent: "assistant", user, action });

  it("streams every decision made after subscribing, filtered, in order", async () => {
    const all = client.audit.subscribe({});
    const denials = client.audit.subscribe({ filter: { effect: Effect.DENY } });
    await until(() => server.hub.subscriberCount === 2);
    await decide("u1");
    await decide("u2", "delete");
    await decide("u3");
    const got = await take(all, 3);
    expect(got.map((r) => r.event?.user)).to.deep.equal(["u1", "u2", "u3"]);
    expect(got[0]!.event).to.deep.include({ agent: "assistant", action: "read", configName: "server-test" });
    expect(got[0]!.event?.decision?.effect).to.equal(Effect.ALLOW);
    expect(got[0]!.event?.cursor).to.match(/^\d+-\d+@[0-9a-z]+$/);
    const denied = await take(denials, 1);
    expect(denied.map((r) => [r.event?.user, r.event?.decision?.tier])).to.deep.equal([["u2", Tier.AUTONOMOUS]]);
  });

  it("resumes after a cursor with nothing lost and nothing twice", async () => {
    const first = client.audit.subscribe({});
    await until(() => server.hub.subscriberCount === 1);
    for (let i = 0; i < 6; i++) await decide(`r${i}`);
    const seen = await take(first, 2);
    await until(() => server.hub.subscriberCount === 0);
    const resumed = await take(client.audit.subscribe({ afterCursor: seen[1]!.event!.cursor }), 4);
    expect([...seen, ...resumed].map((r) => r.event?.user)).to.deep.equal(["r0", "r1", "r2", "r3", "r4", "r5"]);
  });

  it("stops the server-side subscription when the client cancels", async () => {
    const controller = new AbortController();
    const stream = client.audit.subscribe({}, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const next = iterator.next();
    await until(() => server.hub.subscriberCount === 1);
    controller.abort();
    await next.catch(() => undefined);
    await until(() => server.hub.subscriberCount === 0);
  });

  it("ends a stream at its deadline and frees the subscription", async () => {
    const e = await failure(take(client.audit.subscribe({}, { deadlineMs: 200 }), 1));
    expect(e.code).to.equal(status.DEADLINE_EXCEEDED);
    await until(() => server.hub.subscriberCount === 0);
  });

  it("ends a slow subscriber with RESOURCE_EXHAUSTED and the cursor to resume from", async () => {
    const stream = client.audit.subscribe({});
    const iterator = stream[Symbol.asyncIterator]();
    await until(() => server.hub.subscriberCount === 1);
    await decide("first");
    const first = await iterator.next();
    // The hub's buffer (50) overflows while the client reads nothing.
    await Promise.all(Array.from({ length: 400 }, (_, i) => decide(`burst${i}`)));
    let error: unknown;
    try {
      for (;;) {
        const r = await iterator.next();
        if (r.done) break;
      }
    } catch (e) {
      error = e;
    }
    expect(isClientError(error)).to.equal(true);
    const ce = error as ClientError;
    expect(ce.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(ce.errorInfo?.reason).to.equal("SUBSCRIBER_TOO_SLOW");
    const last = ce.errorInfo?.metadata["last_cursor"];
    expect(last).to.match(/^\d+-\d+@[0-9a-z]+$/);
    expect(compareCursors(position(last!), position((first.value as SubscribeResponse).event!.cursor))).to.be.at.least(0);
    // Resuming from there delivers the rest, in order, without gaps.
    const rest = await take(client.audit.subscribe({ afterCursor: last! }), 1);
    expect(compareCursors(position(rest[0]!.event!.cursor), position(last!))).to.be.above(0);
  });

  it("refuses a cursor beyond the newest event, and one from before a restart, with OUT_OF_RANGE naming the head", async () => {
    await decide("h1");
    const [newest] = (await client.audit.query({})).events.slice(-1);
    const head = newest!.cursor;
    const [ms, rest] = head.split("-");
    const ahead = await failure(take(client.audit.subscribe({ afterCursor: `${Number(ms) + 60_000}-${rest}` }), 1));
    expect([ahead.code, ahead.errorInfo?.reason, ahead.errorInfo?.metadata["head_cursor"]]).to.deep.equal([status.OUT_OF_RANGE, "CURSOR_AHEAD", head]);
    // A memory-mode server that restarts starts a new history: the old cursor is recognised as such.
    const restarted = await startTestServer();
    try {
      await restarted.client.authorization.authorize({ agent: "assistant", user: "after-restart", action: "read" });
      const newHead = (await restarted.client.audit.query({})).events[0]!.cursor;
      for (const attempt of [take(restarted.client.audit.subscribe({ afterCursor: head }), 1), restarted.client.audit.query({ pageToken: head })]) {
        const e = await failure(attempt);
        expect([e.code, e.errorInfo?.reason, e.errorInfo?.metadata["head_cursor"]]).to.deep.equal([status.OUT_OF_RANGE, "CURSOR_EPOCH", newHead]);
      }
    } finally {
      restarted.client.close();
      await restarted.server.close(1000);
    }
  });

  it("rejects a malformed cursor and unknown enum values with INVALID_ARGUMENT", async () => {
    const bad = await failure(take(client.audit.subscribe({ afterCursor: "not-a-cursor" }), 1));
    expect([bad.code, bad.fieldViolations[0]?.field]).to.deep.equal([status.INVALID_ARGUMENT, "after_cursor"]);
    const effect = await failure(take(client.audit.subscribe({ filter: { effect: 9 as Effect } }), 1));
    expect([effect.code, effect.fieldViolations[0]?.field]).to.deep.equal([status.INVALID_ARGUMENT, "filter.effect"]);
    const tier = await failure(client.audit.query({ filter: { tiers: [Tier.SOFT, 42 as Tier] } }));
    expect(tier.fieldViolations[0]?.field).to.equal("filter.tiers[1]");
  });

  it("pages through past decisions with Query", async () => {
    for (let i = 0; i < 7; i++) await decide(`q${i}`, i % 2 === 0 ? "read" : "delete");
    const p1 = await client.audit.query({ pageSize: 3 });
    const p2 = await client.audit.query({ pageSize: 3, pageToken: p1.nextPageToken });
    const p3 = await client.audit.query({ pageSize: 3, pageToken: p2.nextPageToken });
    expect([...p1.events, ...p2.events, ...p3.events].map((e) => e.user)).to.deep.equal(["q0", "q1", "q2", "q3", "q4", "q5", "q6"]);
    expect(p3.nextPageToken).to.equal("");
    const denials = await client.audit.query({ filter: { effect: Effect.DENY } });
    expect(denials.events.map((e) => e.user)).to.deep.equal(["q1", "q3", "q5"]);
  });
});
