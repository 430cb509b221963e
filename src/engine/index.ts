export { AuthEngine, type AuthEngineOptions } from "./auth-engine.ts";
export type { CreateDelegationInput, CreateSessionInput, Page, PageRequest, Revocation } from "./grants.ts";
export type { SameTripRecorder } from "./journal.ts";
export type { UserPermissionsFunction, UserPermissionsProvider } from "./provider.ts";
export { explainDecision, type Explanation, type ExplainState, type ExplainStep, type ExplainedDecision } from "./explain.ts";
export { forEachRecordedDecision, PolicyReplayer, recordedDecisionOf, type RecordedDecision, type ReplayKind, type ReplayResult } from "./replay.ts";
export { searchActions, searchAgents, type ActionSearchResult, type SearchHit } from "./search.ts";
