import { expect } from "chai";
import { AuditHub, type AuditEntry, type AuditHistory } from "../../src/audit/hub.ts";
import { isCursorExpiredError, isInvalidCursorError, isSubscriberOverflowError, isTooManySubscribersError } from "../../src/audit/errors.ts";
import type { AuditEvent } from "../../src/audit/event.ts";
import { ManualClock } from "../../src/model/clock.ts";
import { AuthDecision } from "../../src/model/types.ts";
import type { NormalizedRequest } from "../../src/model/request.ts";

function event(i: number, over: Partial<NormalizedRequest> = {}, allowed = true, tier: "autonomous" | "soft" | "strong" = "autonomous"): AuditEvent {
  const request: NormalizedRequest = { agent: "a", user: `u${i}`, action: "read", resource: "", scope: "", sessionId: "", targetAgent: "", metadata: {}, ...over };
  return {
    time: 1_000 + i,
    request,
    decision: new AuthDecision(allowed, allowed ? tier : "autonomous", "r", tier !== "autonomous", "", 0, `d${i}`, "rev"),
    configName: "t",
    configVersion: "1.0",
  };
}

async function take(iter: AsyncIterable<AuditEntry>, n: number): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  if (n === 0) return out;
  for await (const e of iter) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

const ids = (entries: AuditEntry[]): string[] => entries.map((e) => e.event.decision.decisionId);

describe("AuditHub", () => {
  it("numbers entries with increasing stream-style cursors", async () => {
    const clock = new ManualClock(5000);
    const hub = new AuditHub({ clock });
    hub.write(event(1));
    hub.write(event(2));
    clock.advance(0.001);
    hub.write(event(3));
    expect((await hub.query({ limit: 10 })).map((e) => e.cursor)).to.deep.equal(["5000-0", "5000-1", "5001-0"]);
  });

  it("delivers live decisions to subscribers, filtered", async () => {
    const hub = new AuditHub();
    const all = await hub.subscribe();
    const denials = await hub.subscribe({ filter: { effect: "deny" } });
    const strong = await hub.subscribe({ filter: { tiers: ["strong"] } });
    const u2 = await hub.subscribe({ filter: { users: ["u2"], agents: ["a"] } });
    hub.write(event(1));
    hub.write(event(2, {}, false));
    hub.write(event(3, {}, true, "strong"));
    expect(ids(await take(all, 3))).to.deep.equal(["d1", "d2", "d3"]);
    expect(ids(await take(denials, 1))).to.deep.equal(["d2"]);
    expect(ids(await take(strong, 1))).to.deep.equal(["d3"]);
    expect(ids(await take(u2, 1))).to.deep.equal(["d2"]);
    expect(hub.subscriberCount).to.equal(0);
  });

  it("resumes after a cursor with nothing lost and nothing repeated", async () => {
    const hub = new AuditHub();
    for (let i = 0; i < 10; i++) hub.write(event(i));
    const [firstEntry] = await hub.query({ limit: 1 });
    const first = await take(await hub.subscribe({ after: firstEntry!.cursor }), 4);
    const resumed = await hub.subscribe({ after: first.at(-1)!.cursor });
    for (let i = 10; i < 12; i++) hub.write(event(i));
    const rest = await take(resumed, 7);
    expect(ids([...first, ...rest])).to.deep.equal(Array.from({ length: 11 }, (_, i) => `d${i + 1}`));
  });

  it("catches up from history page by page while live entries arrive", async () => {
    const hub = new AuditHub({ subscriberBuffer: 5000 });
    for (let i = 0; i < 2500; i++) hub.write(event(i));
    const sub = await hub.subscribe({ after: "0-0" });
    const got: string[] = [];
    for await (const e of sub) {
      got.push(e.event.decision.decisionId);
      if (got.length === 1200) for (let i = 2500; i < 2600; i++) hub.write(event(i));
      if (got.length === 2600) break;
    }
    expect(got).to.deep.equal(Array.from({ length: 2600 }, (_, i) => `d${i}`));
  });

  it("ends a slow subscriber with an overflow error naming the last delivered cursor", async () => {
    const hub = new AuditHub({ subscriberBuffer: 3 });
    const iterator = (await hub.subscribe())[Symbol.asyncIterator]();
    hub.write(event(0));
    const first = await iterator.next();
    for (let i = 1; i < 6; i++) hub.write(event(i));
    const error = await rejection(iterator.next());
    expect(isSubscriberOverflowError(error)).to.equal(true);
    expect((error as { lastCursor: string }).lastCursor).to.equal((first.value as AuditEntry).cursor);
    expect(hub.subscriberCount).to.equal(0);
  });

  it("refuses a cursor older than the retained history, and a malformed one", async () => {
    const hub = new AuditHub({ retain: 3 });
    for (let i = 0; i < 5; i++) hub.write(event(i));
    const [oldest] = await hub.query({ limit: 1 });
    expect(isCursorExpiredError(await rejection(hub.subscribe({ after: "1-0" })))).to.equal(true);
    expect(isInvalidCursorError(await rejection(hub.subscribe({ after: "nonsense" })))).to.equal(true);
    expect((await hub.subscribe({ after: oldest!.cursor })).closed).to.equal(false);
  });

  it("fails a catch-up overtaken by trimming instead of skipping entries", async () => {
    let trimmed = "0-0";
    const entries = Array.from({ length: 3000 }, (_, i): AuditEntry => ({ cursor: `${i + 1}-0`, event: event(i) }));
    const history: AuditHistory = {
      read: async (after, count) => entries.filter((e) => Number(e.cursor.split("-")[0]) > Number(after.split("-")[0])).slice(0, count),
      trimmedUpTo: async () => trimmed,
      latest: async () => entries.at(-1)!.cursor,
    };
    const hub = new AuditHub({ history });
    const sub = await hub.subscribe({ after: "0-0" });
    const got: string[] = [];
    let error: unknown;
    try {
      for await (const e of sub) {
        got.push(e.cursor);
        if (got.length === 1000) trimmed = "2000-0";
      }
    } catch (e) {
      error = e;
    }
    expect(isCursorExpiredError(error)).to.equal(true);
    expect(got.length).to.equal(1000);
  });

  it("limits the number of subscribers", async () => {
    const hub = new AuditHub({ maxSubscribers: 2 });
    await hub.subscribe();
    await hub.subscribe();
    expect(isTooManySubscribersError(await rejection(hub.subscribe()))).to.equal(true);
  });

  it("queries pages by cursor and time", async () => {
    const hub = new AuditHub();
    for (let i = 0; i < 10; i++) hub.write(event(i));
    const page1 = await hub.query({ limit: 4 });
    const page2 = await hub.query({ limit: 4, after: page1.at(-1)!.cursor });
    expect(ids([...page1, ...page2])).to.deep.equal(["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"]);
    expect(ids(await hub.query({ limit: 100, since: 1003, until: 1005 }))).to.deep.equal(["d3", "d4", "d5"]);
  });
});
