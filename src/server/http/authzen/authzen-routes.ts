import type { HttpRouteGroup } from "../route-group.ts";
import { baseUrlOf, registerDiscovery, type AuthZenMetadata, type DiscoveryOptions } from "./discovery-route.ts";
import { EVALUATION_PATH, registerEvaluation } from "./evaluation-route.ts";
import { EVALUATIONS_PATH, registerEvaluations } from "./evaluations-route.ts";
import { registerSearch, SEARCH_ACTION_PATH, SEARCH_SUBJECT_PATH } from "./search-routes.ts";
import type { AuthZenServices } from "./services.ts";

/** What the AuthZEN API itself advertises. */
export const AUTHZEN_METADATA: AuthZenMetadata = Object.freeze({
  endpoints: Object.freeze({
    access_evaluation_endpoint: EVALUATION_PATH,
    access_evaluations_endpoint: EVALUATIONS_PATH,
    search_subject_endpoint: SEARCH_SUBJECT_PATH,
    search_action_endpoint: SEARCH_ACTION_PATH,
  }),
});

/** Options for {@link authzenRoutes}. */
export interface AuthZenRoutesOptions extends Omit<AuthZenServices, "baseUrl">, Omit<DiscoveryOptions, "metadata"> {
  /** What other route groups add to the discovery document (endpoints, capabilities). */
  readonly metadata?: readonly AuthZenMetadata[];
}

/**
 * The OpenID AuthZEN Authorization API 1.0 as one route group: evaluation,
 * evaluations, subject and action search (caller group `authorize`), and
 * the public discovery document listing them and whatever other groups
 * declare.
 */
export function authzenRoutes(o: AuthZenRoutesOptions): HttpRouteGroup {
  return {
    name: "authzen",
    register(scope) {
      const s: AuthZenServices = { ...o, baseUrl: baseUrlOf(o) };
      registerEvaluation(scope, s);
      registerEvaluations(scope, s);
      registerSearch(scope, s);
      registerDiscovery(scope, { ...o, metadata: [AUTHZEN_METADATA, ...(o.metadata ?? [])] });
    },
  };
}
