export { authzenRoutes, AUTHZEN_METADATA, type AuthZenRoutesOptions } from "./authzen-routes.ts";
export { APPROVAL_REQUIRED, decisionResponse, type AuthZenDecision, type DecisionContextExtension } from "./decision-response.ts";
export { DISCOVERY_PATH, normalizePolicyDecisionPoint, type AuthZenMetadata } from "./discovery-route.ts";
export { EVALUATION_PATH } from "./evaluation-route.ts";
export { EVALUATIONS_PATH } from "./evaluations-route.ts";
export { SEARCH_ACTION_PATH, SEARCH_RESOURCE_PATH, SEARCH_SUBJECT_PATH } from "./search-routes.ts";
export type { AuthZenEvaluation } from "./schemas.ts";
export { httpOrigin, type AuthZenServices } from "./services.ts";
export { toAuthRequest, RESERVED_NAMES, type MappedRequest } from "./to-auth-request.ts";
