import { auditRecordJson } from "../../audit/event.ts";
import type { OutcomeRecords } from "../../audit/outcome-records.ts";
import { decisionFieldsBytes, encodeAuditRecord } from "../../audit/record-bytes.ts";
import type { Clock } from "../../model/clock.ts";
import { StateUnavailableError } from "../../model/errors.ts";
import { fnmatch } from "../../policy/fnmatch.ts";
import type { OutcomeQuery, StateOutcome } from "../outcome.ts";
import type { DelegationRecord, SessionRecord } from "../store.ts";
import { leftToEngine } from "./glob-program.ts";
import type { RedisKeys } from "./keys.ts";
import { grantAnswer, OUTCOME_CODE, scopeAnswer, toOutcome } from "./outcome-codes.ts";
import { RespArgs } from "./resp-builder.ts";
import { script, type ScriptRunner } from "./script-runner.ts";
import { RESOLVE } from "./scripts.ts";

const RESOLVE_SCRIPT = script(RESOLVE);

/**
 * Decisions per call at most. Under load several calls are then in flight at
 * once: measured, 16 answered more calls per second than 8, 24, 32 or 64
 * (larger batches save work per decision but make decisions wait longer).
 */
const MAX_BATCH = 16;

/** Calls one decision may take when the script leaves patterns to the engine (see OutcomeBatcher.#answer). */
const MAX_CALLS = 3;

/** A decision on its way: its query, records, promise, and the engine's answers for the script. */
interface Waiting {
  readonly q: OutcomeQuery;
  readonly records: OutcomeRecords | undefined;
  readonly resolve: (o: StateOutcome) => void;
  readonly reject: (e: unknown) => void;
  answers: [scope: string, delegations: string] | undefined;
  calls: number;
}

/**
 * The decisions' state step in Redis. Decisions that arrive together (in one
 * event-loop turn) share one RESOLVE call: each still waits for exactly one
 * round trip, and Redis and this client do a fraction of the per-command
 * work. Each decision's keys and arguments — with its audit records when the
 * stream is written in the same trip — are encoded into RESP as it arrives.
 */
export class OutcomeBatcher {
  readonly #keys: RedisKeys;
  readonly #runner: ScriptRunner;
  readonly #clock: Clock;
  readonly #streamMaxLength: number;
  #waiting: Waiting[] = [];
  readonly #keyArgs = new RespArgs();
  readonly #args = new RespArgs();
  readonly #fixed = new RespArgs(256);
  readonly #sessionPrefix: Buffer;
  /** The "none" key, standing for the approval of a decision that presents none. */
  readonly #none: string;
  readonly #grantsPrefixes: Buffer[] = [];
  #scheduled = false;
  readonly #patterns = new LearnedPatterns();

  constructor(options: { keys: RedisKeys; runner: ScriptRunner; clock: Clock; streamMaxLength: number }) {
    this.#keys = options.keys;
    this.#runner = options.runner;
    this.#clock = options.clock;
    this.#streamMaxLength = options.streamMaxLength;
    this.#sessionPrefix = Buffer.from(this.#keys.session(""), "utf8");
    this.#none = this.#keys.none;
  }

  /** The outcome of `q`; with `records`, the matching record is appended to the stream in the same call. */
  resolve(q: OutcomeQuery, records?: OutcomeRecords): Promise<StateOutcome> {
    return new Promise<StateOutcome>((resolve, reject) => this.#enqueue({ q, records, resolve, reject, answers: this.#answers(q), calls: 0 }));
  }

  /** A session created by this replica: its scope, when only the engine can match it (see leftToEngine). */
  learnSession(s: SessionRecord): void {
    if (s.scope !== "" && leftToEngine(s.scope)) this.#patterns.learnScope(s.id, s.scope);
  }

  /** A delegation created by this replica: its actions, when only the engine can match one (see leftToEngine). */
  learnDelegation(d: DelegationRecord): void {
    if (d.actions.some(leftToEngine)) this.#patterns.learnGrant(d.toAgent, d.fromUser, d.id, d.actions);
  }

  /** Encodes a decision into the next call. */
  #enqueue(item: Waiting): void {
    const { q, records } = item;
    const keys = this.#keyArgs;
    const args = this.#args;
    // The same keys as RedisKeys.session and RedisKeys.grants, written without building their strings.
    if (q.sessionId === "") keys.text(this.#keys.none);
    else keys.joined(this.#sessionPrefix, q.sessionId, "");
    keys.joined(this.#grantsPrefix(q.agent.length), q.agent, q.user);
    const approval = q.approval;
    keys.text(approval === undefined ? this.#none : this.#keys.approval(approval.id));
    args.text(q.sessionId === "" ? "0" : q.requireScope === true ? "2" : "1").text(q.agent).text(q.user).text(q.scope).text(q.action).text(q.delegations ? "1" : "0");
    if (records === undefined) {
      args.text("0").text("").text("0").text("0").text("");
    } else {
      const line = encodeAuditRecord(records.event);
      args.text("1").bytes(line.line, 0, line.line.length).integer(line.partStart).integer(line.partEnd);
      if (records.ifGrant === undefined) args.text("");
      else {
        const part = decisionFieldsBytes(records.ifGrant);
        args.bytes(part, 0, part.length);
      }
    }
    if (approval === undefined) args.text("").text("-1").text("-1");
    else args.text(approval.binding).integer(approval.rankIfGrant).integer(approval.rankIfNoGrant);
    const prepared = records?.approval;
    if (prepared === undefined) args.text("").text("").text("").text("");
    else {
      for (const d of [prepared.redeemedIfGrant, prepared.redeemedIfNoGrant]) {
        if (d === undefined) args.text("");
        else {
          const part = decisionFieldsBytes(d);
          args.bytes(part, 0, part.length);
        }
      }
      args.text(auditRecordJson(prepared.redeemedEvent)).text(auditRecordJson(prepared.expiredEvent));
    }
    const answers = item.answers;
    if (answers === undefined) args.text("").text("");
    else args.text(answers[0]).text(answers[1]);
    item.calls++;
    this.#waiting.push(item);
    if (this.#waiting.length >= MAX_BATCH) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /**
   * A decision the script left to the engine (`reply`: "m" and the JSON of the
   * session's scope pattern or "", and delegation ids each with its actions):
   * learns the patterns and sends the decision again with the answers.
   * Patterns never change under an id, so answers stay true; a delegation
   * created in between is asked for on the next call, and after MAX_CALLS
   * calls the decision fails closed.
   */
  #answer(item: Waiting, reply: string): void {
    if (item.calls >= MAX_CALLS) throw new StateUnavailableError(`the delegations of '${item.q.user}' to '${item.q.agent}' kept changing while deciding`);
    const [scopePattern, asked] = JSON.parse(reply.slice(1)) as [string, string[] | Record<string, never>];
    const q = item.q;
    // The answers learned before, then those asked for now (the script reads the last answer for an id).
    let [scope, delegations] = this.#answers(q) ?? ["", ""];
    if (scopePattern !== "") {
      this.#patterns.learnScope(q.sessionId, scopePattern);
      scope = scopeAnswer(scopePattern, fnmatch(q.scope, scopePattern));
    }
    if (Array.isArray(asked)) {
      for (let i = 0; i + 1 < asked.length; i += 2) {
        const actions = JSON.parse(asked[i + 1]!) as string[];
        this.#patterns.learnGrant(q.agent, q.user, asked[i]!, actions);
        delegations += grantAnswer(asked[i]!, covers(actions, q.action));
      }
    }
    item.answers = [scope, delegations];
    this.#enqueue(item);
  }

  /**
   * The engine's answers for the patterns of `q` it has learned (see
   * LearnedPatterns): the session scope's ("1"/"0" and the pattern, or "")
   * and the delegations' (id, 1/0, each), or undefined when it knows none.
   */
  #answers(q: OutcomeQuery): [string, string] | undefined {
    const learned = this.#patterns;
    if (learned.empty) return undefined;
    let scope = "";
    if (q.sessionId !== "" && q.scope !== "") {
      const pattern = learned.scope(q.sessionId);
      if (pattern !== undefined) scope = scopeAnswer(pattern, fnmatch(q.scope, pattern));
    }
    let delegations = "";
    if (q.delegations) {
      const grants = learned.grants(q.agent, q.user);
      if (grants !== undefined) for (const [id, actions] of grants) delegations += grantAnswer(id, covers(actions, q.action));
    }
    return scope === "" && delegations === "" ? undefined : [scope, delegations];
  }

  /** `{prefix}:dp:<agent length>:`, the start of a grants index key. */
  #grantsPrefix(agentLength: number): Buffer {
    let p = this.#grantsPrefixes[agentLength];
    if (p === undefined) {
      p = Buffer.from(this.#keys.grantsPrefix(agentLength), "utf8");
      if (agentLength < 4096) this.#grantsPrefixes[agentLength] = p;
    }
    return p;
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    const numKeys = 1 + this.#keyArgs.count;
    const fixed = this.#fixed.text(String(this.#clock.now())).text(this.#keys.delegation("")).integer(this.#streamMaxLength);
    this.#runner.send(RESOLVE_SCRIPT, this.#runner.command(RESOLVE_SCRIPT, numKeys, [this.#keyArgs, fixed, this.#args])).then(
      (reply) => {
        const outcomes = reply as (string | [string, string])[];
        for (let i = 0; i < batch.length; i++) {
          const item = batch[i]!;
          const outcome = outcomes[i];
          try {
            if (typeof outcome === "string" && outcome.startsWith(OUTCOME_CODE.engine)) this.#answer(item, outcome);
            else item.resolve(toOutcome(outcome));
          } catch (error) {
            item.reject(error);
          }
        }
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  }
}

/** Entries kept per map at most; a full map starts over (a forgotten pattern is asked for again). */
const LEARNED_LIMIT = 4096;

/** Delegated patterns kept at most (each of at most limits.max_pattern_length characters: a few MiB). */
const LEARNED_PATTERNS = 16_384;

/**
 * Patterns the script left to the engine, by session id and by (agent, user)
 * grants pair, so that the next decisions for them carry the answers on their
 * first call. Patterns never change under an id: nothing here goes stale,
 * except ids that went away, whose answers the script never reads.
 */
class LearnedPatterns {
  readonly #scopes = new Map<string, string>();
  readonly #grants = new Map<string, Map<string, readonly string[]>>();
  /** Delegated patterns held in #grants. */
  #grantPatterns = 0;

  get empty(): boolean {
    return this.#scopes.size === 0 && this.#grants.size === 0;
  }

  scope(sessionId: string): string | undefined {
    return this.#scopes.get(sessionId);
  }

  grants(agent: string, user: string): ReadonlyMap<string, readonly string[]> | undefined {
    return this.#grants.get(pairKey(agent, user));
  }

  learnScope(sessionId: string, pattern: string): void {
    if (this.#scopes.size >= LEARNED_LIMIT) this.#scopes.clear();
    this.#scopes.set(sessionId, pattern);
  }

  learnGrant(agent: string, user: string, id: string, actions: readonly string[]): void {
    if (this.#grants.size >= LEARNED_LIMIT || this.#grantPatterns + actions.length > LEARNED_PATTERNS) {
      this.#grants.clear();
      this.#grantPatterns = 0;
    }
    const key = pairKey(agent, user);
    let ids = this.#grants.get(key);
    if (ids === undefined) {
      ids = new Map();
      this.#grants.set(key, ids);
    }
    // Revoked and expired ids are never read again: a pair keeps its newest ones.
    if (!ids.has(id) && ids.size >= LEARNED_PER_PAIR) {
      const oldest = ids.keys().next().value!;
      this.#grantPatterns -= ids.get(oldest)!.length;
      ids.delete(oldest);
    }
    this.#grantPatterns += actions.length - (ids.get(id)?.length ?? 0);
    ids.set(id, actions);
  }
}

/**
 * Delegation ids kept per grants pair at most: the default
 * limits.max_delegated_patterns, so that a pair's answers never cost more
 * matching than its live patterns can (a pair that holds more is asked again).
 */
const LEARNED_PER_PAIR = 16;

/** Whether any of a delegation's actions covers `action`. */
function covers(actions: readonly string[], action: string): boolean {
  return actions.some((pattern) => fnmatch(action, pattern));
}

function pairKey(agent: string, user: string): string {
  return `${agent.length}:${agent}${user}`;
}
