import type { FastifyReply, preHandlerHookHandler } from "fastify";

/**
 * A `preHandler` hook that holds each request's handler until the end of the
 * current turn of the event loop, then runs the handlers of every request
 * that got this far in that turn one after the other, in arrival order. A
 * request waits at most for the rest of its turn (the `setImmediate` phase of
 * the same loop iteration).
 *
 * Why: with many keep-alive connections, one turn reads requests from many
 * sockets, and without this each request's handler and response would run
 * in between Node's and Fastify's work on the next request — so the decision,
 * its audit record and the response path start with cold caches every time.
 * Run together they keep them warm: at 64 connections this is most of what
 * an AuthZEN evaluation used to cost beyond a route answering a fixed
 * decision (docs/performance.md, HTTP). The gRPC server starts unary calls
 * the same way (see `unaryHandler` in src/server/grpc/adapter.ts).
 */
export function endOfTurnHook(): preHandlerHookHandler {
  let waiting: Waiting[] = [];
  let scheduled = false;
  const runWaiting = (): void => {
    scheduled = false;
    const ready = waiting;
    waiting = [];
    for (const w of ready) {
      // Fastify answers whatever a handler throws; this only keeps one request's failure from stranding the rest.
      try {
        w.proceed();
      } catch (error) {
        if (!w.reply.sent) void w.reply.send(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };
  return (_request, reply, done) => {
    waiting.push({ proceed: done, reply });
    if (!scheduled) {
      scheduled = true;
      setImmediate(runWaiting);
    }
  };
}

interface Waiting {
  readonly proceed: () => void;
  readonly reply: FastifyReply;
}
