import { Code, createAgentAuthClient, isClientError, type AgentAuthClient } from "../client/index.ts";
import { AuthEngine } from "../engine/auth-engine.ts";
import { isDelegationValidationError } from "../model/errors.ts";
import { createRedisStore, parseRedisTarget, redactRedisTarget } from "../state/redis/index.ts";
import type { GlobalOptions } from "./global-options.ts";
import { parseServerTarget } from "./server-target.ts";
import { loadPolicyOrReport } from "./load-policy.ts";
import { UsageError, type CliIo } from "./io.ts";
import { delegationView, delegationViewOf, sessionView, sessionViewOf, type DelegationView, type SessionView } from "./views.ts";

/** A revocation's outcome as the CLI reports it. */
export interface RevokeResult<T> {
  readonly status: "revoked" | "already_revoked" | "not_found";
  readonly record?: T;
}

/** A delegation the policy refused, with the original's message. */
export class DelegationRefusedError extends Error {}

/** Where the session and delegation commands act: a running server, or Redis directly. */
export interface Backend {
  createSession(i: { agent: string; user: string; scope: string; duration: number | undefined }): Promise<SessionView>;
  listSessions(f: { agent: string; user: string; includeRevoked: boolean }): Promise<SessionView[]>;
  revokeSession(id: string): Promise<RevokeResult<SessionView>>;
  createDelegation(i: { fromUser: string; toAgent: string; actions: string[]; duration: number | undefined; reason: string }): Promise<DelegationView>;
  listDelegations(f: { agent: string; user: string; includeRevoked: boolean }): Promise<DelegationView[]>;
  revokeDelegation(id: string): Promise<RevokeResult<DelegationView>>;
  /** The profile names of the policy in force; undefined when they cannot be read (no policy right). */
  profileNames(): Promise<ReadonlySet<string> | undefined>;
  close(): Promise<void>;
}

/** A client for `--server`, with the global TLS and token options. */
export function serverClient(g: GlobalOptions): AgentAuthClient {
  if (g.server === undefined) throw new UsageError("this needs --server HOST:PORT (or AGENT_AUTH_SERVER)");
  const server = parseServerTarget(g.server);
  if ((g.tlsCert === undefined) !== (g.tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  const tls =
    server.tls || g.tlsCa !== undefined || g.tlsCert !== undefined
      ? { ...(g.tlsCa === undefined ? {} : { ca: g.tlsCa }), ...(g.tlsCert === undefined ? {} : { cert: g.tlsCert }), ...(g.tlsKey === undefined ? {} : { key: g.tlsKey }) }
      : undefined;
  return createAgentAuthClient(server.target, {
    ...(tls === undefined ? {} : { tls }),
    ...(g.token === undefined ? {} : { metadata: { authorization: `Bearer ${g.token}` } }),
    defaultDeadlineMs: 10_000,
  });
}

/**
 * The backend for state commands: `--server` talks to a running server;
 * `--redis` works on the shared Redis state directly (with the policy file for
 * durations and delegation rules). Undefined (after printing why) when the
 * policy cannot be loaded.
 */
export async function openBackend(io: CliIo, g: GlobalOptions, command: string): Promise<Backend | undefined> {
  if (g.server !== undefined) return remoteBackend(serverClient(g));
  if (g.redis !== undefined) {
    const loaded = loadPolicyOrReport(io, g.configPath);
    if (loaded === undefined) return undefined;
    const store = createRedisStore({ connection: parseRedisTarget(g.redis), prefix: g.redisPrefix, onError: () => {} });
    try {
      await store.ready(REDIS_READY_MS);
    } catch (error) {
      // The client would otherwise keep reconnecting, and the process would never exit.
      await store.close();
      throw new Error(`cannot reach Redis at ${redactRedisTarget(g.redis)} (--redis / AGENT_AUTH_REDIS_URL): ${error instanceof Error ? error.message : String(error)}`);
    }
    return localBackend(new AuthEngine(loaded.config, { store }), () => store.close());
  }
  throw new UsageError(`${command} needs --server HOST:PORT (a running server) or --redis URL (the shared state); the embedded memory store does not outlive one command`, command);
}

/** How long a command waits for Redis to answer before it gives up (exit 1). */
const REDIS_READY_MS = 5000;

function remoteBackend(client: AgentAuthClient): Backend {
  const all = async <T>(fetch: (token: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> => {
    const out: T[] = [];
    let token = "";
    do {
      const page = await fetch(token);
      out.push(...page.items);
      token = page.next;
    } while (token !== "");
    return out;
  };
  const revoke = async <T>(work: () => Promise<{ record: T; alreadyRevoked: boolean }>): Promise<RevokeResult<T>> => {
    try {
      const r = await work();
      return { status: r.alreadyRevoked ? "already_revoked" : "revoked", record: r.record };
    } catch (error) {
      if (isClientError(error) && error.code === Code.NOT_FOUND) return { status: "not_found" };
      throw error;
    }
  };
  return {
    async createSession(i) {
      const r = await client.sessions.createSession({ agent: i.agent, user: i.user, scope: i.scope, ...(i.duration === undefined ? {} : { durationSeconds: BigInt(i.duration) }) });
      return sessionViewOf(r.session!);
    },
    listSessions: (f) =>
      all(async (pageToken) => {
        const r = await client.sessions.listSessions({ ...f, pageSize: 1000, pageToken });
        return { items: r.sessions.map(sessionViewOf), next: r.nextPageToken };
      }),
    revokeSession: (id) =>
      revoke(async () => {
        const r = await client.sessions.revokeSession({ sessionId: id });
        return { record: sessionViewOf(r.session!), alreadyRevoked: r.alreadyRevoked };
      }),
    async createDelegation(i) {
      try {
        const r = await client.delegations.createDelegation({ fromUser: i.fromUser, toAgent: i.toAgent, actions: i.actions, reason: i.reason, ...(i.duration === undefined ? {} : { durationSeconds: BigInt(i.duration) }) });
        return delegationViewOf(r.delegation!);
      } catch (error) {
        if (isClientError(error) && error.code === Code.FAILED_PRECONDITION) throw new DelegationRefusedError(error.details);
        throw error;
      }
    },
    listDelegations: (f) =>
      all(async (pageToken) => {
        const r = await client.delegations.listDelegations({ ...f, pageSize: 1000, pageToken });
        return { items: r.delegations.map(delegationViewOf), next: r.nextPageToken };
      }),
    revokeDelegation: (id) =>
      revoke(async () => {
        const r = await client.delegations.revokeDelegation({ delegationId: id });
        return { record: delegationViewOf(r.delegation!), alreadyRevoked: r.alreadyRevoked };
      }),
    async profileNames() {
      try {
        return new Set((await client.policy.describePolicy({})).profiles.map((p) => p.name));
      } catch {
        return undefined;
      }
    },
    close: async () => client.close(),
  };
}

function localBackend(engine: AuthEngine, closeStore: () => Promise<void>): Backend {
  return {
    createSession: async (i) => sessionView(await engine.createSession(i)),
    listSessions: async (f) => (await engine.listSessions(f)).map(sessionView),
    async revokeSession(id) {
      const r = await engine.revokeSession(id);
      return r.status === "not_found" ? { status: "not_found" } : { status: r.status, record: sessionView(r.record) };
    },
    async createDelegation(i) {
      try {
        return delegationView(await engine.createDelegation(i));
      } catch (error) {
        if (isDelegationValidationError(error)) throw new DelegationRefusedError(error.message);
        throw error;
      }
    },
    listDelegations: async (f) => (await engine.listDelegations(f)).map(delegationView),
    async revokeDelegation(id) {
      const r = await engine.revokeDelegation(id);
      return r.status === "not_found" ? { status: "not_found" } : { status: r.status, record: delegationView(r.record) };
    },
    profileNames: async () => new Set(engine.config.profiles.keys()),
    async close() {
      await engine.close();
      await closeStore();
    },
  };
}
