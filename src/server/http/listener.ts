/**
 * The HTTP/1.1 listener beside the gRPC server (Fastify): the AuthZEN API
 * and its access requests, and later the console. It owns what every route
 * group shares — TLS, JSON-only bodies with a size limit, `X-Request-ID`,
 * error answers, request metrics, handlers run together at the end of each
 * event-loop turn, graceful close — and registers each route
 * group as its own plugin. No decision logic lives here.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { readPem } from "../../client/tls.ts";
import type { TlsFiles } from "../grpc/tls.ts";
import type { Logger } from "../logger.ts";
import { endOfTurnHook } from "./end-of-turn.ts";
import { HttpError, httpErrorHandler } from "./errors.ts";
import { requestIdHook } from "./request-id.ts";
import type { HttpRouteGroup } from "./route-group.ts";

/** Options for {@link startHttpListener}. */
export interface HttpListenerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** 0 picks a free port. */
  readonly port: number;
  /** Serve HTTPS with these files (the same as gRPC's); with `clientCa`, clients must present a certificate it signed. */
  readonly tls?: TlsFiles | undefined;
  /** Largest request body in bytes; larger ones are 413 naming `limits.max_message_bytes`. */
  readonly maxBodyBytes: number;
  /** Longest `X-Request-ID` accepted (`limits.max_string_length`). */
  readonly maxRequestIdLength: number;
  readonly logger: Logger;
  /** Registered in order, each in its own encapsulated scope. */
  readonly groups: readonly HttpRouteGroup[];
  /** Sees every answered request: its route pattern (`unmatched` for none), status and duration. */
  readonly onResponse?: ((route: string, status: number, seconds: number) => void) | undefined;
}

/** A running listener. */
export interface RunningHttpListener {
  readonly port: number;
  /** `host:port` as clients reach it. */
  readonly address: string;
  /** `http://host:port` or `https://host:port`. */
  readonly url: string;
  readonly app: FastifyInstance;
  /** Stops accepting requests, lets those in flight finish for up to `graceMs`, then closes every connection. */
  close(graceMs: number): Promise<void>;
}

/** Starts the listener with its route groups; rejects when the port cannot be bound. */
export async function startHttpListener(options: HttpListenerOptions): Promise<RunningHttpListener> {
  const tls = options.tls;
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    // A slow client cannot hold a connection open forever with a request it never finishes.
    requestTimeout: 30_000,
    return503OnClosing: true,
    // Schema validation exactly as written: no type coercion, nothing added or removed.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } },
    ...(tls === undefined
      ? {}
      : {
          https: {
            cert: readPem(tls.cert, "certificate"),
            key: readPem(tls.key, "private key"),
            ...(tls.clientCa === undefined ? {} : { ca: readPem(tls.clientCa, "client CA"), requestCert: true, rejectUnauthorized: true }),
          },
        }),
  }) as unknown as FastifyInstance;

  // JSON is the only body this API takes: no text/plain parser to accept `"{}"` as a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, app.getDefaultJsonParser("error", "error"));
  app.decorateRequest("callerName", undefined);
  app.decorateRequest("clientRequestId", undefined);
  app.addHook("onRequest", requestIdHook(options.maxRequestIdLength));
  // Handlers of the requests that became ready in one event-loop turn run together at its end (see endOfTurnHook).
  app.addHook("preHandler", endOfTurnHook());
  const onResponse = options.onResponse;
  if (onResponse !== undefined) {
    app.addHook("onResponse", (request, reply, done) => {
      onResponse(request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  app.setErrorHandler(httpErrorHandler(options.logger, options.maxBodyBytes));
  app.setNotFoundHandler((request, reply) => {
    const error = new HttpError(404, `no route for ${request.method} ${request.url.split("?")[0]}`);
    void reply.code(404).send({ error: error.message });
  });
  for (const group of options.groups) await app.register(async (scope) => group.register(scope), { name: group.name } as never);

  const host = options.host ?? "127.0.0.1";
  await app.listen({ host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    port,
    address: `${hostPart}:${port}`,
    url: `${tls === undefined ? "http" : "https"}://${hostPart}:${port}`,
    app,
    close: (graceMs) =>
      (closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
        void app.close().then(() => {
          clearTimeout(timer);
          resolve();
        });
      })),
  };
}
