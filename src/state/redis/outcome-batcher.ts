import { auditRecordJson } from "../../audit/event.ts";
import { decisionFieldsBytes, encodeAuditRecord } from "../../audit/record-bytes.ts";
import type { OutcomeRecords } from "../../audit/outcome-records.ts";
import type { Clock } from "../../model/clock.ts";
import type { OutcomeQuery, StateOutcome } from "../outcome.ts";
import type { RedisKeys } from "./keys.ts";
import { toOutcome } from "./outcome-codes.ts";
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
  #waiting: { resolve: (o: StateOutcome) => void; reject: (e: unknown) => void }[] = [];
  readonly #keyArgs = new RespArgs();
  readonly #args = new RespArgs();
  readonly #fixed = new RespArgs(256);
  readonly #sessionPrefix: Buffer;
  readonly #grantsPrefixes: Buffer[] = [];
  #scheduled = false;

  constructor(options: { keys: RedisKeys; runner: ScriptRunner; clock: Clock; streamMaxLength: number }) {
    this.#keys = options.keys;
    this.#runner = options.runner;
    this.#clock = options.clock;
    this.#streamMaxLength = options.streamMaxLength;
    this.#sessionPrefix = Buffer.from(this.#keys.session(""), "utf8");
  }

  /** The outcome of `q`; with `records`, the matching record is appended to the stream in the same call. */
  resolve(q: OutcomeQuery, records?: OutcomeRecords): Promise<StateOutcome> {
    return new Promise<StateOutcome>((resolve, reject) => {
      const keys = this.#keyArgs;
      const args = this.#args;
      // The same keys as RedisKeys.session and RedisKeys.grants, written without building their strings.
      if (q.sessionId === "") keys.text(this.#keys.none);
      else keys.joined(this.#sessionPrefix, q.sessionId, "");
      keys.joined(this.#grantsPrefix(q.agent.length), q.agent, q.user);
      const approval = q.approval;
      keys.text(approval === undefined ? this.#keys.none : this.#keys.approval(approval.id));
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
      this.#waiting.push({ resolve, reject });
      if (this.#waiting.length >= MAX_BATCH) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
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
          try {
            item.resolve(toOutcome(outcomes[i]));
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
