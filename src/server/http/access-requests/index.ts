export { accessRequests, ACCESS_REQUEST_CAPABILITY, ACCESS_REQUEST_METADATA, ACCESS_REQUEST_PATH, JWKS_PATH, type AccessRequestOptions, type AccessRequests } from "./access-request-routes.ts";
export { PROBLEM_TYPES, problemType, type ProblemName } from "./problems.ts";
