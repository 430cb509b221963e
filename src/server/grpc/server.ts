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
