import { Client } from "@grpc/grpc-js";
import { AuditService } from "../../gen/agentauth/v1/audit_pb.ts";
import { AuthorizationService } from "../../gen/agentauth/v1/authorization_pb.ts";
import { DelegationService } from "../../gen/agentauth/v1/delegation_pb.ts";
import { PolicyService } from "../../gen/agentauth/v1/policy_pb.ts";
import { SessionService } from "../../gen/agentauth/v1/session_pb.ts";
import { channelCredentials, createTypedClient, type ConnectOptions, type TypedClient } from "./typed-client.ts";

/** Clients for the five services over one connection. */
export interface AgentAuthClient {
  readonly authorization: TypedClient<typeof AuthorizationService>;
  readonly sessions: TypedClient<typeof SessionService>;
  readonly delegations: TypedClient<typeof DelegationService>;
  readonly audit: TypedClient<typeof AuditService>;
  readonly policy: TypedClient<typeof PolicyService>;
  /** Waits until connected, or fails after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Closes the connection; calls in flight fail with CANCELLED. */
  close(): void;
}

/** Connects to an agent-auth server at `target` (`host:port`). The connection is made on first use. */
export function createAgentAuthClient(target: string, options: ConnectOptions = {}): AgentAuthClient {
  const channel = new Client(target, channelCredentials(options), {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    ...options.channelOptions,
  });
  return {
    authorization: createTypedClient(AuthorizationService, channel, options),
    sessions: createTypedClient(SessionService, channel, options),
    delegations: createTypedClient(DelegationService, channel, options),
    audit: createTypedClient(AuditService, channel, options),
    policy: createTypedClient(PolicyService, channel, options),
    ready: (timeoutMs) =>
      new Promise<void>((resolve, reject) => channel.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve()))),
    close: () => channel.close(),
  };
}
