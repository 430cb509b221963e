import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { Server, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import { HealthService } from "./health.ts";
import { addReflection } from "./reflection.ts";
import { serverCredentials, type TlsFiles } from "./tls.ts";

/** A service ready to be hosted (see createServiceDefinition). */
export interface HostedService {
  readonly service: DescService;
  readonly definition: ServiceDefinition;
  readonly handlers: UntypedServiceImplementation;
}

/** Options for {@link startGrpcServer}. */
export interface GrpcServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 50051; 0 picks a free port. */
  readonly port?: number;
  readonly tls?: TlsFiles | undefined;
  /** Largest request accepted. Default 4 MiB. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest response sent. Default 16 MiB. */
  readonly maxSendMessageBytes?: number;
  readonly services: readonly HostedService[];
}

/** A running server. */
export interface RunningGrpcServer {
  readonly port: number;
  /** `host:port` as clients dial it. */
  readonly address: string;
  readonly health: HealthService;
  readonly server: Server;
  /**
   * Stops accepting calls, lets calls in flight finish for up to `graceMs`,
   * then cancels whatever remains. Resolves when the server is down.
   */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Starts a grpc-js server with the given services, standard health checking
 * and server reflection, message size limits and keepalive settings suited to
 * long-lived audit streams.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? 16 * 1024 * 1024,
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  });
  for (const s of options.services) server.addService(s.definition, s.handlers);
  const health = new HealthService(options.services.map((s) => s.service.typeName));
  health.addTo(server);
  addReflection(server, options.services.map((s) => s.service));
  const host = options.host ?? "127.0.0.1";
  const bindHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${bindHost}:${options.port ?? 50051}`, serverCredentials(options.tls), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  exposeRepeatedAuthorization(server);
  return {
    port,
    address: `${bindHost}:${port}`,
    health,
    server,
    shutdown: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/**
 * Node's HTTP/2 layer keeps only the first `authorization` header of a
 * request (it is a single-value header), so a request with two would be
 * judged by whichever came first. This hands every value on to the call's
 * metadata instead, where the caller check refuses a call with more than one.
 * It reaches the HTTP/2 servers through grpc-js internals (checked at start:
 * the server refuses to start rather than silently judge by the first).
 */
function exposeRepeatedAuthorization(server: Server): void {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) {
    throw new Error("cannot reach grpc-js' HTTP/2 servers to see repeated authorization headers (grpc-js internals changed)");
  }
  for (const http2Server of servers.keys() as IterableIterator<Http2Server>) http2Server.prependListener("stream", allAuthorizationValues);
}

function allAuthorizationValues(_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  let values: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i] === "authorization") (values ??= []).push(rawHeaders[i + 1]!);
  }
  // grpc-js reads this same object next and turns a list into one metadata entry per value.
  if (values !== undefined && values.length > 1) (headers as Record<string, unknown>)["authorization"] = values;
}
