import type { FastifyInstance } from "fastify";
import { searchActions, searchAgents, type SearchHit } from "../../../engine/search.ts";
import { HttpError } from "../errors.ts";
import { asHttpError } from "./evaluate.ts";
import { ACTION_SEARCH_REQUEST, SUBJECT_SEARCH_REQUEST, type AuthZenAction, type AuthZenEntity } from "./schemas.ts";
import { pageOf, readPage } from "./search-page.ts";
import type { AuthZenServices } from "./services.ts";
import { AGENT_SUBJECT_TYPE, toActionSearchRequest, toAgentSearchRequest } from "./to-auth-request.ts";

/** Default paths of the Search APIs agent-auth answers, and the one it does not. */
export const SEARCH_SUBJECT_PATH = "/access/v1/search/subject";
export const SEARCH_ACTION_PATH = "/access/v1/search/action";
export const SEARCH_RESOURCE_PATH = "/access/v1/search/resource";

type Context = Readonly<Record<string, unknown>> | undefined;

/**
 * The Search APIs, answered by the engine rather than approximated, and
 * never recorded (nothing was asked to act):
 *
 * - subject search for `type: "agent"`: the agents that would be allowed the
 *   action on the resource for the user in `context.user` (or
 *   `subject.properties.user`). Candidates are the policy's profiles and the
 *   agents holding that user's delegations; any other subject type has no
 *   results (agent-auth knows agents, not the users' directory);
 * - action search: the concrete actions the agent may do for the user on the
 *   resource; patterns (`pr:*`) are listed in `context.patterns_not_enumerated`;
 * - resource search cannot be answered (resources are free text): 501, and
 *   discovery does not advertise it.
 *
 * Hits that need approval are included; `context.approval_tiers` gives their
 * tier by id. Results are sorted, so pages are stable while the policy and
 * grants are.
 */
export function registerSearch(scope: FastifyInstance, s: AuthZenServices): void {
  const hooks = s.callerHooks("authorize");

  scope.post(SEARCH_SUBJECT_PATH, { schema: { body: SUBJECT_SEARCH_REQUEST }, onRequest: hooks }, async (request) => {
    const body = request.body as { subject: { type: string; properties?: Context }; action: AuthZenAction; resource: AuthZenEntity; context?: Context } & Record<string, unknown>;
    const at = readPage(body);
    let hits: readonly SearchHit[] = [];
    if (body.subject.type === AGENT_SUBJECT_TYPE) {
      const mapped = toAgentSearchRequest(body.subject, body.action, body.resource, body.context);
      try {
        hits = await searchAgents(s.engine, mapped.request);
      } catch (error) {
        throw asHttpError(error, mapped.sources);
      }
    }
    const { page, results } = pageOf(hits, at);
    return {
      page,
      ...approvalContext(results),
      results: results.map((h) => ({ type: AGENT_SUBJECT_TYPE, id: h.name })),
    };
  });

  scope.post(SEARCH_ACTION_PATH, { schema: { body: ACTION_SEARCH_REQUEST }, onRequest: hooks }, async (request) => {
    const body = request.body as { subject: AuthZenEntity; resource: AuthZenEntity; context?: Context } & Record<string, unknown>;
    const mapped = toActionSearchRequest(body.subject, body.resource, body.context);
    const at = readPage(body);
    let found;
    try {
      found = await searchActions(s.engine, mapped.request);
    } catch (error) {
      throw asHttpError(error, mapped.sources);
    }
    const { page, results } = pageOf(found.hits, at);
    const context = { ...approvalContext(results).context, ...(found.patterns.length === 0 ? {} : { patterns_not_enumerated: found.patterns }) };
    return {
      page,
      ...(Object.keys(context).length === 0 ? {} : { context }),
      results: results.map((h) => ({ name: h.name })),
    };
  });

  scope.post(SEARCH_RESOURCE_PATH, { onRequest: hooks }, async () => {
    throw new HttpError(501, "resource search is not supported: agent-auth resources are free text, so it cannot list them (discovery does not advertise search_resource_endpoint)");
  });
}

/** `context.approval_tiers`: the tier of each hit on this page that an approval would turn into an allow. */
function approvalContext(hits: readonly SearchHit[]): { context?: { approval_tiers: Record<string, string> } } {
  const tiers: Record<string, string> = {};
  for (const h of hits) if (h.decision.requiresApproval) tiers[h.name] = h.decision.tier;
  return Object.keys(tiers).length === 0 ? {} : { context: { approval_tiers: tiers } };
}
