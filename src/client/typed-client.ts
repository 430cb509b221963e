import { Client, credentials, Metadata, status, type CallOptions, type ChannelCredentials, type ClientOptions, type ServiceError } from "@grpc/grpc-js";
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.ts";
import { StatusSchema } from "../../gen/google/rpc/status_pb.ts";
import type { Code } from "./code.ts";
import { ClientError, type FieldViolation } from "./client-error.ts";
import { readCertificatePem, readPrivateKeyPem } from "./tls.ts";

/** Per-call options. */
export interface RequestOptions {
  /** Milliseconds before the call fails with DEADLINE_EXCEEDED; Infinity for none. */
  readonly deadlineMs?: number;
  /** Aborting cancels the call. */
  readonly signal?: AbortSignal;
  /** Extra request headers (e.g. `authorization: Bearer …`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

type MethodFor<M> = M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageInitShape<I>, options?: RequestOptions) => Promise<MessageShape<O>>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (request: MessageInitShape<I>, options?: RequestOptions) => AsyncIterable<MessageShape<O>>
    : never;

/** A typed client for a generated service: one method per RPC, by local name. */
export type TypedClient<S> = S extends GenService<infer R extends GenServiceMethods> ? { [K in keyof R]: MethodFor<R[K]> } : never;

/** The deadline of a unary call when neither the call nor the client sets one. */
export const DEFAULT_DEADLINE_MS = 5000;

/** How to reach a server. */
export interface ConnectOptions {
  /**
   * TLS (with `ca` to trust a private CA; with `cert`/`key` for mutual TLS;
   * `serverName` to check the server's certificate against another name than
   * the address, e.g. when connecting by IP). Default: plaintext.
   */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly serverName?: string };
  /**
   * Deadline of every unary call (ms) unless the call sets its own. Default
   * {@link DEFAULT_DEADLINE_MS}; Infinity for none. Streams have none by default.
   */
  readonly deadlineMs?: number;
  /** Deadline of every call, streams included, unless the call sets its own. Overrides `deadlineMs`. */
  readonly defaultDeadlineMs?: number;
  /** Sent with every call (e.g. a bearer token). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly channelOptions?: ClientOptions;
}

/** Channel credentials from connect options. */
export function channelCredentials(options: ConnectOptions): ChannelCredentials {
  const tls = options.tls;
  if (tls === undefined) return credentials.createInsecure();
  return credentials.createSsl(
    tls.ca === undefined ? null : readCertificatePem(tls.ca, "CA"),
    tls.key === undefined ? null : readPrivateKeyPem(tls.key, "client key"),
    tls.cert === undefined ? null : readCertificatePem(tls.cert, "client certificate"),
  );
}

/**
 * A typed client for one protobuf-es service over grpc-js. Unary methods
 * return promises; server-streaming methods return async iterables that
 * cancel the call when the consumer stops iterating or the signal aborts.
 * Errors are ClientErrors with google.rpc details decoded.
 */
export function createTypedClient<S extends DescService>(service: S, channel: Client, defaults: ConnectOptions = {}): TypedClient<S> {
  const out: Record<string, unknown> = {};
  for (const method of service.methods) {
    const path = `/${service.typeName}/${method.name}`;
    const serialize = (m: unknown): Buffer => Buffer.from(toBinary(method.input, create(method.input, m as MessageInitShape<DescMessage>)));
    const deserialize = (b: Buffer): unknown => fromBinary(method.output, b);
    if (method.methodKind === "unary") {
      out[method.localName] = (request: unknown, options: RequestOptions = {}) =>
        new Promise((resolve, reject) => {
          const call = channel.makeUnaryRequest(path, serialize, deserialize, request, metadataOf(defaults, options), callOptions(defaults, options, "unary"), (error: ServiceError | null, response?: unknown) =>
            // A call no connection ever took still reports the channel's target as its peer.
            error ? reject(toClientError(error, call.getPeer() !== channel.getChannel().getTarget())) : resolve(response),
          );
          options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        });
    } else if (method.methodKind === "server_streaming") {
      out[method.localName] = (request: unknown, options: RequestOptions = {}) => streamOf(channel, path, method, serialize, deserialize, request, defaults, options);
    }
  }
  return out as TypedClient<S>;
}

/**
 * Starts the call at once (so a subscription misses nothing between the call
 * and the first read) and returns it as an async iterable.
 */
function streamOf(
  channel: Client,
  path: string,
  _method: DescMethod,
  serialize: (m: unknown) => Buffer,
  deserialize: (b: Buffer) => unknown,
  request: unknown,
  defaults: ConnectOptions,
  options: RequestOptions,
): AsyncIterable<never> {
  const call = channel.makeServerStreamRequest(path, serialize, deserialize, request, metadataOf(defaults, options), callOptions(defaults, options, "stream"));
  const onAbort = (): void => call.cancel();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const message of call) yield message as never;
      } catch (error) {
        if ((error as ServiceError).code === status.CANCELLED && options.signal?.aborted) return;
        throw toClientError(error as ServiceError);
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
        // Stopping early (break/return) must end the call on the server too.
        call.cancel();
      }
    },
  };
}

function metadataOf(defaults: ConnectOptions, options: RequestOptions): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries({ ...defaults.metadata, ...options.metadata })) m.set(k, v);
  return m;
}

function callOptions(defaults: ConnectOptions, options: RequestOptions, kind: "unary" | "stream"): CallOptions {
  const ms = options.deadlineMs ?? defaults.defaultDeadlineMs ?? (kind === "unary" ? (defaults.deadlineMs ?? DEFAULT_DEADLINE_MS) : undefined);
  return ms === undefined || ms === Infinity ? {} : { deadline: Date.now() + ms };
}

/** Decodes a failed call's status and its google.rpc details (`sent`: whether a connection took the request). */
export function toClientError(error: ServiceError, sent?: boolean): ClientError {
  const violations: FieldViolation[] = [];
  let info: ClientError["errorInfo"];
  const bin = error.metadata?.get("grpc-status-details-bin")[0];
  if (bin instanceof Buffer) {
    try {
      const s = fromBinary(StatusSchema, bin);
      for (const d of s.details) {
        const bad = anyUnpack(d, BadRequestSchema);
        if (bad !== undefined) for (const v of bad.fieldViolations) violations.push({ field: v.field, description: v.description });
        const ei = anyUnpack(d, ErrorInfoSchema);
        if (ei !== undefined) info = { reason: ei.reason, metadata: { ...ei.metadata } };
      }
    } catch {
      // Undecodable details: the code and message still say what happened.
    }
  }
  return new ClientError((error.code ?? status.UNKNOWN) as Code, error.details ?? error.message, violations, info, error.metadata, sent);
}
