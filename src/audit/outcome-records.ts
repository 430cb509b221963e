import type { AuthDecision } from "../model/types.ts";
import type { AuditEvent } from "./event.ts";

/**
 * A state-dependent decision's audit record for every outcome, prepared
 * before the state is known, for a store that appends the record in the same
 * round trip as the state read: `event` is the record when no grant is
 * needed or found; when a delegation grant allows, it is the same record with
 * `ifGrant` as its decision (undefined when no grant was looked for); after a
 * failed session check the store writes the denial's decision fields itself
 * (the fields of {@link decisionFieldsJson}, with the session reason).
 */
export interface OutcomeRecords {
  readonly event: AuditEvent;
  readonly ifGrant: AuthDecision | undefined;
}
