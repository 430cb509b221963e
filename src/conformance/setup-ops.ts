import type { AuthEngine } from "../engine/auth-engine.ts";
import type { ManualClock } from "../model/clock.ts";

/** What setup operations act on: a fresh engine, its stopped clock, and the ids the file gave. */
export interface SetupContext {
  readonly engine: AuthEngine;
  readonly clock: ManualClock;
  /** A file's ids (`s1`) to the engine's (a UUID). */
  readonly ids: Map<string, string>;
}

/** The kind of value a setup field takes. */
export type FieldKind = "string" | "strings" | "seconds" | "duration" | "mapping";

/** One kind of setup operation: its fields, and what it does. */
export interface SetupOpHandler {
  /** Its fields and their kinds; `required` lists those that must be given. */
  readonly fields: Readonly<Record<string, FieldKind>>;
  readonly required: readonly string[];
  /** The field a bare value stands for (`advance_clock: 60`, `revoke_session: s1`). */
  readonly shorthand?: string;
  /** Problems with the fields beyond their kinds (values, fields that go together); empty when none. */
  check?(args: Readonly<Record<string, unknown>>): string[];
  /** Does it; throws with the engine's message when the engine refuses. */
  run(ctx: SetupContext, args: Readonly<Record<string, unknown>>): Promise<void>;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const duration = (v: unknown): number | null => (typeof v === "number" ? v : null);
/** An id from the file, or the text itself when the file gave no such id. */
const idOf = (ctx: SetupContext, v: unknown): string => ctx.ids.get(str(v)) ?? str(v);

/** The fields of an `approval` operation's request, as in a test's request. */
const APPROVAL_REQUEST_FIELDS = ["agent", "user", "action", "resource", "scope", "target_agent", "session", "metadata"];

/** What is wrong with an `approval` operation's fields beyond their kinds. */
function approvalProblems(a: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const r = a["request"] as Readonly<Record<string, unknown>> | undefined;
  if (r !== undefined) {
    for (const k of Object.keys(r)) if (!APPROVAL_REQUEST_FIELDS.includes(k)) problems.push(`request: unknown field '${k}' (expected ${APPROVAL_REQUEST_FIELDS.join(", ")})`);
    for (const k of ["agent", "user", "action"]) if (r[k] === undefined || r[k] === null) problems.push(`request.${k} is required`);
    for (const k of APPROVAL_REQUEST_FIELDS) {
      const v = r[k];
      if (k === "metadata") {
        if (v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v))) problems.push("request.metadata: expected a mapping");
      } else if (v !== undefined && v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") problems.push(`request.${k}: expected text`);
    }
  }
  const decide = a["decide"];
  if (decide !== undefined && decide !== "approve" && decide !== "deny") problems.push(`decide: expected approve or deny, got ${JSON.stringify(decide)}`);
  if (decide !== undefined && a["approver"] === undefined) problems.push("approver is required with decide");
  if (decide === undefined) for (const k of ["approver", "comment"]) if (a[k] !== undefined) problems.push(`${k} needs decide (approve or deny)`);
  return problems;
}

/** A request field of an `approval` operation as text; undefined when absent. */
const optionalText = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/**
 * Setup operations by name, shared by `agent-auth test` files and the
 * conformance cases. A new operation is one more entry here: both formats
 * then accept it.
 */
export const SETUP_OPS: ReadonlyMap<string, SetupOpHandler> = new Map<string, SetupOpHandler>([
  [
    "session",
    {
      fields: { id: "string", agent: "string", user: "string", scope: "string", duration: "duration" },
      required: ["agent", "user"],
      async run(ctx, a) {
        const s = await ctx.engine.createSession({ agent: str(a["agent"]), user: str(a["user"]), scope: str(a["scope"]), duration: duration(a["duration"]) });
        if (typeof a["id"] === "string") ctx.ids.set(a["id"], s.sessionId);
      },
    },
  ],
  [
    "delegation",
    {
      fields: { id: "string", from_user: "string", to_agent: "string", actions: "strings", duration: "duration", reason: "string" },
      required: ["from_user", "to_agent", "actions"],
      async run(ctx, a) {
        const d = await ctx.engine.createDelegation({
          fromUser: str(a["from_user"]),
          toAgent: str(a["to_agent"]),
          actions: Array.isArray(a["actions"]) ? (a["actions"] as string[]) : [],
          duration: duration(a["duration"]),
          reason: str(a["reason"]),
        });
        if (typeof a["id"] === "string") ctx.ids.set(a["id"], d.delegationId);
      },
    },
  ],
  [
    "revoke_session",
    {
      fields: { id: "string" },
      required: ["id"],
      shorthand: "id",
      async run(ctx, a) {
        await ctx.engine.revokeSession(idOf(ctx, a["id"]));
      },
    },
  ],
  [
    "revoke_delegation",
    {
      fields: { id: "string" },
      required: ["id"],
      shorthand: "id",
      async run(ctx, a) {
        await ctx.engine.revokeDelegation(idOf(ctx, a["id"]));
      },
    },
  ],
  [
    "approval",
    {
      fields: { id: "string", request: "mapping", justification: "string", decide: "string", approver: "string", comment: "string" },
      required: ["request"],
      check: approvalProblems,
      async run(ctx, a) {
        const r = a["request"] as Readonly<Record<string, unknown>>;
        const session = optionalText(r["session"]);
        const { task } = await ctx.engine.requestApproval({
          agent: String(r["agent"]),
          user: String(r["user"]),
          action: String(r["action"]),
          resource: optionalText(r["resource"]),
          scope: optionalText(r["scope"]),
          targetAgent: optionalText(r["target_agent"]),
          sessionId: session === undefined ? undefined : (ctx.ids.get(session) ?? session),
          metadata: r["metadata"] as Record<string, unknown> | undefined,
          justification: optionalText(a["justification"]),
        });
        // The task exists even when the decision below is refused: it stays pending.
        if (typeof a["id"] === "string") ctx.ids.set(a["id"], task.id);
        if (a["decide"] === undefined) return;
        await ctx.engine.decideApproval({ id: task.id, approve: a["decide"] === "approve", approver: str(a["approver"]), comment: str(a["comment"]) });
      },
    },
  ],
  [
    "advance_clock",
    {
      fields: { seconds: "seconds" },
      required: ["seconds"],
      shorthand: "seconds",
      async run(ctx, a) {
        ctx.clock.advance(typeof a["seconds"] === "number" ? a["seconds"] : 0);
      },
    },
  ],
]);

/**
 * Runs one operation and compares its outcome with what was expected:
 * undefined when it went as expected, else what went differently. A failed
 * operation creates nothing; the caller goes on.
 */
export async function runSetupOp(ctx: SetupContext, name: string, args: Readonly<Record<string, unknown>>, expectError: string | undefined): Promise<string | undefined> {
  const handler = SETUP_OPS.get(name);
  if (handler === undefined) return `unknown operation ${JSON.stringify(name)}`;
  const problems = handler.check?.(args) ?? [];
  if (problems.length > 0) return `${name}: ${problems.join("; ")}`;
  let message: string | undefined;
  try {
    await handler.run(ctx, args);
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  if (expectError !== undefined) {
    if (message === undefined) return `expected the error ${JSON.stringify(expectError)}, but it succeeded`;
    if (message !== expectError) return `expected the error ${JSON.stringify(expectError)}, got ${JSON.stringify(message)}`;
    return undefined;
  }
  return message === undefined ? undefined : `unexpected error ${JSON.stringify(message)}`;
}
