import { expect } from "chai";
import { HttpError } from "../../../src/server/http/errors.ts";
import { startHttpListener, type RunningHttpListener } from "../../../src/server/http/listener.ts";
import { silentLogger } from "../../../src/server/logger.ts";
import { call } from "../../support/http.ts";

describe("HTTP listener: handlers run together at the end of the event-loop turn", () => {
  let listener: RunningHttpListener;
  /** Which handlers ran, and when: after the nextTick callbacks of the turn its request was read in, before its next timers. */
  const ran: { n: number; afterTicks: boolean; beforeNextTurn: boolean }[] = [];

  before(async () => {
    listener = await startHttpListener({
      port: 0,
      maxBodyBytes: 1 << 20,
      maxRequestIdLength: 100,
      logger: silentLogger,
      groups: [
        {
          name: "turns",
          register(scope) {
            // onRequest runs in the turn the request is read: marks set by nextTick (this turn) and a 0 ms timer (the next turn).
            scope.addHook("onRequest", (request, _reply, done) => {
              const mark = { ticked: false, timed: false };
              process.nextTick(() => (mark.ticked = true));
              setTimeout(() => (mark.timed = true), 0);
              (request as unknown as { mark: typeof mark }).mark = mark;
              done();
            });
            scope.get("/turn/:n", (request, reply) => {
              const n = Number((request.params as { n: string }).n);
              const mark = (request as unknown as { mark: { ticked: boolean; timed: boolean } }).mark;
              ran.push({ n, afterTicks: mark.ticked, beforeNextTurn: !mark.timed });
              if (n % 5 === 1) throw new HttpError(409, `request ${n} refused`);
              if (n % 5 === 2) return Promise.reject(new HttpError(410, `request ${n} gone`));
              void reply.send({ n });
              return reply;
            });
          },
        },
      ],
    });
  });
  after(async () => {
    await listener?.close(500);
  });

  it("answers every request of a burst with its own answer, errors included, none stranded by another", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => call(listener.url, `/turn/${n}`)));
    answers.forEach((a, n) => {
      if (n % 5 === 1) expect([a.status, a.json], `request ${n}`).to.deep.equal([409, { error: `request ${n} refused` }]);
      else if (n % 5 === 2) expect([a.status, a.json], `request ${n}`).to.deep.equal([410, { error: `request ${n} gone` }]);
      else expect([a.status, a.json], `request ${n}`).to.deep.equal([200, { n }]);
    });
    expect(ran.map((r) => r.n).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 40 }, (_, n) => n));
  });

  it("holds each handler until the end of the turn its request was read in (the setImmediate phase), no later", async () => {
    ran.length = 0;
    await call(listener.url, "/turn/100");
    // Without the hook a GET's handler would run at once, inside onRequest's own turn (afterTicks false).
    expect(ran).to.deep.equal([{ n: 100, afterTicks: true, beforeNextTurn: true }]);
  });
});
