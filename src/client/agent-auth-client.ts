import { Client, type ClientOptions } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { JsonObject } from "@bufbuild/protobuf";
import { ApprovalService } from "../../gen/agentauth/v1/approval_pb.ts";
import { AuditService } from "../../gen/agentauth/v1/audit_pb.ts";
import { AuthorizationService } from "../../gen/agentauth/v1/authorization_pb.ts";
import { Effect, Tier } from "../../gen/agentauth/v1/decision_pb.ts";
import { DelegationService } from "../../gen/agentauth/v1/delegation_pb.ts";
import { PolicyService } from "../../gen/agentauth/v1/policy_pb.ts";
import { SessionService } from "../../gen/agentauth/v1/session_pb.ts";
import type { CreateDelegationInput, CreateSessionInput, Revocation } from "../engine/grants.ts";
import { isInvalidRequestError } from "../model/errors.ts";
import { MAX_METADATA_DEPTH, normalizeRequest } from "../model/request.ts";
import type { AuthDecision, DelegationGrant, Session } from "../model/types.ts";
import type { ListFilter } from "../state/store.ts";
import { AgentAuthError } from "./agent-auth-error.ts";
import { approvalsClient, type ApprovalsClient } from "./approvals-client.ts";
import { channelTarget, ROUND_ROBIN_OPTIONS } from "./channel-target.ts";
import type { Decider, DeciderRequest } from "./decider.ts";
import { auditRecordFromWire, decisionFromWire, delegationFromWire, sessionFromWire, type AuditRecord } from "./from-wire.ts";
import type { TierName } from "./names.ts";
import { retryPolicy, toAgentAuthError, withRetry, type RetryOptions } from "./retry.ts";
import { channelCredentials, createTypedClient, DEFAULT_DEADLINE_MS, type ConnectOptions, type RequestOptions, type TypedClient } from "./typed-client.ts";

/** How {@link createAgentAuthClient} connects, and how its calls behave. */
export interface AgentAuthClientOptions extends ConnectOptions {
  /** The server, `host:port`. */
  readonly address?: string;
  /**
   * Several replicas, balanced call by call (grpc-js `round_robin`); a replica
   * that is down is skipped. IP literals of one family (`127.0.0.1:50051`);
   * for host names give one DNS name (`address`) that resolves to every replica.
   */
  readonly addresses?: readonly string[];
  /** Bearer token sent with every call (`authorization: Bearer …`). */
  readonly token?: string;
  /** Retries of calls that never reached a server. Default: 4 attempts, 50 ms backoff doubling to 1 s; false: none. */
  readonly retry?: RetryOptions | false;
}

/** Which audit records to receive; absent or empty fields match everything. */
export interface AuditFilterOptions {
  readonly agents?: readonly string[];
  readonly users?: readonly string[];
  readonly actions?: readonly string[];
  readonly effect?: "allow" | "deny";
  /** Only allows with these tiers. */
  readonly tiers?: readonly TierName[];
}

/** A page request of past decisions. */
export interface AuditQuery {
  readonly filter?: AuditFilterOptions;
  readonly since?: Date | string;
  readonly until?: Date | string;
  /** 1 to 1000; default 100. */
  readonly pageSize?: number;
  /** `nextPageToken` of the previous page. */
  readonly pageToken?: string;
}

/** A page of past decisions, oldest first. */
export interface AuditPage {
  readonly records: readonly AuditRecord[];
  /** "" on the last page. */
  readonly nextPageToken: string;
}

/** A live audit subscription. */
export interface AuditSubscription {
  readonly filter?: AuditFilterOptions;
  /** Resume after this cursor (the last one received); absent: from now; "0-0": all retained history first. */
  readonly afterCursor?: string;
}

/**
 * A client for an agent-auth server. The plain methods (`authorize`,
 * `createSession`, …, `subscribeAudit`) take and return the engine's shapes —
 * string tiers, ISO times, `undefined` / `not_found` for unknown ids — and
 * fail with {@link AgentAuthError}; the client is a {@link Decider}. The
 * per-service properties (`authorization`, `sessions`, …) are the typed gRPC
 * calls underneath, with the wire's messages and ClientError.
 */
export interface AgentAuthClient extends Decider {
  /** Decides one request. A deny is a decision; only a failure to decide rejects. */
  authorize(request: DeciderRequest, options?: RequestOptions): Promise<AuthDecision>;
  createSession(input: CreateSessionInput, options?: RequestOptions): Promise<Session>;
  /** The session, revoked or not, until it expires; undefined when unknown or expired. */
  getSession(sessionId: string, options?: RequestOptions): Promise<Session | undefined>;
  /** Every matching session (all pages), oldest first. */
  listSessions(filter?: ListFilter, options?: RequestOptions): Promise<Session[]>;
  revokeSession(sessionId: string, options?: RequestOptions): Promise<Revocation<Session>>;
  /** Fails with `FAILED_PRECONDITION` (the original's "Delegation validation failed:" message) when the policy refuses it. */
  createDelegation(input: CreateDelegationInput, options?: RequestOptions): Promise<DelegationGrant>;
  /** Every matching delegation (all pages), oldest first. */
  listDelegations(filter?: ListFilter, options?: RequestOptions): Promise<DelegationGrant[]>;
  revokeDelegation(delegationId: string, options?: RequestOptions): Promise<Revocation<DelegationGrant>>;
  queryAudit(query?: AuditQuery, options?: RequestOptions): Promise<AuditPage>;
  /**
   * Live decisions as they are made. The call starts at once; stopping the
   * iteration (or aborting `options.signal`) ends it. No deadline by default.
   */
  subscribeAudit(subscription?: AuditSubscription, options?: RequestOptions): AsyncIterable<AuditRecord>;

  readonly authorization: TypedClient<typeof AuthorizationService>;
  readonly sessions: TypedClient<typeof SessionService>;
  readonly delegations: TypedClient<typeof DelegationService>;
  readonly audit: TypedClient<typeof AuditService>;
  readonly policy: TypedClient<typeof PolicyService>;
  /** The typed ApprovalService calls (wire messages); `approvals` has the plain ones. */
  readonly approvalService: TypedClient<typeof ApprovalService>;
  /** Approvals with the engine's shapes: request, get, list, decide, cancel, watch. */
  readonly approvals: ApprovalsClient;
  /** Waits until connected, or fails after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Closes the connection; calls in flight fail with CANCELLED. */
  close(): void;
}

/** Metadata is checked here for shape only; the server applies its own limits. */
const SHAPE_ONLY = { maxStringLength: Infinity, maxMetadataEntries: Infinity, maxMetadataDepth: MAX_METADATA_DEPTH };

/**
 * Connects to an agent-auth server: `createAgentAuthClient("host:port")` or
 * `createAgentAuthClient({ addresses, token, tls, deadlineMs, retry })`. The
 * connection is made on first use and re-made after failures.
 *
 * Every unary call has a deadline (`deadlineMs`, default 5 s). A call is
 * retried only when it failed UNAVAILABLE before any connection took it, so
 * no server can have seen it; anything else fails at once.
 */
export function createAgentAuthClient(target: string | AgentAuthClientOptions, more: AgentAuthClientOptions = {}): AgentAuthClient {
  const options: AgentAuthClientOptions = typeof target === "string" ? { ...more, address: target } : target;
  const addresses = options.addresses ?? (options.address === undefined ? [] : [options.address]);
  const tls = options.tls;
  const channelOptions: ClientOptions = {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    // A server back after an outage is found within seconds, not grpc-js's default of up to two minutes.
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 5000,
    ...ROUND_ROBIN_OPTIONS,
    ...(tls?.serverName === undefined ? {} : { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName }),
    ...options.channelOptions,
  };
  const channel = new Client(channelTarget(addresses), channelCredentials(options), channelOptions);
  const connect: ConnectOptions = {
    ...options,
    metadata: { ...options.metadata, ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) },
  };
  const rpc = {
    authorization: createTypedClient(AuthorizationService, channel, connect),
    sessions: createTypedClient(SessionService, channel, connect),
    delegations: createTypedClient(DelegationService, channel, connect),
    audit: createTypedClient(AuditService, channel, connect),
    policy: createTypedClient(PolicyService, channel, connect),
    approvalService: createTypedClient(ApprovalService, channel, connect),
  };
  const policy = retryPolicy(options.retry);
  const unaryDeadline = options.defaultDeadlineMs ?? options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const call = <T>(work: (o: RequestOptions) => Promise<T>, o: RequestOptions = {}): Promise<T> =>
    withRetry((deadlineMs) => work({ ...o, deadlineMs }), { policy, deadlineMs: o.deadlineMs ?? unaryDeadline, signal: o.signal });
  const unlessNotFound = async <T, U>(work: Promise<T>, notFound: U): Promise<T | U> => {
    try {
      return await work;
    } catch (error) {
      if (error instanceof AgentAuthError && error.code === "NOT_FOUND") return notFound;
      throw error;
    }
  };
  const allPages = async <T>(fetch: (pageToken: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> => {
    const out: T[] = [];
    let token = "";
    do {
      const page = await fetch(token);
      out.push(...page.items);
      token = page.next;
    } while (token !== "");
    return out;
  };

  const approvals = approvalsClient(rpc.approvalService, call, checkRequest);

  return {
    ...rpc,
    approvals,
    requestApproval: (request, o?: RequestOptions) => approvals.request(request, o),
    getApproval: (approvalId, o?: RequestOptions) => approvals.get(approvalId, o),
    async authorize(request, o) {
      const req = checkRequest(request);
      const r = await call(
        (c) =>
          rpc.authorization.authorize(
            {
              agent: req.agent,
              user: req.user,
              action: req.action,
              resource: req.resource,
              scope: req.scope,
              targetAgent: req.targetAgent,
              sessionId: req.sessionId,
              metadata: req.metadata as JsonObject,
              approvalId: request.approvalId ?? "",
            },
            c,
          ),
        o,
      );
      return decisionFromWire(r.decision);
    },
    async createSession(input, o) {
      const r = await call((c) => rpc.sessions.createSession({ agent: input.agent, user: input.user, scope: input.scope ?? "", ...seconds(input.duration) }, c), o);
      return sessionFromWire(r.session!);
    },
    getSession: (sessionId, o) => unlessNotFound(call((c) => rpc.sessions.getSession({ sessionId }, c), o).then((r) => sessionFromWire(r.session!)), undefined),
    listSessions: (filter = {}, o) =>
      allPages(async (pageToken) => {
        const r = await call((c) => rpc.sessions.listSessions({ agent: filter.agent ?? "", user: filter.user ?? "", includeRevoked: filter.includeRevoked === true, pageSize: 1000, pageToken }, c), o);
        return { items: r.sessions.map(sessionFromWire), next: r.nextPageToken };
      }),
    revokeSession: (sessionId, o) =>
      unlessNotFound(
        call((c) => rpc.sessions.revokeSession({ sessionId }, c), o).then((r): Revocation<Session> => ({ status: r.alreadyRevoked ? "already_revoked" : "revoked", record: sessionFromWire(r.session!) })),
        { status: "not_found" } as const,
      ),
    async createDelegation(input, o) {
      const r = await call(
        (c) => rpc.delegations.createDelegation({ fromUser: input.fromUser, toAgent: input.toAgent, actions: [...input.actions], reason: input.reason ?? "", ...seconds(input.duration) }, c),
        o,
      );
      return delegationFromWire(r.delegation!);
    },
    listDelegations: (filter = {}, o) =>
      allPages(async (pageToken) => {
        const r = await call(
          (c) => rpc.delegations.listDelegations({ agent: filter.agent ?? "", user: filter.user ?? "", includeRevoked: filter.includeRevoked === true, pageSize: 1000, pageToken }, c),
          o,
        );
        return { items: r.delegations.map(delegationFromWire), next: r.nextPageToken };
      }),
    revokeDelegation: (delegationId, o) =>
      unlessNotFound(
        call((c) => rpc.delegations.revokeDelegation({ delegationId }, c), o).then((r): Revocation<DelegationGrant> => ({
          status: r.alreadyRevoked ? "already_revoked" : "revoked",
          record: delegationFromWire(r.delegation!),
        })),
        { status: "not_found" } as const,
      ),
    async queryAudit(query = {}, o) {
      const r = await call(
        (c) =>
          rpc.audit.query(
            {
              filter: filterToWire(query.filter),
              ...(query.since === undefined ? {} : { since: timestampFromDate(new Date(query.since)) }),
              ...(query.until === undefined ? {} : { until: timestampFromDate(new Date(query.until)) }),
              pageSize: query.pageSize ?? 0,
              pageToken: query.pageToken ?? "",
            },
            c,
          ),
        o,
      );
      return { records: r.events.map(auditRecordFromWire), nextPageToken: r.nextPageToken };
    },
    subscribeAudit(subscription = {}, o = {}) {
      const stream = rpc.audit.subscribe({ filter: filterToWire(subscription.filter), afterCursor: subscription.afterCursor ?? "" }, { deadlineMs: Infinity, ...o });
      return {
        async *[Symbol.asyncIterator]() {
          try {
            for await (const r of stream) if (r.event !== undefined) yield auditRecordFromWire(r.event);
          } catch (error) {
            throw toAgentAuthError(error);
          }
        },
      };
    },
    ready: (timeoutMs) =>
      new Promise<void>((resolve, reject) =>
        channel.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(new AgentAuthError("UNAVAILABLE", `not connected within ${timeoutMs} ms: ${error.message}`)) : resolve())),
      ),
    close: () => channel.close(),
  };
}

/** The request checked for shape as the engine checks it, so a bad one fails before it is sent. */
function checkRequest(request: DeciderRequest): ReturnType<typeof normalizeRequest> {
  try {
    return normalizeRequest(request, SHAPE_ONLY);
  } catch (error) {
    if (!isInvalidRequestError(error)) throw error;
    throw new AgentAuthError("INVALID_ARGUMENT", error.message, { fieldViolations: [{ field: error.field, description: error.problem }] });
  }
}

function seconds(duration: number | null | undefined): { durationSeconds?: bigint } {
  if (duration === undefined || duration === null) return {};
  if (!Number.isInteger(duration)) throw new AgentAuthError("INVALID_ARGUMENT", `duration: must be a whole number of seconds, got ${duration}`, { fieldViolations: [{ field: "duration", description: "must be a whole number of seconds" }] });
  return { durationSeconds: BigInt(duration) };
}

const TIER_OF: Readonly<Record<TierName, Tier>> = { autonomous: Tier.AUTONOMOUS, soft: Tier.SOFT, strong: Tier.STRONG };

function filterToWire(f: AuditFilterOptions | undefined) {
  return {
    agents: [...(f?.agents ?? [])],
    users: [...(f?.users ?? [])],
    actions: [...(f?.actions ?? [])],
    effect: f?.effect === "allow" ? Effect.ALLOW : f?.effect === "deny" ? Effect.DENY : Effect.UNSPECIFIED,
    tiers: (f?.tiers ?? []).map((t) => TIER_OF[t]),
  };
}

