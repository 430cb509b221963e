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
export type FieldKind = "string" | "strings" | "seconds" | "duration";

/** One kind of setup operation: its fields, and what it does. */
export interface SetupOpHandler {
  /** Its fields and their kinds; `required` lists those that must be given. */
  readonly fields: Readonly<Record<string, FieldKind>>;
  readonly required: readonly string[];
  /** The field a bare value stands for (`advance_clock: 60`, `revoke_session: s1`). */
  readonly shorthand?: string;
  /** Does it; throws with the engine's message when the engine refuses. */
  run(ctx: SetupContext, args: Readonly<Record<string, unknown>>): Promise<void>;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const duration = (v: unknown): number | null => (typeof v === "number" ? v : null);
/** An id from the file, or the text itself when the file gave no such id. */
const idOf = (ctx: SetupContext, v: unknown): string => ctx.ids.get(str(v)) ?? str(v);

/**
 * Setup operations by name, shared by `agent-auth test` files and the
 * conformance cases. A new operation (the approvals' `approval`, say) is one
 * more entry here: both formats then accept it.
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
