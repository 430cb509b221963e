export * from "./types.ts";
export { ManualClock, systemClock, type Clock } from "./clock.ts";
export type { DecisionOrigin } from "./origin.ts";
export {
  DelegationValidationError,
  InvalidRequestError,
  StateUnavailableError,
  isDelegationValidationError,
  isInvalidRequestError,
  isStateUnavailableError,
} from "./errors.ts";
export { DEFAULT_REQUEST_LIMITS, MAX_METADATA_DEPTH, normalizeRequest, type NormalizedRequest, type RequestLimits } from "./request.ts";
