import { constants } from "node:http2";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { isClientError, type AgentAuthClient, type ClientError } from "../../src/client/index.ts";
import type { AgentAuthServer } from "../../src/server/app/start-server.ts";
import { Redis } from "ioredis";
import { compareCursors, splitCursor } from "../../src/audit/cursor.ts";
import type { AuditEvent } from "../../src/audit/event.ts";
import { encodeAuditRecord } from "../../src/audit/record-bytes.ts";
import type { NormalizedRequest } from "../../src/model/request.ts";
import { AuthDecision } from "../../src/model/types.ts";
import { freePort, hasRedisServer, PrivateRedis } from "../support/private-redis.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";
import { startTestServer } from "../support/server.ts";
import { stuckSubscriber } from "../support/stuck-subscriber.ts";

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function metric(server: AgentAuthServer, name: string): Promise<number> {
  const text = await (await fetch(`http://${server.metricsEndpoint!.address}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? NaN : Number(line.split(" ").at(-1));
}

/**
 * Decisions one after another, so that a subscriber's events reach its
 * transport until flow control stops them; then its buffer (20) overflows.
 */
async function flood(client: AgentAuthClient, n = 400): Promise<void> {
  for (let i = 0; i < n; i++) await client.authorization.authorize({ agent: "assistant", user: `flood${i}`, action: "read" });
}

describe("audit streams whose clients do not read (end to end, raw HTTP/2)", function () {
  this.timeout(60_000);

  it("ends an overflowing stream within the end timeout (reset when its status cannot get out), counting it until it is gone", async () => {
    const { server, client } = await startTestServer({ subscriberBuffer: 20, maxSubscribers: 2, metrics: { host: "127.0.0.1", port: 0 } });
    try {
      const stuck = stuckSubscriber(server.port);
      await until("the subscription", () => server.hub.subscriberCount === 1);
      await flood(client);
      const end = await stuck.ended;
      // Its status waits behind data the client never reads: the stream is reset instead,
      // with the code gRPC clients read as RESOURCE_EXHAUSTED.
      expect(end.rstCode).to.equal(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      expect(await metric(server, "agent_auth_audit_subscriber_overflows_total")).to.equal(1);
      await until("the slot to be freed", () => server.hub.subscriberCount === 0);
      stuck.session.destroy();
    } finally {
      client.close();
      await server.close(1000);
    }
  });

  it("keeps an ended stream in the subscriber count (and the gauge) while its call lingers", async () => {
    // A long end timeout shows the stream between its overflow and its reset.
    const { server, client } = await startTestServer({ subscriberBuffer: 20, maxSubscribers: 1, streamEndTimeoutMs: 600_000, metrics: { host: "127.0.0.1", port: 0 } });
    try {
      const stuck = stuckSubscriber(server.port);
      await until("the subscription", () => server.hub.subscriberCount === 1);
      await flood(client);
      await until("the overflow", () => server.hub.activeSubscriberCount === 0);
      expect(server.hub.subscriberCount).to.equal(1);
      expect(await metric(server, "agent_auth_audit_subscribers")).to.equal(1);
      expect(await metric(server, "agent_auth_audit_subscriber_overflows_total")).to.equal(1);
      // The limit still holds: another subscriber is refused.
      const second = stuckSubscriber(server.port);
      const refused = await second.ended;
      expect([refused.grpcStatus, refused.grpcMessage]).to.deep.equal([status.RESOURCE_EXHAUSTED, "this server already has 1 audit subscribers, the limit (limits.max_subscribers)"]);
      // Once the client goes away, so does the subscription.
      stuck.session.destroy();
      await until("the slot to be freed", () => server.hub.subscriberCount === 0);
      second.session.destroy();
    } finally {
      client.close();
      await server.close(1000);
    }
  });

  it("never lets clients that do not read hold more than max_subscribers streams", async () => {
    const { server, client } = await startTestServer({ subscriberBuffer: 20, maxSubscribers: 5 });
    const all: ReturnType<typeof stuckSubscriber>[] = [];
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, server.hub.subscriberCount)), 2);
    try {
      // Each round opens twice the limit; the refused half ends at once, the rest overflow and are reset.
      for (let round = 0; round < 4; round++) {
        await until("the previous round's streams to be gone", () => server.hub.subscriberCount === 0);
        for (let i = 0; i < 10; i++) all.push(stuckSubscriber(server.port));
        await until("the round's subscriptions", () => server.hub.subscriberCount === 5);
        await flood(client, 200);
      }
      clearInterval(sampler);
      expect(most).to.equal(5);
      const ends = await Promise.all(all.map((s) => s.ended));
      const refused = ends.filter((e) => e.grpcStatus === status.RESOURCE_EXHAUSTED).length;
      const reset = ends.filter((e) => e.rstCode === constants.NGHTTP2_ENHANCE_YOUR_CALM).length;
      // Every stream ended: refused at the limit, or reset after overflowing.
      expect(refused + reset).to.equal(all.length);
      expect(reset).to.be.at.least(4 * 5);
      await until("every slot to be freed", () => server.hub.subscriberCount === 0);
    } finally {
      clearInterval(sampler);
      for (const s of all) s.session.destroy();
      client.close();
      await server.close(1000);
    }
  });

  it("stops well within the grace period while such a stream is open", async () => {
    const { server, client } = await startTestServer({ subscriberBuffer: 20 });
    const stuck = stuckSubscriber(server.port);
    try {
      await until("the subscription", () => server.hub.subscriberCount === 1);
      // Enough for the transport to stop sending, not enough to overflow.
      await flood(client, 10);
      client.close();
      // A grace period far longer than this test's timeout: only ending the stream lets close() finish.
      await server.close(600_000);
      const end = await stuck.ended;
      expect(end.rstCode === constants.NGHTTP2_CANCEL || end.grpcStatus === status.OK).to.equal(true);
    } finally {
      stuck.session.destroy();
    }
  });
});

describe("catching up from an old cursor in Redis mode (end to end)", function () {
  this.timeout(180_000);
  let url: string;
  const prefix = testPrefix("catch-up");
  before(async function () {
    url = await requireRedis(this);
  });
  after(async () => {
    if (url !== undefined) await deletePrefix(url, prefix);
  });

  it("reads 12,000 entries of history (240 times its buffer) at the subscriber's pace, then joins live without loss or duplicates", async () => {
    const raw = new Redis(url);
    const key = `{${prefix}}:audit`;
    try {
      for (let i = 0; i < 12_000; i += 1000) {
        const batch = raw.pipeline();
        // (The encoder reuses its buffer: each line is copied.)
        for (let k = i; k < i + 1000; k++) batch.xadd(key, "*", "r", Buffer.from(encodeAuditRecord(historicEvent(k)).line));
        // A line that is not a record, now and then: skipped, never a stall.
        if (i % 5000 === 0) batch.xadd(key, "*", "r", "not a record");
        await batch.exec();
      }
    } finally {
      raw.disconnect();
    }
    const { server, client } = await startTestServer({ redis: { connection: { url }, prefix }, subscriberBuffer: 50 });
    try {
      const received: { cursor: string; decisionId: string; user: string }[] = [];
      let live = 0;
      for await (const r of client.audit.subscribe({ afterCursor: "0-0" }, { deadlineMs: 170_000 })) {
        received.push({ cursor: r.event!.cursor, decisionId: r.event!.decisionId, user: r.event!.user });
        // Decisions keep coming while it catches up: more, between its reads, than its buffer holds.
        if (received.length % 2000 === 0 && live < 300) {
          await Promise.all(Array.from({ length: 60 }, () => client.authorization.authorize({ agent: "assistant", user: `live${live++}`, action: "read" })));
        }
        if (received.length === 12_000 + live && live >= 300) break;
      }
      expect(received.slice(0, 12_000).map((r) => r.user)).to.deep.equal(Array.from({ length: 12_000 }, (_, i) => `old${i}`));
      expect(received.slice(12_000).map((r) => r.user).sort()).to.deep.equal(Array.from({ length: live }, (_, i) => `live${i}`).sort());
      expect(new Set(received.map((r) => r.decisionId)).size).to.equal(received.length);
      const positions = received.map((r) => splitCursor(r.cursor)!.position);
      for (let i = 1; i < positions.length; i++) expect(compareCursors(positions[i]!, positions[i - 1]!), `${i}`).to.be.above(0);
    } finally {
      client.close();
      await server.close(1000);
    }
  });
});

function historicEvent(i: number): AuditEvent {
  const request: NormalizedRequest = { agent: "assistant", user: `old${i}`, action: "read", resource: "", scope: "", sessionId: "", targetAgent: "", metadata: {} };
  return { time: Date.now(), request, decision: new AuthDecision(true, "autonomous", "r", false, "", 0, `old-${i}`, "rev"), configName: "t", configVersion: "1.0" };
}

describe("a Redis that loses its data (private redis-server, restarted empty)", function () {
  this.timeout(120_000);

  it("ends live subscribers (UNAVAILABLE) and refuses their old cursors as of an earlier history, naming the head", async function () {
    if (!hasRedisServer()) this.skip();
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const { server, client } = await startTestServer({ redis: { connection: { url: redis.url }, prefix: "lost" } });
    try {
      const stream = client.audit.subscribe({})[Symbol.asyncIterator]();
      await until("the subscription", () => server.hub.activeSubscriberCount === 1);
      await client.authorization.authorize({ agent: "assistant", user: "before", action: "read" });
      const before = (await stream.next()).value!.event!;
      await redis.kill();
      await redis.start();
      let ended: unknown;
      try {
        await stream.next();
      } catch (error) {
        ended = error;
      }
      expect((ended as ClientError).code).to.equal(status.UNAVAILABLE);
      expect((ended as ClientError).details).to.contain("the audit history started over");
      await client.authorization.authorize({ agent: "assistant", user: "after", action: "read" });
      let refused: ClientError | undefined;
      for (let attempt = 0; refused === undefined && attempt < 100; attempt++) {
        try {
          for await (const _ of client.audit.subscribe({ afterCursor: before.cursor }, { deadlineMs: 2000 })) break;
        } catch (error) {
          if (isClientError(error) && error.code === status.OUT_OF_RANGE) refused = error;
          else await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(refused?.errorInfo?.reason).to.equal("CURSOR_EPOCH");
      expect(refused?.errorInfo?.metadata["head_cursor"]).to.match(/^\d+-\d+@[0-9a-z]+$/);
      expect(refused?.errorInfo?.metadata["head_cursor"]?.split("@")[1]).to.not.equal(before.cursor.split("@")[1]);
    } finally {
      client.close();
      await server.close(1000);
      await redis.stop();
    }
  });
});
