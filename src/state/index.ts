export type {
  DecisionState,
  DecisionStateQuery,
  DelegationRecord,
  ListFilter,
  OutcomeRecord,
  RevokeOutcome,
  SessionRecord,
  StateStore,
  StoreHealth,
} from "./store.ts";
export { createMemoryStore, type MemoryStoreOptions } from "./memory.ts";
export { resolveOutcome, type OutcomeQuery, type StateOutcome } from "./outcome.ts";
