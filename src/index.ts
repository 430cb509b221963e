/**
 * agent-auth as a library: the policy engine, its configuration, the errors
 * and types it speaks, and the state stores and audit sinks it runs on.
 *
 *   import { AuthEngine, loadConfig } from "agent-auth";
 *   const engine = new AuthEngine(loadConfig("agent_auth.yaml"));
 *   const decision = await engine.authorize({ agent: "copilot", user: "alice", action: "read" });
 *
 * The gRPC client is `agent-auth/client`, the server `agent-auth/server`,
 * test helpers `agent-auth/testing`; the integrations are `agent-auth/guard`,
 * `agent-auth/express`, `agent-auth/fastify` and `agent-auth/mcp`.
 */

// The engine
export { AuthEngine, type EmbeddedEngineOptions } from "./embedded-engine.ts";
export type {
  AuthEngineOptions,
  CreateDelegationInput,
  CreateSessionInput,
  Page,
  PageRequest,
  Revocation,
  SameTripRecorder,
  UserPermissionsFunction,
  UserPermissionsProvider,
} from "./engine/index.ts";
export type { CompiledPolicy } from "./policy/index.ts";
// What the integrations take: the engine above and the client both meet it.
export type { Decider, DeciderDecision, DeciderRequest } from "./client/decider.ts";
export { guard, type GuardOptions } from "./integrations/guard/guard.ts";
export { ApprovalRequiredError, AuthorizationDeniedError, isApprovalRequiredError, isAuthorizationDeniedError } from "./integrations/guard/errors.ts";

// Approvals: a human lets one exact request through (docs/approvals.md).
// Approval transitions are audit events of their own kind: subscribe to the
// engine's audit hub with `filter.kinds` (e.g. APPROVAL_EVENT_KINDS) to watch them.
export {
  APPROVAL_STATUSES,
  ApprovalError,
  isApprovalError,
  type ApprovalErrorCode,
  type ApprovalFilter,
  type ApprovalPage,
  type ApprovalPageRequest,
  type ApprovalRequestInput,
  type ApprovalStatus,
  type ApprovalTask,
  type ApprovalTaskTier,
  type DecideApprovalInput,
} from "./approvals/types.ts";
export { APPROVAL_EVENT_KINDS, type ApprovalEventDetail, type ApprovalEventKind, type AuditKind } from "./audit/event.ts";

// Requests, decisions, sessions, delegations
export {
  AuthDecision,
  TIER_ORDER,
  type ApprovalTier,
  type ApprovalUseStatus,
  type AuthRequest,
  type DecisionApproval,
  type DelegationGrant,
  type GrantStatus,
  type RequestMetadata,
  type Session,
} from "./model/types.ts";
export { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "./model/request.ts";
export { systemClock, type Clock } from "./model/clock.ts";

// Errors
export {
  DelegationValidationError,
  InvalidRequestError,
  StateUnavailableError,
  isDelegationValidationError,
  isInvalidRequestError,
  isStateUnavailableError,
} from "./model/errors.ts";
export { ConfigError, isConfigError, type ConfigIssue } from "./config/config-error.ts";
export { ExpressionEvalError, ExpressionSyntaxError, isExpressionEvalError, isExpressionSyntaxError } from "./expr/errors.ts";

// Configuration
export {
  DEFAULT_CONFIG_LIMITS,
  loadConfig,
  loadConfigWithWarnings,
  parseConfig,
  parseConfigWithWarnings,
  type ConfigLimits,
  type ParseConfigOptions,
  type ParsedConfig,
} from "./config/parse-config.ts";
export type {
  A2AConfig,
  A2APolicyConfig,
  AgentProfileConfig,
  ApprovalPolicyConfig,
  AuditConfig,
  AuthConfig,
  AuthMetadata,
  DelegationConfig,
  DelegationRuleConfig,
  RoleConfig,
  SessionConfig,
  VariableValue,
} from "./config/types.ts";
export { DEFAULT_EXPRESSION_LIMITS, MAX_EXPRESSION_DEPTH, type ExpressionLimits } from "./expr/compile.ts";
export { fnmatch } from "./policy/fnmatch.ts";

// State stores
export type { DelegationRecord, ListFilter, RecordTable, RevokeOutcome, SessionRecord, StateStore, StoredRecord, StoreHealth } from "./state/store.ts";
export type { OutcomeQuery, SessionOutcome, StateOutcome } from "./state/outcome.ts";
export type {
  ApprovalChange,
  ApprovalChangeOutcome,
  ApprovalCreateOutcome,
  ApprovalListFilter,
  ApprovalListResult,
  ApprovalRead,
  ApprovalRecord,
  ApprovalRedemption,
  ApprovalTable,
  ApprovalUse,
  StoredApprovalStatus,
} from "./state/approval-records.ts";
export { createMemoryStore, type MemoryStoreOptions } from "./state/memory/memory-store.ts";
export { createRedisStore, parseRedisTarget, type RedisConnection, type RedisStore, type RedisStoreOptions } from "./state/redis/index.ts";

// Audit
export type { AuditEvent } from "./audit/event.ts";
export type { AuditSink, SinkCloseOptions, SinkHealth } from "./audit/sink.ts";
export { AuditSinkUnavailableError, isAuditSinkUnavailableError } from "./audit/errors.ts";
export type { OutcomeRecords } from "./audit/outcome-records.ts";
export { createJsonlFileSink, type JsonlFileSinkOptions } from "./audit/jsonl-file-sink.ts";
