import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { AuthConfig } from "../config/types.ts";
import { createJsonlFileSink } from "../audit/jsonl-file-sink.ts";
import { withDecision, type AuditEvent } from "../audit/event.ts";
import type { AuditSink } from "../audit/sink.ts";
import { teeSinks } from "../audit/tee-sink.ts";
import { checkAction, checkScope, compilePolicy, type CompiledPolicy, type CompiledProfile } from "../policy/index.ts";
import { withApprovalSuffixes } from "../policy/profiles.ts";
import type { ExpressionLimits } from "../expr/index.ts";
import { createMemoryStore } from "../state/memory.ts";
import type { OutcomeQuery, StateOutcome } from "../state/outcome.ts";
import type { DelegationRecord, ListFilter, OutcomeRecord, RevokeOutcome, StateStore } from "../state/store.ts";
import { systemClock, type Clock } from "./clock.ts";
import { newDecisionId } from "./decision-id.ts";
import { DelegationValidationError, InvalidRequestError } from "./errors.ts";
import * as reasons from "./reasons.ts";
import { toDelegationGrant, toSession } from "./records.ts";
import { DEFAULT_REQUEST_LIMITS, normalizeRequest, type NormalizedRequest, type RequestLimits } from "./request.ts";
import { AuthDecision, TIER_ORDER, type AuthRequest, type DelegationGrant, type Session } from "./types.ts";
import { checkDuration, checkName, checkOptionalText, checkPatterns } from "./validate-input.ts";

/** Answers "which actions may this user do?" from an outside system (IAM, user database). */
export interface UserPermissionsProvider {
  getUserActions(user: string): Iterable<string> | Promise<Iterable<string>>;
}

/** The provider as a plain function. */
export type UserPermissionsFunction = (user: string) => Iterable<string> | Promise<Iterable<string>>;

/** Options for {@link AuthEngine}. */
export interface AuthEngineOptions {
  /** Consulted when neither the profile nor a delegation allows the action. */
  readonly userPermissions?: UserPermissionsProvider | UserPermissionsFunction | undefined;
  /** Sessions and delegations. Default: a new memory store on the engine's clock. */
  readonly store?: StateStore | undefined;
  /**
   * Where decisions are recorded. Default: a JSONL file at `audit.path` when
   * `audit.enabled`, as the original library does. `false`: no audit.
   */
  readonly audit?: AuditSink | readonly AuditSink[] | false | undefined;
  /** Time source for expiry and records. Default: the system clock. */
  readonly clock?: Clock | undefined;
  readonly limits?: Partial<RequestLimits> | undefined;
  readonly expressionLimits?: Partial<ExpressionLimits> | undefined;
  /**
   * Receives errors the engine handled by failing closed (store, provider,
   * audit), with the id of the decision that denied because of them.
   */
  readonly onError?: ((error: unknown, context: string, decisionId?: string) => void) | undefined;
  /** Sees every state read a decision makes: how long it took (ms) and whether it answered. */
  readonly onStateRead?: ((ms: number, ok: boolean) => void) | undefined;
}

/** Input of {@link AuthEngine.createSession}. */
export interface CreateSessionInput {
  readonly agent: string;
  readonly user: string;
  /** fnmatch pattern later requests' scopes must match; "" for any. */
  readonly scope?: string | undefined;
  /** Seconds. Default: the agent profile's max_session_duration, else sessions.default_duration. */
  readonly duration?: number | null | undefined;
}

/** Input of {@link AuthEngine.createDelegation}. */
export interface CreateDelegationInput {
  readonly fromUser: string;
  readonly toAgent: string;
  /** fnmatch patterns of the delegated actions. */
  readonly actions: readonly string[];
  /** Seconds. Default: delegation.default_duration. */
  readonly duration?: number | null | undefined;
  readonly reason?: string | undefined;
}

/** Outcome of a revocation, with the record as it now stands. */
export type Revocation<T> =
  | { readonly status: "revoked" | "already_revoked"; readonly record: T }
  | { readonly status: "not_found" };

type AllowSource = "profile" | "delegation" | "provider" | undefined;

const SUFFIXES = ["", reasons.requiresApproval("soft"), reasons.requiresApproval("strong")] as const;
const USER_PERMISSION_REASONS = withApprovalSuffixes(reasons.ALLOWED_BY_USER_PERMISSIONS);

/** A state-dependent decision decided for each outcome before the state read. */
interface Prepared {
  readonly ifGrant: AuthDecision;
  readonly ifNoGrant: AuthDecision;
  /** The evaluation time written into the session-failure record. */
  readonly time: number;
  readonly record: OutcomeRecord;
}

/**
 * The decision engine: a compiled policy, a state store and audit sinks.
 *
 * `authorize` runs the original's pipeline — session, profile deny list,
 * scope, profile allow, delegation, user-permission provider, A2A, "not
 * authorized", approval tier — with at most one state read, and never allows
 * because something failed: an unreachable store or provider denies.
 */
export class AuthEngine {
  #policy: CompiledPolicy;
  #loadedAt: number;
  readonly #store: StateStore;
  readonly #ownsStore: boolean;
  readonly #audit: AuditSink | undefined;
  readonly #clock: Clock;
  readonly #limits: RequestLimits;
  readonly #expressionLimits: Partial<ExpressionLimits> | undefined;
  readonly #provider: UserPermissionsFunction | undefined;
  readonly #onError: (error: unknown, context: string, decisionId?: string) => void;
  readonly #onStateRead: ((ms: number, ok: boolean) => void) | undefined;

  constructor(config: AuthConfig, options: AuthEngineOptions = {}) {
    this.#expressionLimits = options.expressionLimits;
    this.#policy = compilePolicy(config, this.#compileOptions());
    this.#clock = options.clock ?? systemClock;
    this.#loadedAt = this.#clock.now();
    this.#ownsStore = options.store === undefined;
    this.#store = options.store ?? createMemoryStore({ clock: this.#clock });
    this.#limits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
    this.#onError = options.onError ?? (() => {});
    this.#onStateRead = options.onStateRead;
    this.#provider = providerFunction(options.userPermissions);
    this.#audit = auditSink(options.audit, config, this.#onError);
  }

  /** The policy currently deciding. */
  get policy(): CompiledPolicy {
    return this.#policy;
  }

  get config(): AuthConfig {
    return this.#policy.config;
  }

  /** Content hash of the current policy; every decision names the revision it used. */
  get revision(): string {
    return this.#policy.revision;
  }

  /** When the current policy was installed (ms since the epoch). */
  get loadedAt(): number {
    return this.#loadedAt;
  }

  get store(): StateStore {
    return this.#store;
  }

  /**
   * Compiles `config` and swaps it in atomically. Decisions already running
   * finish on the policy they started with; later ones use the new one. Throws
   * (keeping the current policy) if the config cannot be compiled.
   */
  setConfig(config: AuthConfig): CompiledPolicy {
    const compiled = compilePolicy(config, this.#compileOptions());
    this.#policy = compiled;
    this.#loadedAt = this.#clock.now();
    return compiled;
  }

  /**
   * Decides a request. Rejects only for a malformed request
   * (InvalidRequestError naming the field); every failure after that is a
   * denial with a reason.
   */
  authorize(request: AuthRequest): Promise<AuthDecision> {
    try {
      const decision = this.decide(request);
      return decision instanceof Promise ? decision : Promise.resolve(decision);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Decides a request like {@link authorize}, but returns the decision itself
   * when it needed nothing asynchronous (no state read, no wait for an audit
   * sink), and a promise otherwise; throws InvalidRequestError for a
   * malformed request. For callers on a hot path that would only wrap the
   * answer in another promise.
   */
  decide(request: AuthRequest): AuthDecision | Promise<AuthDecision> {
    const start = performance.now();
    const req = normalizeRequest(request, this.#limits);
    const policy = this.#policy;
    const profile = policy.profiles.get(req.agent);
    let pureDeny: string | undefined;
    let profileAllows = false;
    if (profile !== undefined) {
      const permission = checkAction(profile, req.action);
      if (permission === "deny") pureDeny = reasons.deniedByProfile(req.action, profile.name);
      else if (req.scope !== "" && !checkScope(profile, req.scope)) pureDeny = reasons.scopeNotAllowed(req.scope, profile.name);
      else profileAllows = permission === "allow";
    }
    const needDelegations = pureDeny === undefined && !profileAllows;
    if (req.sessionId === "" && !needDelegations) {
      return this.#record(policy, req, this.#conclude(policy, req, profile, pureDeny, profileAllows ? "profile" : undefined, "", start), false, start);
    }
    return this.#authorizeWithState(policy, req, profile, pureDeny, profileAllows, needDelegations, start);
  }

  async #authorizeWithState(
    policy: CompiledPolicy,
    req: NormalizedRequest,
    profile: CompiledProfile | undefined,
    pureDeny: string | undefined,
    profileAllows: boolean,
    needDelegations: boolean,
    start: number,
  ): Promise<AuthDecision> {
    const store = this.#store;
    const query: OutcomeQuery = {
      sessionId: req.sessionId,
      agent: req.agent,
      user: req.user,
      scope: req.scope,
      action: req.action,
      delegations: needDelegations,
    };
    // Asked alongside the state read (not after it) so a decision waits once.
    const decisionId = newDecisionId();
    const provider = needDelegations && this.#provider !== undefined ? this.#askProvider(req, decisionId) : undefined;

    let prepared: Prepared | undefined;
    if (store.auditDurability === "sync") {
      // The store appends the record in the same round trip as the state read,
      // so every possible answer is decided (and serialised) up front.
      prepared = this.#prepare(policy, req, profile, pureDeny, profileAllows, needDelegations, provider === undefined ? false : await provider, start, decisionId);
    }

    let outcome: StateOutcome;
    const onRead = this.#onStateRead;
    const readStart = onRead === undefined ? 0 : performance.now();
    try {
      outcome = await store.resolveOutcome(query, prepared?.record);
    } catch (error) {
      onRead?.(performance.now() - readStart, false);
      this.#onError(error, "state store", decisionId);
      // Recorded without waiting: with the store unreachable, a sync append
      // would only hold this deny back for another command timeout.
      return this.#record(policy, req, this.#deny(policy, reasons.STATE_UNAVAILABLE, start, decisionId), false, start, true);
    }
    onRead?.(performance.now() - readStart, true);

    let decision: AuthDecision;
    if (outcome.kind !== "ok") {
      decision = this.#deny(policy, sessionDenial(outcome, req), prepared === undefined ? start : prepared.time, decisionId, prepared !== undefined);
    } else if (prepared !== undefined) {
      decision = outcome.grant !== undefined ? prepared.ifGrant : prepared.ifNoGrant;
    } else if (outcome.grant !== undefined) {
      decision = this.#conclude(policy, req, profile, pureDeny, "delegation", outcome.grant.fromUser, start, decisionId);
    } else {
      let source: AllowSource = profileAllows ? "profile" : undefined;
      if (provider !== undefined) {
        const answer = await provider;
        if (answer === "error") {
          return this.#record(policy, req, this.#deny(policy, reasons.USER_PERMISSIONS_UNAVAILABLE, start, decisionId), false, start);
        }
        if (answer) source = "provider";
      }
      decision = this.#conclude(policy, req, profile, pureDeny, source, "", start, decisionId);
    }
    if (prepared === undefined) return this.#record(policy, req, decision, false, start);
    // The store recorded one of the prepared answers; the other sinks get the very same record.
    const event = prepared.record.event;
    const recorded = decision === prepared.ifNoGrant ? event : decision === prepared.ifGrant ? withDecision(event, decision) : undefined;
    return this.#record(policy, req, decision, true, start, false, recorded);
  }

  /** Every answer a state-dependent decision can have, with the record of each. */
  #prepare(
    policy: CompiledPolicy,
    req: NormalizedRequest,
    profile: CompiledProfile | undefined,
    pureDeny: string | undefined,
    profileAllows: boolean,
    needDelegations: boolean,
    providerAnswer: boolean | "error",
    start: number,
    decisionId: string,
  ): Prepared {
    // One evaluation time for every candidate, so whichever applies matches its record.
    const elapsed = performance.now() - start;
    const ifNoGrant =
      providerAnswer === "error"
        ? this.#deny(policy, reasons.USER_PERMISSIONS_UNAVAILABLE, elapsed, decisionId, true)
        : this.#conclude(policy, req, profile, pureDeny, profileAllows ? "profile" : providerAnswer ? "provider" : undefined, "", start, decisionId, elapsed);
    const ifGrant = needDelegations ? this.#conclude(policy, req, profile, pureDeny, "delegation", req.user, start, decisionId, elapsed) : ifNoGrant;
    const event: AuditEvent = {
      time: this.#eventTime(start, ifNoGrant),
      request: req,
      decision: ifNoGrant,
      configName: policy.config.metadata.name,
      configVersion: policy.config.version,
    };
    return { ifGrant, ifNoGrant, time: elapsed, record: { event, ifGrant: needDelegations ? ifGrant : undefined } };
  }

  /** Everything after the state read: pure. */
  #conclude(
    policy: CompiledPolicy,
    req: NormalizedRequest,
    profile: CompiledProfile | undefined,
    pureDeny: string | undefined,
    source: AllowSource,
    delegator: string,
    start: number,
    decisionId: string = newDecisionId(),
    elapsedMs?: number,
  ): AuthDecision {
    if (pureDeny !== undefined) return elapsedMs === undefined ? this.#deny(policy, pureDeny, start, decisionId) : this.#deny(policy, pureDeny, elapsedMs, decisionId, true);
    if (req.targetAgent !== "") {
      const a2a = policy.a2a.evaluate(req);
      if (!a2a.allowed) return elapsedMs === undefined ? this.#deny(policy, a2a.reason, start, decisionId) : this.#deny(policy, a2a.reason, elapsedMs, decisionId, true);
    }
    if (source === undefined) {
      const reason = reasons.notAuthorized(req.action, req.agent);
      return elapsedMs === undefined ? this.#deny(policy, reason, start, decisionId) : this.#deny(policy, reason, elapsedMs, decisionId, true);
    }
    const { tier, policy: approvalPolicy } = policy.approval.evaluate(req, profile === undefined ? 0 : profile.defaultTierRank);
    const rank = TIER_ORDER[tier] as 0 | 1 | 2;
    let reason: string;
    if (source === "delegation") reason = reasons.delegatedBy(delegator) + SUFFIXES[rank];
    else if (profile !== undefined) reason = profile.allowReasons[rank];
    else reason = USER_PERMISSION_REASONS[rank];
    const requiresApproval = rank > 0;
    return new AuthDecision(true, tier, reason, requiresApproval, approvalPolicy, elapsedMs ?? performance.now() - start, decisionId, policy.revision);
  }

  /**
   * A denial. `frozenTime` keeps the evaluation time of a prepared record (the
   * store wrote it before the outcome was known) so answer and record agree.
   */
  #deny(policy: CompiledPolicy, reason: string, start: number, decisionId: string = newDecisionId(), frozenTime = false): AuthDecision {
    const elapsed = frozenTime ? start : performance.now() - start;
    return new AuthDecision(false, "autonomous", reason, false, "", elapsed, decisionId, policy.revision);
  }

  /**
   * Hands the decision to the audit sinks (and to the store's shared stream,
   * unless the store already recorded it with the state read); waits only when
   * a sink asks to (sync durability, backpressure).
   */
  #record(
    policy: CompiledPolicy,
    req: NormalizedRequest,
    decision: AuthDecision,
    recordedByStore: boolean,
    start: number,
    storeInBackground = false,
    prepared?: AuditEvent,
  ): AuthDecision | Promise<AuthDecision> {
    const audit = this.#audit;
    const store = this.#store;
    const toStore = !recordedByStore && store.auditDurability !== undefined;
    if (audit === undefined && !toStore) return decision;
    const event: AuditEvent = prepared ?? {
      time: this.#eventTime(start, decision),
      request: req,
      decision,
      configName: policy.config.metadata.name,
      configVersion: policy.config.version,
    };
    let pending: void | Promise<void>;
    let storePending: void | Promise<void> = undefined;
    try {
      pending = audit?.write(event);
      if (toStore) storePending = store.appendAudit?.(event, storeInBackground);
    } catch (error) {
      return this.#auditFailed(policy, error, event, toStore);
    }
    if (storePending !== undefined) pending = pending === undefined ? storePending : Promise.all([pending, storePending]).then(() => undefined);
    if (pending === undefined) return decision;
    return pending.then(
      () => decision,
      (error: unknown) => this.#auditFailed(policy, error, event, toStore),
    );
  }

  /** When a decision was made; with the real clock its own timer gives it without another clock read. */
  #eventTime(start: number, decision: AuthDecision): number {
    return this.#clock === systemClock ? Math.floor(performance.timeOrigin + start + decision.evaluationTimeMs) : this.#clock.now();
  }

  /**
   * A decision whose record could not be stored is not given out as an allow.
   * The deny that replaces it is recorded too, without waiting: a store that
   * timed out may still store the allow later, and then the deny after it, so
   * the last record of a decision id is always the answer the caller got.
   */
  #auditFailed(policy: CompiledPolicy, error: unknown, event: AuditEvent, toStore: boolean): AuthDecision {
    const decision = event.decision;
    this.#onError(error, "audit", decision.decisionId);
    if (!decision.allowed) return decision;
    const denied = new AuthDecision(false, "autonomous", reasons.AUDIT_UNAVAILABLE, false, "", decision.evaluationTimeMs, decision.decisionId, policy.revision);
    const replaced = withDecision(event, denied);
    const failed = (e: unknown): void => this.#onError(e, "audit", decision.decisionId);
    try {
      this.#audit?.write(replaced)?.catch(failed);
      if (toStore) this.#store.appendAudit?.(replaced, true)?.catch(failed);
    } catch (e) {
      failed(e);
    }
    return denied;
  }

  async #askProvider(req: NormalizedRequest, decisionId: string): Promise<boolean | "error"> {
    try {
      const actions = await this.#provider!(req.user);
      if (actions instanceof Set) return actions.has(req.action);
      for (const a of actions) if (a === req.action) return true;
      return false;
    } catch (error) {
      this.#onError(error, "user permissions provider", decisionId);
      return "error";
    }
  }

  /** Opens a session for an agent acting for a user. */
  async createSession(input: CreateSessionInput): Promise<Session> {
    const agent = checkName(input.agent, "agent", this.#limits);
    const user = checkName(input.user, "user", this.#limits);
    const scope = checkOptionalText(input.scope, "scope", this.#limits);
    const config = this.#policy.config;
    let duration = checkDuration(input.duration, "duration");
    if (duration === undefined) {
      const profile = this.#policy.profiles.get(agent);
      duration = profile !== undefined ? profile.maxSessionDuration : config.sessions.defaultDuration;
    }
    duration = Math.min(duration, config.sessions.maxDuration);
    const now = this.#clock.now();
    const record = { id: randomUUID(), agent, user, scope, createdAt: now, expiresAt: now + duration * 1000 };
    await this.#store.createSession(record);
    return toSession(record, now);
  }

  /** The session, revoked or not, until it expires; undefined after. */
  async getSession(sessionId: string): Promise<Session | undefined> {
    const record = await this.#store.getSession(checkName(sessionId, "session_id", this.#limits));
    return record === undefined ? undefined : toSession(record, this.#clock.now());
  }

  /** Active sessions (and revoked ones with `includeRevoked`), oldest first. */
  async listSessions(filter: ListFilter = {}): Promise<Session[]> {
    const now = this.#clock.now();
    return (await this.#store.listSessions(filter)).map((r) => toSession(r, now));
  }

  /** Revokes a session; the revocation is stored before this resolves. */
  async revokeSession(sessionId: string): Promise<Revocation<Session>> {
    const outcome = await this.#store.revokeSession(checkName(sessionId, "session_id", this.#limits));
    return mapRevocation(outcome, (r) => toSession(r, this.#clock.now()));
  }

  /**
   * Grants actions from a user to an agent. Throws DelegationValidationError
   * (the original's messages) when the delegation settings or rules refuse it.
   */
  async createDelegation(input: CreateDelegationInput): Promise<DelegationGrant> {
    const fromUser = checkName(input.fromUser, "from_user", this.#limits);
    const toAgent = checkName(input.toAgent, "to_agent", this.#limits);
    const actions = checkPatterns(input.actions, "actions", this.#limits);
    const reason = checkOptionalText(input.reason, "reason", this.#limits);
    const policy = this.#policy;
    const duration = checkDuration(input.duration, "duration") ?? policy.config.delegation.defaultDuration;
    const errors = policy.delegationRules.validate(actions, duration, reason);
    if (errors.length > 0) throw new DelegationValidationError(errors);
    const now = this.#clock.now();
    const record: DelegationRecord = {
      id: randomUUID(),
      fromUser,
      toAgent,
      actions,
      grantedAt: now,
      expiresAt: now + duration * 1000,
      reason,
    };
    await this.#store.createDelegation(record);
    return toDelegationGrant(record, now);
  }

  async getDelegation(delegationId: string): Promise<DelegationGrant | undefined> {
    const record = await this.#store.getDelegation(checkName(delegationId, "delegation_id", this.#limits));
    return record === undefined ? undefined : toDelegationGrant(record, this.#clock.now());
  }

  /** Active delegations (`agent` filters the receiving agent, `user` the granting user). */
  async listDelegations(filter: ListFilter = {}): Promise<DelegationGrant[]> {
    const now = this.#clock.now();
    return (await this.#store.listDelegations(filter)).map((r) => toDelegationGrant(r, now));
  }

  /** Revokes a delegation; stored before this resolves. */
  async revokeDelegation(delegationId: string): Promise<Revocation<DelegationGrant>> {
    const outcome = await this.#store.revokeDelegation(checkName(delegationId, "delegation_id", this.#limits));
    return mapRevocation(outcome, (r) => toDelegationGrant(r, this.#clock.now()));
  }

  /** Writes out buffered audit records. */
  async flush(): Promise<void> {
    await this.#audit?.flush();
  }

  /** Flushes audit records and closes what the engine opened itself. */
  async close(): Promise<void> {
    await this.#audit?.close();
    if (this.#ownsStore) await this.#store.close();
  }

  #compileOptions(): { expressionLimits?: Partial<ExpressionLimits> } {
    return this.#expressionLimits === undefined ? {} : { expressionLimits: this.#expressionLimits };
  }
}

/** The reason for a failed session check. */
function sessionDenial(outcome: Exclude<StateOutcome, { kind: "ok" }>, req: NormalizedRequest): string {
  switch (outcome.kind) {
    case "session_invalid":
      return reasons.INVALID_SESSION;
    case "agent_mismatch":
      return reasons.sessionAgentMismatch(outcome.expected, req.agent);
    case "user_mismatch":
      return reasons.sessionUserMismatch(outcome.expected, req.user);
    case "scope_outside":
      return reasons.scopeOutsideSession(req.scope, outcome.pattern);
  }
}

function mapRevocation<R, T>(outcome: RevokeOutcome<R>, map: (r: R) => T): Revocation<T> {
  return outcome.status === "not_found" ? outcome : { status: outcome.status, record: map(outcome.record) };
}

function providerFunction(p: AuthEngineOptions["userPermissions"]): UserPermissionsFunction | undefined {
  if (p === undefined) return undefined;
  if (typeof p === "function") return p;
  if (typeof p.getUserActions === "function") return (user) => p.getUserActions(user);
  throw new InvalidRequestError("userPermissions", "expected a function or an object with getUserActions(user)");
}

function auditSink(
  option: AuthEngineOptions["audit"],
  config: AuthConfig,
  onError: (error: unknown, context: string) => void,
): AuditSink | undefined {
  if (option === false) return undefined;
  if (option === undefined) {
    if (!config.audit.enabled) return undefined;
    return createJsonlFileSink(config.audit.path, {
      durability: config.audit.durability,
      onError: (e) => onError(e, "audit"),
    });
  }
  if (Array.isArray(option)) return option.length === 0 ? undefined : teeSinks(option as readonly AuditSink[]);
  return option as AuditSink;
}
