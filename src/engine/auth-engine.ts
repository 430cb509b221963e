import { performance } from "node:perf_hooks";
import { withDecision, type AuditEvent } from "../audit/event.ts";
import type { AuditSink, SinkCloseOptions } from "../audit/sink.ts";
import type { ApprovalFilter, ApprovalPage, ApprovalPageRequest, ApprovalRequestInput, ApprovalTask, DecideApprovalInput } from "../approvals/types.ts";
import type { AuthConfig } from "../config/types.ts";
import type { ExpressionLimits } from "../expr/index.ts";
import { systemClock, type Clock } from "../model/clock.ts";
import * as reasons from "../model/reasons.ts";
import type { DecisionOrigin } from "../model/origin.ts";
import { DEFAULT_REQUEST_LIMITS, normalizeRequest, type NormalizedRequest, type RequestLimits } from "../model/request.ts";
import { AuthDecision, TIER_ORDER, type ApprovalUseStatus, type AuthRequest, type DecisionApproval, type DelegationGrant, type Session } from "../model/types.ts";
import { InvalidRequestError } from "../model/errors.ts";
import { bindingDigest } from "../approvals/binding.ts";
import { compilePolicy, type CompiledPolicy } from "../policy/index.ts";
import type { OutcomeQuery, StateOutcome } from "../state/outcome.ts";
import type { DelegationRecord, ListFilter, SessionRecord, StateStore } from "../state/store.ts";
import { BY_PROFILE, BY_PROVIDER, conclude, denial, screen, sessionDenial, type AllowSource, type Screening } from "./decide.ts";
import { newDecisionId } from "./decision-id.ts";
import { explainDecision, type Explanation } from "./explain.ts";
import { grantBooks, newDelegation, newSession, type CreateDelegationInput, type CreateSessionInput, type GrantBook, type Page, type PageRequest, type Revocation } from "./grants.ts";
import { AuditJournal, type RecordMode, type SameTripRecorder } from "./journal.ts";
import { askProvider, providerFunction, type UserPermissionsFunction, type UserPermissionsProvider } from "./provider.ts";
import { ApprovalDesk, approvalEvent, type ApprovalOperations } from "./approval-desk.ts";
import { APPROVAL_STATUS_MARKER, APPROVER_MARKER, REDEEMED_REASON_MARKER } from "../audit/outcome-records.ts";
import { randomUUID } from "node:crypto";
import { prepareDecision, type PreparedDecision } from "./same-trip.ts";

/** What an {@link AuthEngine} works with besides its policy. */
export interface AuthEngineOptions {
  /** Sessions and delegations. */
  readonly store: StateStore;
  /** Where decisions are recorded. Default: nowhere. */
  readonly audit?: readonly AuditSink[] | undefined;
  /**
   * One of the audit sinks (added to them if missing) that records a
   * state-dependent decision in the same round trip as its state read.
   */
  readonly sameTripAudit?: SameTripRecorder | undefined;
  /** Consulted when neither the profile nor a delegation allows the action. */
  readonly userPermissions?: UserPermissionsProvider | UserPermissionsFunction | undefined;
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
  /** Whether {@link AuthEngine.close} closes the store too. Default false. */
  readonly ownsStore?: boolean | undefined;
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
  readonly #journal: AuditJournal;
  readonly #clock: Clock;
  readonly #limits: RequestLimits;
  readonly #expressionLimits: Partial<ExpressionLimits> | undefined;
  readonly #provider: UserPermissionsFunction | undefined;
  readonly #onError: (error: unknown, context: string, decisionId?: string) => void;
  readonly #onStateRead: ((ms: number, ok: boolean) => void) | undefined;
  readonly #sessions: GrantBook<SessionRecord, Session>;
  readonly #delegations: GrantBook<DelegationRecord, DelegationGrant>;
  readonly #approvals: ApprovalOperations;

  constructor(config: AuthConfig, options: AuthEngineOptions) {
    this.#expressionLimits = options.expressionLimits;
    this.#policy = compilePolicy(config, this.#compileOptions());
    this.#clock = options.clock ?? systemClock;
    this.#loadedAt = this.#clock.now();
    this.#store = options.store;
    this.#ownsStore = options.ownsStore === true;
    this.#limits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
    this.#onError = options.onError ?? (() => {});
    this.#onStateRead = options.onStateRead;
    this.#provider = providerFunction(options.userPermissions);
    this.#journal = new AuditJournal(options.audit ?? [], options.sameTripAudit, this.#onError);
    const books = grantBooks(() => this.#store, this.#limits, this.#clock);
    this.#sessions = books.sessions;
    this.#delegations = books.delegations;
    this.#approvals = new ApprovalDesk({
      policy: () => this.#policy,
      store: this.#store,
      clock: this.#clock,
      limits: this.#limits,
      authorize: (request) => this.authorize(request),
      record: (event) => this.#recordApprovalEvent(event),
    });
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

  /** The engine's clock. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The bounds every request is checked against. */
  get limits(): RequestLimits {
    return this.#limits;
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
   * denial with a reason. `origin` (transport, request id, caller) goes into
   * the decision's audit record.
   */
  authorize(request: AuthRequest, origin?: DecisionOrigin): Promise<AuthDecision> {
    try {
      const decision = this.decide(request, origin);
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
  decide(request: AuthRequest, origin?: DecisionOrigin): AuthDecision | Promise<AuthDecision> {
    const start = performance.now();
    const req = normalizeRequest(request, this.#limits);
    const policy = this.#policy;
    const screening = screen(policy, req);
    const approvalId = request.approvalId;
    if (approvalId !== undefined && approvalId !== null && approvalId !== "" && origin !== UNRECORDED) {
      return this.#decideWithApproval(policy, req, screening, approvalIdOf(approvalId, this.#limits), start, origin);
    }
    if (req.sessionId === "" && !screening.needDelegations) {
      const source = screening.profileAllows ? BY_PROFILE : undefined;
      return this.#record(policy, req, conclude({ policy, req, screening, source, decisionId: newDecisionId(), start }), start, "normal", origin);
    }
    return this.#decideWithState(policy, req, screening, start, origin);
  }

  /**
   * The path `decide` would take for a request, step by step, reading the
   * same state (sessions, delegations, user permissions) but recording
   * nothing: an explanation is not a decision. Throws InvalidRequestError for
   * a malformed request.
   */
  async explain(request: AuthRequest): Promise<Explanation> {
    const req = normalizeRequest(request, this.#limits);
    const policy = this.#policy;
    const screening = screen(policy, req);
    let outcome: StateOutcome | "unavailable" | undefined;
    if (req.sessionId !== "" || screening.needDelegations) {
      try {
        outcome = await this.#store.resolveOutcome(outcomeQuery(policy, req, screening));
      } catch (error) {
        this.#onError(error, "state store");
        outcome = "unavailable";
      }
    }
    const needProvider = screening.needDelegations && outcome !== "unavailable" && (outcome === undefined || (outcome.kind === "ok" && outcome.grant === undefined));
    const provider = needProvider && this.#provider !== undefined ? await askProvider(this.#provider, req.user, req.action, (e) => this.#onError(e, "user permissions provider")) : undefined;
    return explainDecision(policy, req, { outcome, provider });
  }

  /**
   * The decision {@link decide} would give, without recording it anywhere:
   * for questions about decisions (search, what-if) rather than requests to
   * act. Reads state exactly as a decision does.
   */
  preview(request: AuthRequest): Promise<AuthDecision> {
    try {
      const decision = this.decide(request, UNRECORDED);
      return decision instanceof Promise ? decision : Promise.resolve(decision);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #decideWithState(policy: CompiledPolicy, req: NormalizedRequest, screening: Screening, start: number, origin: DecisionOrigin | undefined): Promise<AuthDecision> {
    const query = outcomeQuery(policy, req, screening);
    const decisionId = newDecisionId();
    // Asked alongside the state read (not after it) so a decision waits once.
    const provider =
      screening.needDelegations && this.#provider !== undefined
        ? askProvider(this.#provider, req.user, req.action, (e) => this.#onError(e, "user permissions provider", decisionId))
        : undefined;
    const sameTrip = origin === UNRECORDED ? undefined : this.#journal.sameTrip;
    let prepared: PreparedDecision | undefined;
    if (sameTrip !== undefined) {
      prepared = prepareDecision({
        policy,
        req,
        screening,
        providerAnswer: provider === undefined ? false : await provider,
        decisionId,
        elapsedMs: performance.now() - start,
        eventOf: (d) => this.#eventOf(policy, req, d, start, origin),
      });
    }

    let outcome: StateOutcome;
    const onRead = this.#onStateRead;
    const readStart = onRead === undefined ? 0 : performance.now();
    try {
      outcome = await (prepared === undefined ? this.#store.resolveOutcome(query) : sameTrip!.resolveOutcomeAndRecord(query, prepared.records));
    } catch (error) {
      onRead?.(performance.now() - readStart, false);
      this.#onError(error, "state store", decisionId);
      // Recorded without waiting: with the store unreachable, a same-trip
      // recorder would only hold this deny back for another command timeout.
      return this.#record(policy, req, denial(policy, reasons.STATE_UNAVAILABLE, performance.now() - start, decisionId), start, "background", origin);
    }
    onRead?.(performance.now() - readStart, true);

    if (prepared !== undefined) {
      const decision =
        outcome.kind !== "ok"
          ? denial(policy, sessionDenial(outcome, req), prepared.elapsedMs, decisionId)
          : outcome.grant !== undefined
            ? prepared.ifGrant
            : prepared.ifNoGrant;
      // The recorder appended the record matching the outcome; the other sinks get the very same one.
      const event = prepared.records.event;
      return this.#journal.record(decision === prepared.ifNoGrant ? event : withDecision(event, decision), "in-trip");
    }
    if (outcome.kind !== "ok") return this.#record(policy, req, denial(policy, sessionDenial(outcome, req), performance.now() - start, decisionId), start, "normal", origin);
    let source: AllowSource;
    if (outcome.grant !== undefined) source = { kind: "delegation", fromUser: outcome.grant.fromUser };
    else {
      source = screening.profileAllows ? BY_PROFILE : undefined;
      if (provider !== undefined) {
        const answer = await provider;
        if (answer === "error") {
          return this.#record(policy, req, denial(policy, reasons.USER_PERMISSIONS_UNAVAILABLE, performance.now() - start, decisionId), start, "normal", origin);
        }
        if (answer) source = BY_PROVIDER;
      }
    }
    return this.#record(policy, req, conclude({ policy, req, screening, source, decisionId, start }), start, "normal", origin);
  }

  /**
   * A decision whose request presents an approval: decided for each outcome
   * first (as for a same-trip record), so the store's one read can check the
   * session, find the grant and spend one use of the approval when the
   * decision it picks may use it. Recorded after the read, like any decision
   * (with Redis and sync audit that is a second command).
   */
  async #decideWithApproval(policy: CompiledPolicy, req: NormalizedRequest, screening: Screening, approvalId: string, start: number, origin: DecisionOrigin | undefined): Promise<AuthDecision> {
    const decisionId = newDecisionId();
    const provider =
      screening.needDelegations && this.#provider !== undefined
        ? await askProvider(this.#provider, req.user, req.action, (e) => this.#onError(e, "user permissions provider", decisionId))
        : false;
    const sameTrip = this.#journal.sameTrip;
    // With a same-trip recorder every candidate reports one evaluation time, so the answer matches the record written before it was known.
    const elapsedMs = performance.now() - start;
    const markers: DecisionApproval = { approvalId, approvedBy: APPROVER_MARKER, approvalStatus: APPROVAL_STATUS_MARKER as ApprovalUseStatus };
    const candidates = prepareDecision({
      policy,
      req,
      screening,
      providerAnswer: provider,
      decisionId,
      elapsedMs,
      eventOf: sameTrip === undefined ? NO_EVENT : (d) => this.#eventOf(policy, req, withApproval(d, markers), start, origin),
    });
    const rankIfGrant = redeemRank(candidates.ifGrant);
    const rankIfNoGrant = redeemRank(candidates.ifNoGrant);
    const query: OutcomeQuery = { ...outcomeQuery(policy, req, screening), approval: { id: approvalId, binding: bindingDigest(req), rankIfGrant, rankIfNoGrant } };
    const eventTime = this.#clock.now();
    const redeemedEventId = randomUUID();
    const expiredEventId = randomUUID();
    const redeemedEvent = (by: string, status: string): AuditEvent =>
      approvalEvent(policy, eventTime, "approval_redeemed", { id: approvalId, status, approvalPolicy: "", ...req }, by, "", decisionId, req, redeemedEventId);
    const expiredEvent = (): AuditEvent => approvalEvent(policy, eventTime, "approval_expired", { id: approvalId, status: "expired", approvalPolicy: "", ...req }, "", "", "", req, expiredEventId);
    let outcome: StateOutcome;
    const onRead = this.#onStateRead;
    const readStart = onRead === undefined ? 0 : performance.now();
    try {
      if (sameTrip === undefined) outcome = await this.#store.resolveOutcome(query);
      else {
        const redeemed = (c: AuthDecision, rank: number): AuthDecision | undefined =>
          rank < 0 ? undefined : new AuthDecision(true, c.tier, REDEEMED_REASON_MARKER, false, c.approvalPolicy, elapsedMs, decisionId, policy.revision);
        outcome = await sameTrip.resolveOutcomeAndRecord(query, {
          ...candidates.records,
          approval: {
            redeemedIfGrant: redeemed(candidates.ifGrant, rankIfGrant),
            redeemedIfNoGrant: redeemed(candidates.ifNoGrant, rankIfNoGrant),
            redeemedEvent: redeemedEvent(APPROVER_MARKER, APPROVAL_STATUS_MARKER),
            expiredEvent: expiredEvent(),
          },
        });
      }
    } catch (error) {
      onRead?.(performance.now() - readStart, false);
      this.#onError(error, "state store", decisionId);
      const denied = withApproval(denial(policy, reasons.STATE_UNAVAILABLE, performance.now() - start, decisionId), { approvalId, approvedBy: "", approvalStatus: "" });
      return this.#record(policy, req, denied, start, "background", origin);
    }
    onRead?.(performance.now() - readStart, true);
    const elapsed = sameTrip === undefined ? performance.now() - start : elapsedMs;
    const use = outcome.approval;
    let decision: AuthDecision;
    if (outcome.kind !== "ok") decision = denial(policy, sessionDenial(outcome, req), elapsed, decisionId);
    else {
      const base = outcome.grant !== undefined ? candidates.ifGrant : candidates.ifNoGrant;
      decision =
        use?.kind === "redeemed"
          ? new AuthDecision(true, base.tier, reasons.approvedBy(use.approvedBy, approvalId), false, base.approvalPolicy, elapsed, decisionId, policy.revision)
          : new AuthDecision(base.allowed, base.tier, base.reason, base.requiresApproval, base.approvalPolicy, elapsed, decisionId, policy.revision);
    }
    decision = withApproval(decision, {
      approvalId,
      approvedBy: use?.kind === "redeemed" ? use.approvedBy : "",
      approvalStatus: use?.kind === "unusable" ? use.status : "",
    });
    const event =
      use?.kind === "redeemed" ? redeemedEvent(use.approvedBy, use.usesLeft > 0 ? "approved" : "used") : use?.kind === "unusable" && use.expiredNow ? expiredEvent() : undefined;
    if (sameTrip !== undefined) {
      // The recorder appended the decision and its approval event; the other sinks get the very same records.
      const answer = await this.#journal.record(withDecision(candidates.records.event, decision), "in-trip");
      if (event !== undefined) await this.#recordApprovalEvent(event, "in-trip");
      return answer;
    }
    const answer = await this.#record(policy, req, decision, start, "normal", origin);
    if (event !== undefined) await this.#recordApprovalEvent(event, "normal");
    return answer;
  }

  /** Records an approval event; a sink that fails is reported (the transition itself is already stored). */
  async #recordApprovalEvent(event: AuditEvent, mode: RecordMode = "normal"): Promise<void> {
    if (!this.#journal.active) return;
    try {
      await this.#journal.record(event, mode);
    } catch (error) {
      this.#onError(error, "audit");
    }
  }

  /** Hands the decision to the audit sinks; waits only when a sink asks to (sync durability, backpressure). */
  #record(policy: CompiledPolicy, req: NormalizedRequest, decision: AuthDecision, start: number, mode: RecordMode, origin: DecisionOrigin | undefined): AuthDecision | Promise<AuthDecision> {
    if (!this.#journal.active || origin === UNRECORDED) return decision;
    return this.#journal.record(this.#eventOf(policy, req, decision, start, origin), mode);
  }

  #eventOf(policy: CompiledPolicy, req: NormalizedRequest, decision: AuthDecision, start: number, origin: DecisionOrigin | undefined): AuditEvent {
    // With the real clock the decision's own timer gives the time without another clock read.
    const time = this.#clock === systemClock ? Math.floor(performance.timeOrigin + start + decision.evaluationTimeMs) : this.#clock.now();
    const config = policy.config;
    // Two literal shapes, no spread: the usual record keeps one shape on the hot path.
    if (config.audit.includeMetadata) {
      // Opt-in (audit.include_metadata): records that replay can re-decide exactly.
      return { time, request: req, decision, configName: config.metadata.name, configVersion: config.version, origin, metadata: req.metadata };
    }
    return { time, request: req, decision, configName: config.metadata.name, configVersion: config.version, origin };
  }

  /** Opens a session for an agent acting for a user. */
  async createSession(input: CreateSessionInput): Promise<Session> {
    return this.#sessions.create(newSession(input, this.#policy, this.#limits, this.#clock.now()));
  }

  /** The session, revoked or not, until it expires; undefined after. */
  getSession(sessionId: string): Promise<Session | undefined> {
    return this.#sessions.get(sessionId);
  }

  /** Active sessions (and revoked ones with `includeRevoked`), oldest first: all of them, read page by page. */
  listSessions(filter: ListFilter = {}): Promise<Session[]> {
    return this.#sessions.list(filter);
  }

  /**
   * A page of {@link listSessions}: a bounded step through the sessions
   * (a page may be short, even empty, with a `next` to continue from).
   */
  listSessionsPage(filter: ListFilter, page: PageRequest = {}): Promise<Page<Session>> {
    return this.#sessions.page(filter, page);
  }

  /** Revokes a session; the revocation is stored before this resolves. */
  revokeSession(sessionId: string): Promise<Revocation<Session>> {
    return this.#sessions.revoke(sessionId);
  }

  /**
   * Grants actions from a user to an agent. Throws DelegationValidationError
   * (the original's messages) when the delegation settings or rules refuse it.
   */
  async createDelegation(input: CreateDelegationInput): Promise<DelegationGrant> {
    return this.#delegations.create(newDelegation(input, this.#policy, this.#limits, this.#clock.now()));
  }

  /** The delegation, revoked or not, until it expires; undefined after. */
  getDelegation(delegationId: string): Promise<DelegationGrant | undefined> {
    return this.#delegations.get(delegationId);
  }

  /** Active delegations (`agent` filters the receiving agent, `user` the granting user): all of them, read page by page. */
  listDelegations(filter: ListFilter = {}): Promise<DelegationGrant[]> {
    return this.#delegations.list(filter);
  }

  /** A page of {@link listDelegations}: a bounded step through the delegations. */
  listDelegationsPage(filter: ListFilter, page: PageRequest = {}): Promise<Page<DelegationGrant>> {
    return this.#delegations.page(filter, page);
  }

  /** Revokes a delegation; stored before this resolves. */
  revokeDelegation(delegationId: string): Promise<Revocation<DelegationGrant>> {
    return this.#delegations.revoke(delegationId);
  }

  /**
   * Asks for a human's approval of a request whose decision is allowed but
   * requires approval: decides it (recorded like any decision), then creates
   * a pending task binding the exact request (`approval_requested` event).
   * Throws ApprovalError `not_requestable` when the decision is denied or
   * needs no approval, `limit` past `approvals.max_pending` for the agent and
   * user, `invalid` when the idempotency key was used for another request;
   * the same key for the same request returns the existing task.
   */
  requestApproval(input: ApprovalRequestInput): Promise<{ decision: AuthDecision; task: ApprovalTask }> {
    return this.#approvals.requestApproval(input);
  }

  /**
   * Approves or denies a pending task as `approver`. Throws ApprovalError
   * `not_found`, `not_allowed` (the approver may not decide this tier, or the
   * four-eyes rule forbids it; the message says which) or `terminal`.
   */
  decideApproval(input: DecideApprovalInput): Promise<ApprovalTask> {
    return this.#approvals.decideApproval(input);
  }

  /** The task, with its status computed now, until its history expires (`approvals.history_ttl`). */
  getApproval(id: string): Promise<ApprovalTask | undefined> {
    return this.#approvals.getApproval(id);
  }

  /** One page of tasks, oldest first; continue with `next` until it is "". */
  listApprovals(filter: ApprovalFilter, page: ApprovalPageRequest): Promise<ApprovalPage> {
    return this.#approvals.listApprovals(filter, page);
  }

  /** Cancels a pending task (`by` is recorded). Throws ApprovalError `not_found` or `terminal`. */
  cancelApproval(id: string, by: string): Promise<ApprovalTask> {
    return this.#approvals.cancelApproval(id, by);
  }

  /** Writes out buffered audit records. */
  async flush(): Promise<void> {
    await this.#journal.flush();
  }

  /**
   * Flushes and closes the audit sinks, and the store when the engine owns it.
   * `timeoutMs` bounds how long records that fail to be stored (a full disk)
   * are retried; the sinks report what they could not store.
   */
  async close(options?: SinkCloseOptions): Promise<void> {
    await this.#journal.close(options);
    if (this.#ownsStore) await this.#store.close();
  }

  #compileOptions(): { expressionLimits?: Partial<ExpressionLimits> } {
    return this.#expressionLimits === undefined ? {} : { expressionLimits: this.#expressionLimits };
  }
}

/** The origin of a {@link AuthEngine.preview}: its decision is not recorded. */
const UNRECORDED: DecisionOrigin = Object.freeze({});

/** A prepared decision that is never recorded itself (its candidates are). */
const NO_EVENT = (): AuditEvent => ({}) as AuditEvent;

/** The tier rank a decision needs approved to be redeemed; -1 when it needs no approval (denied, or autonomous). */
function redeemRank(d: AuthDecision): number {
  return d.allowed && d.requiresApproval ? TIER_ORDER[d.tier] : -1;
}

/** The same decision carrying what became of the approval its request presented. */
function withApproval(d: AuthDecision, approval: DecisionApproval): AuthDecision {
  return new AuthDecision(d.allowed, d.tier, d.reason, d.requiresApproval, d.approvalPolicy, d.evaluationTimeMs, d.decisionId, d.policyRevision, approval);
}

/** A request's approval id, checked like its other fields. */
function approvalIdOf(value: unknown, limits: RequestLimits): string {
  if (typeof value !== "string") throw new InvalidRequestError("approval_id", "expected a string");
  if (value.length > limits.maxStringLength) {
    throw new InvalidRequestError("approval_id", `is ${value.length} characters long; the limit is ${limits.maxStringLength} (limits.max_string_length)`);
  }
  if (!value.isWellFormed()) throw new InvalidRequestError("approval_id", "is not well-formed Unicode (lone surrogate)");
  return value;
}

/** The state a decision asks its store for: the session check and, when the profile did not allow, the grants. */
function outcomeQuery(policy: CompiledPolicy, req: NormalizedRequest, screening: Screening): OutcomeQuery {
  return {
    sessionId: req.sessionId,
    agent: req.agent,
    user: req.user,
    scope: req.scope,
    action: req.action,
    delegations: screening.needDelegations,
    requireScope: policy.config.sessions.requireScope,
  };
}
