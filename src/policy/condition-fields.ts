import type { FieldResolver } from "../expr/index.ts";
import type { NormalizedRequest } from "../model/request.ts";

/**
 * How conditions read fields. Approval conditions see the request's own fields
 * first — metadata can add fields but never override `agent`, `user`, `action`,
 * `resource` or `scope` (a deliberate fix: the original let metadata spoof
 * them). A2A conditions see `from_agent`, `to_agent` and `action` from the
 * request and everything else from metadata, as in the original.
 */
export const approvalFields: FieldResolver<NormalizedRequest> = (name) => {
  switch (name) {
    case "agent":
      return (r) => r.agent;
    case "user":
      return (r) => r.user;
    case "action":
      return (r) => r.action;
    case "resource":
      return (r) => r.resource;
    case "scope":
      return (r) => r.scope;
    default:
      return metadataField(name);
  }
};

/** Field readers for agent-to-agent conditions. */
export const a2aFields: FieldResolver<NormalizedRequest> = (name) => {
  switch (name) {
    case "from_agent":
      return (r) => r.agent;
    case "to_agent":
      return (r) => r.targetAgent;
    case "action":
      return (r) => r.action;
    default:
      return metadataField(name);
  }
};

function metadataField(name: string): (r: NormalizedRequest) => unknown {
  return (r) => (Object.hasOwn(r.metadata, name) ? (r.metadata[name] ?? null) : null);
}
