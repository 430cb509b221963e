export type { DelegationRecord, DelegationTable, ListFilter, RecordTable, RevokeOutcome, SessionRecord, StateStore, StoredRecord, StoreHealth } from "./store.ts";
export { OK_NO_GRANT, resolveOutcome, SESSION_INVALID, type DecisionState, type OutcomeQuery, type StateOutcome } from "./outcome.ts";
export { createMemoryStore, type MemoryStoreOptions } from "./memory/memory-store.ts";
