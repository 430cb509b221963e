import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../../model/clock.ts";
import {
  approvalKeepUntil,
  type ApprovalChange,
  type ApprovalChangeOutcome,
  type ApprovalCreateOutcome,
  type ApprovalListFilter,
  type ApprovalListResult,
  type ApprovalRead,
  type ApprovalRecord,
  type ApprovalTable,
  type StoredApprovalStatus,
} from "../approval-records.ts";
import { InvalidListPositionError, LIST_SCAN_BUDGET, listPosition, parseListPosition, type ListPage } from "../store.ts";
import { APPROVAL_CREATE, APPROVAL_GET, APPROVAL_LIST, APPROVAL_TRANSITION } from "./approval-scripts.ts";
import { guard } from "./connection.ts";
import type { RedisKeys } from "./keys.ts";
import { hashOf } from "./redis-table.ts";

type Scripted = {
  aaApCreate(numKeys: number, ...args: (string | number)[]): Promise<[string, (number | string)?, string[]?]>;
  aaApGet(key: string, now: number): Promise<[number, string[]] | null>;
  aaApTransition(numKeys: number, ...args: (string | number)[]): Promise<[string, number?, string[]?]>;
  aaApList(key: string, ...args: (string | number)[]): Promise<(string | number | string[])[]>;
};

/** Registers the approval scripts on a client (once per client). */
export function defineApprovalScripts(client: Redis | Cluster): void {
  client.defineCommand("aaApCreate", { lua: APPROVAL_CREATE });
  client.defineCommand("aaApGet", { lua: APPROVAL_GET, numberOfKeys: 1 });
  client.defineCommand("aaApTransition", { lua: APPROVAL_TRANSITION });
  client.defineCommand("aaApList", { lua: APPROVAL_LIST, numberOfKeys: 1 });
}

/** The numeric fields of a task's hash. */
const NUMBERS = new Set(["createdAt", "expiresAt", "decidedAt", "maxUses", "usesLeft", "historyMs"]);
/** Every field of a record, in the order the hash is written. */
const FIELDS: readonly (keyof ApprovalRecord)[] = [
  "id", "status", "agent", "user", "action", "resource", "scope", "sessionId", "metadataDigest", "binding", "tier",
  "approvalPolicy", "policyRevision", "justification", "requestedBy", "idempotencyKey", "callbackUrl", "requestDecisionId",
  "createdAt", "expiresAt", "decidedAt", "decidedBy", "comment", "maxUses", "usesLeft", "historyMs",
];

/**
 * Approval tasks in Redis: one hash each (TTL: until its history ends, so no
 * sweeper), a listing index, a pending index per agent and user (bounded by
 * `approvals.max_pending`) and idempotency keys. Each operation is one
 * script, so every transition is atomic across replicas.
 */
export class RedisApprovals implements ApprovalTable {
  readonly #redis: Scripted;
  readonly #keys: RedisKeys;
  readonly #clock: Clock;

  constructor(client: Redis | Cluster, keys: RedisKeys, clock: Clock) {
    this.#redis = client as unknown as Scripted;
    this.#keys = keys;
    this.#clock = clock;
  }

  async create(r: ApprovalRecord, maxPending: number): Promise<ApprovalCreateOutcome> {
    const k = this.#keys;
    const fields: (string | number)[] = [];
    for (const f of FIELDS) fields.push(f, r[f]);
    fields.push("keep", approvalKeepUntil(r));
    const reply = await guard(
      this.#redis.aaApCreate(
        4,
        k.approval(r.id),
        k.approvals,
        r.idempotencyKey === "" ? k.none : k.approvalKey(r.agent, r.user, r.idempotencyKey),
        k.approvalsPending(r.agent, r.user),
        r.id,
        this.#clock.now(),
        maxPending,
        r.createdAt,
        approvalKeepUntil(r),
        r.expiresAt,
        k.approval(""),
        r.idempotencyKey === "" ? "0" : "1",
        ...fields,
      ),
    );
    switch (reply[0]) {
      case "created":
        return { kind: "created", record: r };
      case "existing":
        return { kind: "existing", read: readOf(Number(reply[1]), reply[2] ?? []) };
      default:
        return { kind: "limit", pending: Number(reply[1]) };
    }
  }

  async get(id: string): Promise<ApprovalRead | undefined> {
    const reply = await guard(this.#redis.aaApGet(this.#keys.approval(id), this.#clock.now()));
    return reply === null ? undefined : readOf(reply[0], reply[1]);
  }

  async transition(id: string, c: ApprovalChange): Promise<ApprovalChangeOutcome> {
    const k = this.#keys;
    const reply = await guard(
      this.#redis.aaApTransition(2, k.approval(id), k.approvals, this.#clock.now(), c.to, c.at, c.by, c.comment, c.expiresAt, k.approvalsPendingBase),
    );
    switch (reply[0]) {
      case "changed":
        return { kind: "changed", record: recordOf(reply[2] ?? []) };
      case "terminal":
        return { kind: "terminal", read: readOf(Number(reply[1]), reply[2] ?? []) };
      default:
        return { kind: "not_found" };
    }
  }

  async list(filter: ApprovalListFilter, page: ListPage): Promise<ApprovalListResult> {
    let after = { score: "", id: "" };
    if (page.after !== undefined && page.after !== "") {
      const p = parseListPosition(page.after);
      if (p === undefined) throw new InvalidListPositionError(page.after);
      after = { score: String(p.createdAt), id: p.id };
    }
    const out = await guard(
      this.#redis.aaApList(
        this.#keys.approvals,
        this.#keys.approval(""),
        this.#clock.now(),
        filter.status ?? "",
        filter.agent ?? "",
        filter.user ?? "",
        after.score,
        after.id,
        page.limit,
        LIST_SCAN_BUDGET,
      ),
    );
    const [score, member] = out as [string, string];
    const records: ApprovalRecord[] = [];
    const expiredNow: ApprovalRecord[] = [];
    for (let i = 2; i + 1 < out.length; i += 2) {
      const flag = Number(out[i]);
      const record = recordOf(out[i + 1] as string[]);
      if (flag !== 3) records.push(record);
      if (flag === 1 || flag === 3) expiredNow.push(record);
    }
    return { records, next: score === "" ? "" : listPosition(Number(score), member), expiredNow };
  }
}

function readOf(flag: number, flat: readonly string[]): ApprovalRead {
  return { record: recordOf(flat), expiredNow: Number(flag) === 1 };
}

/** A task from its hash reply. */
export function recordOf(flat: readonly string[]): ApprovalRecord {
  const h = hashOf(flat);
  const r: Record<string, string | number> = {};
  for (const f of FIELDS) {
    const v = h.get(f) ?? "";
    r[f] = NUMBERS.has(f) ? Number(v) : v;
  }
  r["status"] = r["status"] as StoredApprovalStatus;
  return r as unknown as ApprovalRecord;
}
