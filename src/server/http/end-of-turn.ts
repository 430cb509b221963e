import type { FastifyReply, preHandlerHookHandler } from "fastify";
import { endOfTurnQueue } from "../end-of-turn.ts";

/**
 * A `preHandler` hook that holds each request's handler until the end of the
 * current turn of the event loop, then runs the handlers of every request
 * that got this far in that turn one after the other, in arrival order (see
 * endOfTurnQueue; the gRPC server starts unary calls the same way). At 64
 * connections this was most of what an AuthZEN evaluation used to cost
 * beyond a route answering a fixed decision (docs/performance.md, HTTP).
 */
export function endOfTurnHook(): preHandlerHookHandler {
  const proceedAtEndOfTurn = endOfTurnQueue<Waiting>((w) => {
    // Fastify answers whatever a handler throws; this only keeps one request's failure from stranding the rest.
    try {
      w.proceed();
    } catch (error) {
      if (!w.reply.sent) void w.reply.send(error instanceof Error ? error : new Error(String(error)));
    }
  });
  return (_request, reply, done) => proceedAtEndOfTurn({ proceed: done, reply });
}

interface Waiting {
  readonly proceed: () => void;
  readonly reply: FastifyReply;
}
