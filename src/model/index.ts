export * from "./types.ts";
export { ManualClock, systemClock, type Clock } from "./clock.ts";
export type { DecisionOrigin } from "./origin.ts";
export {
  DelegationValidationError,
  InvalidRequestError,
  LimitExceededError,
  StateUnavailableError,
  isDelegationValidationError,
  isInvalidRequestError,
  isLimitExceededError,
  isStateUnavailableError,
} from "./errors.ts";
export { DEFAULT_REQUEST_LIMITS, MAX_METADATA_DEPTH, normalizeRequest, type NormalizedRequest, type RequestLimits } from "./request.ts";
