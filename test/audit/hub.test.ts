import { expect } from "chai";
import { AuditHub, type AuditEntry, type AuditHistory } from "../../src/audit/hub.ts";
import { isCursorExpiredError, isCursorOutOfRangeError, isInvalidCursorError, isSubscriberOverflowError, isTooManySubscribersError, type CursorOutOfRangeError } from "../../src/audit/errors.ts";
import { QUERY_SCAN_BUDGET, type HistoryPage } from "../../src/audit/hub.ts";
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
    expect((await hub.query({ limit: 10 })).entries.map((e) => e.cursor)).to.deep.equal(["5000-0", "5000-1", "5001-0"]);
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
    const [firstEntry] = (await hub.query({ limit: 1 })).entries;
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
    expect((error as { lastCursor: string }).lastCursor).to.equal(hub.cursorText((first.value as AuditEntry).cursor));
    expect(hub.subscriberCount).to.equal(0);
  });

  it("refuses a cursor older than the retained history, and a malformed one", async () => {
    const hub = new AuditHub({ retain: 3 });
    for (let i = 0; i < 5; i++) hub.write(event(i));
    const [oldest] = (await hub.query({ limit: 1 })).entries;
    expect(isCursorExpiredError(await rejection(hub.subscribe({ after: "1-0" })))).to.equal(true);
    expect(isInvalidCursorError(await rejection(hub.subscribe({ after: "nonsense" })))).to.equal(true);
    expect((await hub.subscribe({ after: oldest!.cursor })).closed).to.equal(false);
  });

  it("fails a catch-up overtaken by trimming instead of skipping entries", async () => {
    let trimmed = "0-0";
    const entries = Array.from({ length: 3000 }, (_, i): AuditEntry => ({ cursor: `${i + 1}-0`, event: event(i) }));
    const history: AuditHistory = {
      read: async (after, count) => {
        const page = entries.filter((e) => Number(e.cursor.split("-")[0]) > Number(after.split("-")[0])).slice(0, count);
        return { entries: page, last: page.at(-1)?.cursor ?? "" };
      },
      trimmedUpTo: async () => trimmed,
      latest: async () => entries.at(-1)!.cursor,
      epoch: async () => "e1",
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

  it("lets a subscriber far behind catch up at its own pace and join live, however busy the stream", async function () {
    this.timeout(60_000);
    const hub = new AuditHub({ subscriberBuffer: 10, retain: 40_000, retainBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 30_000; i++) hub.write(event(i));
    const sub = await hub.subscribe({ after: "0-0" });
    const got: string[] = [];
    let next = 30_000;
    for await (const e of sub) {
      got.push(e.event.decision.decisionId);
      // Live decisions while it reads: twice its buffer between some of its reads.
      if (next < 30_500 && got.length % 100 === 0) for (let k = 0; k < 20; k++) hub.write(event(next++));
      if (got.length === 30_500) break;
    }
    expect(got).to.deep.equal(Array.from({ length: 30_500 }, (_, i) => `d${i}`));
  });

  it("steps over history entries that cannot be read, in a catch-up and in a query", async () => {
    const entries = Array.from({ length: 3000 }, (_, i): AuditEntry => ({ cursor: `${i + 1}-0`, event: event(i) }));
    const unreadable = (e: AuditEntry): boolean => e.event.time >= 1500 && e.event.time < 2600;
    const history: AuditHistory = {
      read: async (after, count) => {
        const from = Number(after.split("-")[0]);
        const page = entries.slice(from, from + count);
        return { entries: page.filter((e) => !unreadable(e)), last: page.at(-1)?.cursor ?? "" };
      },
      trimmedUpTo: async () => "0-0",
      latest: async () => entries.at(-1)!.cursor,
      epoch: async () => "e1",
    };
    const hub = new AuditHub({ history });
    const readable = entries.filter((e) => !unreadable(e)).map((e) => e.event.decision.decisionId);
    expect(ids(await take(await hub.subscribe({ after: "0-0" }), readable.length))).to.deep.equal(readable);
    const pages: string[] = [];
    for (let after = ""; ; ) {
      const page = await hub.query({ limit: 1000, after });
      pages.push(...ids(page.entries));
      if (page.next === "") break;
      after = hub.cursorText(page.next);
    }
    expect(pages).to.deep.equal(readable);
  });

  it("announces the end of a subscription nobody reads, and counts it until its signal says the call is gone", async () => {
    const hub = new AuditHub({ maxSubscribers: 1, subscriberBuffer: 1 });
    const controller = new AbortController();
    const sub = await hub.subscribe({ signal: controller.signal });
    const ends: unknown[] = [];
    sub.onEnd((error) => ends.push(error));
    hub.write(event(0));
    hub.write(event(1));
    expect(sub.closed).to.equal(true);
    expect(ends.length).to.equal(1);
    expect(isSubscriberOverflowError(ends[0])).to.equal(true);
    expect([hub.subscriberCount, hub.activeSubscriberCount]).to.deep.equal([1, 0]);
    expect(isTooManySubscribersError(await rejection(hub.subscribe()))).to.equal(true);
    controller.abort();
    expect(hub.subscriberCount).to.equal(0);
    expect((await hub.subscribe()).closed).to.equal(false);
  });

  it("refuses a cursor of an earlier epoch and one beyond the newest entry, naming the head", async () => {
    const hub = new AuditHub({ epoch: "first" });
    hub.write(event(0));
    hub.write(event(1));
    const newest = (await hub.query({ limit: 10 })).entries[1]!;
    const cursor = hub.cursorText(newest.cursor);
    expect(cursor).to.equal(`${newest.cursor}@first`);
    // A restart of a memory-mode server: a new history.
    const restarted = new AuditHub({ epoch: "second" });
    restarted.write(event(2));
    const head = restarted.cursorText((await restarted.query({ limit: 1 })).entries[0]!.cursor);
    for (const attempt of [restarted.subscribe({ after: cursor }), restarted.query({ limit: 1, after: cursor })]) {
      const error = (await rejection(attempt)) as CursorOutOfRangeError;
      expect(isCursorOutOfRangeError(error)).to.equal(true);
      expect([error.reason, error.head]).to.deep.equal(["epoch", head]);
    }
    const [ms, seq] = newest.cursor.split("-").map(Number) as [number, number];
    const ahead = (await rejection(hub.subscribe({ after: `${ms}-${seq + 1}@first` }))) as CursorOutOfRangeError;
    expect([ahead.reason, ahead.head]).to.deep.equal(["ahead", cursor]);
    // Without an epoch a cursor is taken as this history's.
    expect((await hub.subscribe({ after: newest.cursor })).closed).to.equal(false);
    expect(isInvalidCursorError(await rejection(hub.subscribe({ after: `${newest.cursor}@UPPER` })))).to.equal(true);
  });

  it("looks at a bounded number of entries per query, and says where to continue", async () => {
    const entries = Array.from({ length: 12_000 }, (_, i): AuditEntry => ({ cursor: `${i + 1}-0`, event: event(i) }));
    let looked = 0;
    const history: AuditHistory = {
      read: async (after, count) => {
        const from = Number(after.split("-")[0]);
        const page = entries.slice(from, from + count);
        looked += page.length;
        return { entries: page, last: page.at(-1)?.cursor ?? "" };
      },
      trimmedUpTo: async () => "0-0",
      latest: async () => entries.at(-1)!.cursor,
      epoch: async () => "e1",
    };
    const hub = new AuditHub({ history });
    const calls: number[] = [];
    let after = "";
    do {
      looked = 0;
      const page = await hub.query({ limit: 10, after, filter: { users: ["nobody"] } });
      expect(page.entries).to.deep.equal([]);
      calls.push(looked);
      after = page.next;
    } while (after !== "");
    expect(Math.max(...calls)).to.be.at.most(QUERY_SCAN_BUDGET);
    expect(calls.reduce((a, b) => a + b, 0)).to.equal(12_000);
    // A filter that matches stops as soon as the page is full (and one more is known to exist).
    looked = 0;
    const found = await hub.query({ limit: 3, filter: { users: ["u4000", "u4001", "u4002", "u4003"] } });
    expect([ids(found.entries), found.next]).to.deep.equal([["d4000", "d4001", "d4002"], "4003-0"]);
  });

  it("bounds a newest-first query the same way, continuing towards older entries", async () => {
    const entries = Array.from({ length: 12_000 }, (_, i): AuditEntry => ({ cursor: `${i + 1}-0`, event: event(i) }));
    let looked = 0;
    const page = (list: AuditEntry[]): HistoryPage => {
      looked += list.length;
      return { entries: list, last: list.at(-1)?.cursor ?? "" };
    };
    const history: AuditHistory = {
      read: async (after, count) => page(entries.slice(Number(after.split("-")[0]), Number(after.split("-")[0]) + count)),
      readBefore: async (before, count) => {
        const end = before === "" ? entries.length : Number(before.split("-")[0]) - 1;
        return page(entries.slice(Math.max(0, end - count), end).reverse());
      },
      trimmedUpTo: async () => "0-0",
      latest: async () => entries.at(-1)!.cursor,
      epoch: async () => "e1",
    };
    const hub = new AuditHub({ history });
    const calls: number[] = [];
    let after = "";
    do {
      looked = 0;
      const p = await hub.query({ limit: 10, after, newestFirst: true, filter: { users: ["nobody"] } });
      expect(p.entries).to.deep.equal([]);
      calls.push(looked);
      after = p.next === "" ? "" : hub.cursorText(p.next);
    } while (after !== "");
    expect(Math.max(...calls)).to.be.at.most(QUERY_SCAN_BUDGET);
    expect(calls.reduce((a, b) => a + b, 0)).to.equal(12_000);
    const newest = await hub.query({ limit: 3, newestFirst: true });
    expect(ids(newest.entries)).to.deep.equal(["d11999", "d11998", "d11997"]);
    const older = await hub.query({ limit: 2, newestFirst: true, after: hub.cursorText(newest.next) });
    expect(ids(older.entries)).to.deep.equal(["d11996", "d11995"]);
  });

  it("queries pages by cursor and time", async () => {
    const hub = new AuditHub();
    for (let i = 0; i < 10; i++) hub.write(event(i));
    const page1 = await hub.query({ limit: 4 });
    const page2 = await hub.query({ limit: 4, after: hub.cursorText(page1.next) });
    expect(ids([...page1.entries, ...page2.entries])).to.deep.equal(["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"]);
    expect(ids((await hub.query({ limit: 100, since: 1003, until: 1005 })).entries)).to.deep.equal(["d3", "d4", "d5"]);
    const last = await hub.query({ limit: 2, after: page2.next });
    expect([ids(last.entries), last.next]).to.deep.equal([["d8", "d9"], ""]);
  });
});
