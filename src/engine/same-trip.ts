import type { AuditEvent } from "../audit/event.ts";
import type { OutcomeRecords } from "../audit/outcome-records.ts";
import * as reasons from "../model/reasons.ts";
import type { NormalizedRequest } from "../model/request.ts";
import type { AuthDecision } from "../model/types.ts";
import type { CompiledPolicy } from "../policy/index.ts";
import { BY_PROFILE, BY_PROVIDER, conclude, denial, type Screening } from "./decide.ts";

/** A state-dependent decision decided for each outcome before its state is read. */
export interface PreparedDecision {
  /** The answer when a delegation grant allows. */
  readonly ifGrant: AuthDecision;
  /** The answer when no grant is needed or found. */
  readonly ifNoGrant: AuthDecision;
  /** The evaluation time every candidate reports, so the answer matches the record written before it was known. */
  readonly elapsedMs: number;
  /** What the same-trip recorder appends. */
  readonly records: OutcomeRecords;
}

/** Everything {@link prepareDecision} needs. */
export interface PrepareInput {
  readonly policy: CompiledPolicy;
  readonly req: NormalizedRequest;
  readonly screening: Screening;
  /** The user-permission provider's answer (false when it was not asked). */
  readonly providerAnswer: boolean | "error";
  readonly decisionId: string;
  readonly elapsedMs: number;
  /** Builds the record of a decision (time, policy name and version). */
  readonly eventOf: (decision: AuthDecision) => AuditEvent;
}

/**
 * Every answer a state-dependent decision can have, with the record of each,
 * for a recorder that appends the right one in the same round trip as the
 * state read. A failed session check needs no candidate: the recorder writes
 * that denial itself.
 */
export function prepareDecision(p: PrepareInput): PreparedDecision {
  const { policy, req, screening, decisionId, elapsedMs } = p;
  const ifNoGrant =
    p.providerAnswer === "error"
      ? denial(policy, reasons.USER_PERMISSIONS_UNAVAILABLE, elapsedMs, decisionId)
      : conclude({ policy, req, screening, source: screening.profileAllows ? BY_PROFILE : p.providerAnswer ? BY_PROVIDER : undefined, decisionId, start: 0, elapsedMs });
  const ifGrant = screening.needDelegations
    ? conclude({ policy, req, screening, source: { kind: "delegation", fromUser: req.user }, decisionId, start: 0, elapsedMs })
    : ifNoGrant;
  return { ifGrant, ifNoGrant, elapsedMs, records: { event: p.eventOf(ifNoGrant), ifGrant: screening.needDelegations ? ifGrant : undefined } };
}
