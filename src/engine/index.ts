export {
  AuthEngine,
  type AuthEngineOptions,
  type CreateDelegationInput,
  type CreateSessionInput,
  type Revocation,
  type UserPermissionsFunction,
  type UserPermissionsProvider,
} from "./engine.ts";
export * from "./types.ts";
export { ManualClock, systemClock, type Clock } from "./clock.ts";
export {
  DelegationValidationError,
  InvalidRequestError,
  StateUnavailableError,
  isDelegationValidationError,
  isInvalidRequestError,
  isStateUnavailableError,
} from "./errors.ts";
export { DEFAULT_REQUEST_LIMITS, normalizeRequest, type NormalizedRequest, type RequestLimits } from "./request.ts";
export * as reasons from "./reasons.ts";
