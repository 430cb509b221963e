import { APPROVAL_SKIPPED, type ApprovalUse } from "../approval-records.ts";
import { OK_NO_GRANT, SESSION_INVALID, type StateOutcome } from "../outcome.ts";
import { StateUnavailableError } from "../../model/errors.ts";

/**
 * How the RESOLVE script reports one decision's outcome: "" (ok, no grant),
 * `g<grant id>\x1f<grantor>`, `i` (invalid session), `a<expected agent>`,
 * `u<expected user>`, `s<session scope pattern>` (the request's scope is
 * outside it), `r<session scope pattern>` (the request named no scope and
 * `sessions.require_scope` demands one). The script is generated
 * with these very codes.
 */
export const OUTCOME_CODE = Object.freeze({
  grant: "g",
  separator: "\x1f",
  sessionInvalid: "i",
  agentMismatch: "a",
  userMismatch: "u",
  scopeOutside: "s",
  scopeRequired: "r",
  /** Not decided: patterns only the engine can match (see OutcomeBatcher). */
  engine: "m",
});

/**
 * How the engine answers the RESOLVE script for patterns only it can match
 * (see OutcomeBatcher): the session scope's answer is "1" or "0" followed by
 * the pattern it was matched with; the delegations' is, for each, its id,
 * `separator`, "1" or "0", and `end`. The script reads them with these very
 * characters.
 */
export const ANSWER = Object.freeze({ separator: OUTCOME_CODE.separator, end: "\x1e" });

/** The answer for a session scope pattern: whether the request's scope is inside it. */
export function scopeAnswer(pattern: string, inside: boolean): string {
  return (inside ? "1" : "0") + pattern;
}

/** The answer for one delegation: whether any of its actions covers the request's action. */
export function grantAnswer(id: string, covers: boolean): string {
  return id + ANSWER.separator + (covers ? "1" : "0") + ANSWER.end;
}

/** Reads one outcome as the script reports it: a string, or {outcome, approval use} when an approval was presented. */
export function toOutcome(reply: string | [string, string] | undefined): StateOutcome {
  if (Array.isArray(reply)) return { ...toSessionOutcome(reply[0]), approval: toApprovalUse(reply[1]) };
  return toSessionOutcome(reply);
}

const UNUSABLE = new Set(["unknown", "pending", "denied", "expired", "cancelled", "used", "mismatch"]);

/** The approval part: "k" skipped, "x<status>" / "X<status>" unusable (X: expired by this read), "r<left>\x1f<approver>" redeemed. */
function toApprovalUse(code: string): ApprovalUse {
  const detail = code.slice(1);
  switch (code[0]) {
    case "k":
      return APPROVAL_SKIPPED;
    case "x":
    case "X":
      if (UNUSABLE.has(detail)) return { kind: "unusable", status: detail as "unknown", expiredNow: code[0] === "X" };
      break;
    case "r": {
      const at = detail.indexOf(OUTCOME_CODE.separator);
      if (at > 0) return { kind: "redeemed", usesLeft: Number(detail.slice(0, at)), approvedBy: detail.slice(at + 1) };
      break;
    }
  }
  throw new StateUnavailableError(`unexpected approval outcome from Redis: ${code}`);
}

function toSessionOutcome(reply: string | undefined): StateOutcome {
  if (reply === "") return OK_NO_GRANT;
  const detail = reply?.slice(1) ?? "";
  switch (reply?.[0]) {
    case OUTCOME_CODE.grant: {
      const at = detail.indexOf(OUTCOME_CODE.separator);
      if (at < 0) break;
      return { kind: "ok", grant: { id: detail.slice(0, at), fromUser: detail.slice(at + 1) } };
    }
    case OUTCOME_CODE.sessionInvalid:
      return SESSION_INVALID;
    case OUTCOME_CODE.agentMismatch:
      return { kind: "agent_mismatch", expected: detail };
    case OUTCOME_CODE.userMismatch:
      return { kind: "user_mismatch", expected: detail };
    case OUTCOME_CODE.scopeOutside:
      return { kind: "scope_outside", pattern: detail };
    case OUTCOME_CODE.scopeRequired:
      return { kind: "scope_required", pattern: detail };
  }
  throw new StateUnavailableError(`unexpected outcome from Redis: ${String(reply)}`);
}
