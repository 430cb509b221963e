import { once } from "node:events";
import { constants as http2, type ServerHttp2Stream } from "node:http2";
import {
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import {
  create,
  fromBinary,
  isMessage,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { peerCertificateOf, type PeerCertificate } from "../callers.ts";
import { endOfTurnQueue } from "../end-of-turn.ts";
import { invalidArgument, resourceExhausted, toStatusObject } from "./errors.ts";

export type { PeerCertificate } from "../callers.ts";

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** `/package.Service/Method`. */
  readonly method: string;
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** The client's deadline, if it set one. */
  readonly deadline: Date | undefined;
  /** Request headers. */
  readonly metadata: Metadata;
  /** The client's address. */
  readonly peer: string;
  /** The client certificate's subject and SANs under mutual TLS. */
  readonly peerCertificate: PeerCertificate | undefined;
  /**
   * Server streams only: ends the call now — with `error`'s status, or OK —
   * even while a write waits for a client that does not read (then the
   * stream is reset if the status cannot be sent in time). The handler's
   * iterator is closed once the call is gone.
   */
  readonly endStream?: ((error?: unknown) => void) | undefined;
}

type HandlerFor<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageShape<I>, context: CallContext) => Promise<MessageInitShape<O>>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (request: MessageShape<I>, context: CallContext) => AsyncIterable<MessageInitShape<O>>
    : never;

/** An implementation of a generated service: one handler per method, by local name. */
export type ServiceImpl<S> = S extends GenService<infer R extends GenServiceMethods> ? { [K in keyof R]: HandlerFor<R[K]> } : never;

/** Hooks around every call, for logging, metrics and caller checks. */
export interface CallHooks {
  /** Runs before the handler; throwing (e.g. an RpcError) refuses the call. */
  readonly before?: (context: CallContext, method: DescMethod) => void | Promise<void>;
  /** Unexpected (non-RpcError) failures, logged by the server. */
  readonly onInternalError?: (error: unknown, context: CallContext) => void;
  /** Every finished call with its status code. */
  readonly onDone?: (context: CallContext, code: status, durationMs: number) => void;
  /** Largest request message accepted (bytes); larger ones are RESOURCE_EXHAUSTED naming the limit. */
  readonly maxRequestBytes?: number;
  /**
   * How long an ended server stream may take to deliver its status (it waits
   * behind the data the client has not read) before the stream is reset.
   * Default 1000 ms.
   */
  readonly streamEndTimeoutMs?: number;
}

/** Hand-written encoders for hot response types, by message type name (they must match toBinary). */
export type ResponseEncoders = ReadonlyMap<string, (message: never) => Buffer>;

const NO_ENCODERS: ResponseEncoders = new Map();

/**
 * Hosts a protobuf-es service on grpc-js: builds the service definition (paths
 * `/package.Service/Method`, messages encoded with protobuf-es or a given
 * faster encoder) and wraps each handler with request decoding, cancellation,
 * error mapping and stream backpressure. Malformed request bytes are
 * INVALID_ARGUMENT.
 */
export function createServiceDefinition<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  hooks: CallHooks = {},
  encoders: ResponseEncoders = NO_ENCODERS,
): { definition: ServiceDefinition; handlers: UntypedServiceImplementation } {
  const definition: Record<string, ServiceDefinition[string]> = {};
  const handlers: UntypedServiceImplementation = {};
  const handlerOf = impl as unknown as Record<string, (req: unknown, ctx: CallContext) => unknown>;
  for (const method of service.methods) {
    if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") {
      throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} methods are not supported`);
    }
    const handler = handlerOf[method.localName];
    if (typeof handler !== "function") throw new Error(`${service.typeName}.${method.name} has no handler`);
    const path = `/${service.typeName}/${method.name}`;
    const output = method.output;
    const fast = encoders.get(output.typeName) as ((message: unknown) => Buffer) | undefined;
    definition[method.localName] = {
      path,
      requestStream: false,
      responseStream: method.methodKind === "server_streaming",
      // Requests are decoded inside the handler, where a decoding error can become INVALID_ARGUMENT.
      requestDeserialize: (bytes: Buffer) => bytes,
      requestSerialize: (bytes: Buffer) => bytes,
      responseSerialize:
        fast ??
        ((message: unknown) =>
          Buffer.from(toBinary(output, isMessage(message, output) ? message : create(output, message as MessageInitShape<DescMessage>)))),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
    handlers[method.localName] =
      method.methodKind === "unary"
        ? unaryHandler(path, method, handler as (req: unknown, ctx: CallContext) => Promise<unknown>, hooks)
        : streamHandler(path, method, handler as (req: unknown, ctx: CallContext) => AsyncIterable<unknown>, hooks);
  }
  return { definition: definition as ServiceDefinition, handlers };
}

function unaryHandler(
  path: string,
  method: DescMethod,
  handler: (req: unknown, ctx: CallContext) => Promise<unknown>,
  hooks: CallHooks,
): handleUnaryCall<Buffer, unknown> {
  // One `start` per method, queued with each call (see startAtEndOfTurn).
  const start: StartUnary = (call, callback, arrived) => {
    const ctx = contextOf(path, call);
    runUnary(method, handler, hooks, ctx, call.request).then(
      (response) => {
        hooks.onDone?.(ctx, status.OK, performance.now() - arrived);
        callback(null, response);
      },
      (error: unknown) => {
        const s = toStatusObject(error, (e) => hooks.onInternalError?.(e, ctx));
        hooks.onDone?.(ctx, s.code ?? status.UNKNOWN, performance.now() - arrived);
        callback(s as never, null);
      },
    );
  };
  return (call, callback) => startAtEndOfTurn({ start, call, callback, arrived: performance.now() });
}

type StartUnary = (call: ServerUnaryCall<Buffer, unknown>, callback: sendUnaryData<unknown>, arrived: number) => void;

interface QueuedCall {
  readonly start: StartUnary;
  readonly call: ServerUnaryCall<Buffer, unknown>;
  readonly callback: sendUnaryData<unknown>;
  /** performance.now() when grpc-js handed the call over. */
  readonly arrived: number;
}

/**
 * Unary calls that arrive in one turn of the event loop (one read of a
 * connection brings many) are started together at its end, in arrival order,
 * rather than each in between grpc-js' work on the others (see
 * endOfTurnQueue): measured, 1.5–3 % more calls per second under load, and
 * no change for a server doing nothing per call. `start` never throws
 * (runUnary is async), so one call cannot stop the others.
 */
const startAtEndOfTurn = endOfTurnQueue<QueuedCall>((c) => c.start(c.call, c.callback, c.arrived));

/** Checks the caller (before the request is even decoded), decodes, handles. */
async function runUnary(
  method: DescMethod,
  handler: (req: unknown, ctx: CallContext) => Promise<unknown>,
  hooks: CallHooks,
  ctx: CallContext,
  bytes: Buffer,
): Promise<unknown> {
  if (hooks.before !== undefined) await hooks.before(ctx, method);
  return handler(decode(method, bytes, hooks.maxRequestBytes), ctx);
}

function streamHandler(
  path: string,
  method: DescMethod,
  handler: (req: unknown, ctx: CallContext) => AsyncIterable<unknown>,
  hooks: CallHooks,
): handleServerStreamingCall<Buffer, unknown> {
  const endTimeoutMs = hooks.streamEndTimeoutMs ?? 1000;
  return (call) => {
    const started = performance.now();
    /** Set by endStream: the call is to end now, with this error (undefined: OK). */
    let stop: { error: unknown } | undefined;
    let wakeForStop: (() => void) | undefined;
    const ctx = contextOf(path, call, (error) => {
      if (stop !== undefined) return;
      stop = { error };
      wakeForStop?.();
    });
    let ended = false;
    /** Ends the call once: its status, then a reset if the status cannot get out in time. */
    const end = (error: unknown): void => {
      if (ended) return;
      ended = true;
      const cancelled = ctx.signal.aborted;
      let code: status;
      if (error === undefined) {
        code = cancelled ? status.CANCELLED : status.OK;
        if (!cancelled) call.end();
      } else {
        const s = toStatusObject(error, (e) => hooks.onInternalError?.(e, ctx));
        code = s.code ?? status.UNKNOWN;
        if (!cancelled) call.emit("error", s);
      }
      hooks.onDone?.(ctx, cancelled ? status.CANCELLED : code, performance.now() - started);
      if (!cancelled) resetIfStillOpen(call, endTimeoutMs, code);
    };
    void (async () => {
      let iterator: AsyncIterator<unknown> | undefined;
      let cancelled: Promise<void> | undefined;
      try {
        await hooks.before?.(ctx, method);
        iterator = handler(decode(method, call.request, hooks.maxRequestBytes), ctx)[Symbol.asyncIterator]();
        for (;;) {
          if (stop !== undefined || ctx.signal.aborted) break;
          const next = await iterator.next();
          if (next.done === true) {
            iterator = undefined;
            break;
          }
          if (stop !== undefined || ctx.signal.aborted) break;
          // Respect backpressure: a slow client holds the producer, not memory.
          if (!call.write(next.value)) {
            cancelled ??= aborted(ctx.signal);
            await Promise.race([once(call, "drain"), cancelled, new Promise<void>((resolve) => (wakeForStop = resolve))]);
            wakeForStop = undefined;
          }
        }
        end(stop?.error);
      } catch (error) {
        // A handler whose iterator threw has finished.
        iterator = undefined;
        end(error);
      }
      // The handler's cleanup (an audit subscription leaving the count) waits until the call is gone.
      if (iterator?.return !== undefined) {
        await gone(call);
        await iterator.return().catch((e: unknown) => hooks.onInternalError?.(e, ctx));
      }
    })();
  };
}

/**
 * A status waits behind the messages the client has not read (HTTP/2 flow
 * control holds them), so a client that never reads would keep the call, and
 * what it holds, forever. After `ms` the stream is reset instead:
 * ENHANCE_YOUR_CALM for RESOURCE_EXHAUSTED (which gRPC clients read as
 * RESOURCE_EXHAUSTED), CANCEL otherwise.
 */
function resetIfStillOpen(call: ServerWritableStream<Buffer, unknown>, ms: number, code: status): void {
  if (call.destroyed) return;
  const timer = setTimeout(() => {
    const stream = http2StreamOf(call);
    if (stream !== undefined && !stream.closed) stream.close(code === status.RESOURCE_EXHAUSTED ? http2.NGHTTP2_ENHANCE_YOUR_CALM : http2.NGHTTP2_CANCEL);
  }, ms);
  timer.unref();
  call.once("close", () => clearTimeout(timer));
}

/**
 * The HTTP/2 stream under a grpc-js call. grpc-js offers no public way to
 * reset a server stream; its call objects hold the stream (the call, or the
 * calls its interceptors wrap). A test checks this still works.
 */
function http2StreamOf(call: ServerWritableStream<Buffer, unknown>): ServerHttp2Stream | undefined {
  let inner = (call as unknown as { call?: unknown }).call;
  for (let depth = 0; inner !== null && typeof inner === "object" && depth < 8; depth++) {
    const stream = (inner as { stream?: unknown }).stream;
    if (stream !== null && typeof stream === "object" && typeof (stream as ServerHttp2Stream).close === "function" && "rstCode" in stream) return stream as ServerHttp2Stream;
    inner = (inner as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/** Resolves when the call is over: its status sent, or its stream reset or cancelled. */
function gone(call: ServerWritableStream<Buffer, unknown>): Promise<void> {
  return call.destroyed ? Promise.resolve() : once(call, "close").then(() => undefined);
}

/** The request message; too many bytes are RESOURCE_EXHAUSTED, malformed ones INVALID_ARGUMENT. */
function decode(method: DescMethod, bytes: Buffer, maxBytes: number | undefined): unknown {
  if (maxBytes !== undefined && bytes.length > maxBytes) {
    throw resourceExhausted(`request is ${bytes.length} bytes; the limit is ${maxBytes} (limits.max_message_bytes)`, {
      reason: "REQUEST_TOO_LARGE",
      metadata: { limit: String(maxBytes) },
    });
  }
  try {
    return fromBinary(method.input, bytes);
  } catch (error) {
    throw invalidArgument("request", `not a valid ${method.input.typeName}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : once(signal, "abort").then(() => undefined);
}

function contextOf(
  path: string,
  call: ServerUnaryCall<Buffer, unknown> | ServerWritableStream<Buffer, unknown>,
  endStream?: (error?: unknown) => void,
): CallContext {
  // Built lazily: most unary handlers never look at the signal, and an
  // AbortController plus a 'cancelled' listener per call costs a measurable
  // share of a fast call.
  let controller: AbortController | undefined;
  return {
    method: path,
    get signal() {
      if (controller === undefined) {
        controller = new AbortController();
        const c = controller;
        if (call.cancelled) c.abort();
        else call.once("cancelled", () => c.abort());
      }
      return controller.signal;
    },
    get deadline() {
      const raw = call.getDeadline();
      return raw instanceof Date ? raw : Number.isFinite(raw) ? new Date(raw) : undefined;
    },
    metadata: call.metadata,
    get peer() {
      return call.getPeer();
    },
    get peerCertificate() {
      return peerCertificate(call);
    },
    endStream,
  };
}

function peerCertificate(call: ServerUnaryCall<Buffer, unknown> | ServerWritableStream<Buffer, unknown>): PeerCertificate | undefined {
  return peerCertificateOf(call.getAuthContext?.()?.sslPeerCertificate);
}
