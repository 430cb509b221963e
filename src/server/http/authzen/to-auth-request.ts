/**
 * AuthZEN → agent-auth: how an evaluation's subject, action, resource and
 * context become an AuthRequest (docs/authzen.md has the table). The subject
 * is the user an agent acts for, the agent its RFC 8693 actor
 * (`subject.properties.act.sub`) or `context.agent`; or the subject is the
 * agent, with the user beside it. Every request field remembers the member
 * it came from, so that any later problem (a limit, an empty name) names
 * what the client sent.
 */
import type { AuthRequest } from "../../../model/types.ts";
import { badRequest, HttpError } from "../errors.ts";
import type { AuthZenAction, AuthZenEntity, AuthZenEvaluation } from "./schemas.ts";

/**
 * Members of `context` and `properties` that are request fields, never
 * condition fields. `approval` is the access-request profile's approval
 * reference (`context.approval.id` redeems an approval).
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["agent", "user", "scope", "session_id", "target_agent", "approval"]);

/** The subject type that makes the subject the agent itself. */
export const AGENT_SUBJECT_TYPE = "agent";

/** An AuthRequest and the member each of its fields came from (`agent` → `subject.properties.act.sub`, `metadata.amount` → `context.amount`). */
export interface MappedRequest<R = AuthRequest> {
  readonly request: R;
  readonly sources: ReadonlyMap<string, string>;
}

type Context = Readonly<Record<string, unknown>> | undefined;

/** Maps a complete evaluation; throws HttpError 400 naming the member for a request agent-auth cannot answer. */
export function toAuthRequest(e: AuthZenEvaluation): MappedRequest {
  const sources = new Map<string, string>();
  const { agent, user } = parties(e.subject, e.context, sources);
  sources.set("action", "action.name");
  const approvalId = approvalOf(e.context?.["approval"]);
  if (approvalId !== undefined) sources.set("approval_id", "context.approval.id");
  return { request: { agent, user, action: e.action.name, ...target(e.action, e.resource, e.context, sources), ...(approvalId === undefined ? {} : { approvalId }) }, sources };
}

/**
 * `context.approval.id`: the approval a re-evaluation presents (the
 * access-request profile's `approval` object, passed back unchanged; members
 * other than `id` are not read — the engine checks the approval itself).
 */
function approvalOf(approval: unknown): string | undefined {
  if (approval === undefined || approval === null) return undefined;
  if (typeof approval !== "object" || Array.isArray(approval)) throw badRequest("context.approval", 'must be an object with the approval\'s "id"');
  const id = (approval as Record<string, unknown>)["id"];
  if (typeof id !== "string" || id === "") throw badRequest("context.approval.id", id === undefined || id === null ? "is required: the approval to redeem" : "must be a non-empty string");
  return id;
}

/** Subject search: the user the agents would act for (`subject.properties.user` or `context.user`) and the rest of the request. */
export function toAgentSearchRequest(subject: { readonly properties?: Context }, action: AuthZenAction, resource: AuthZenEntity, context: Context): MappedRequest<Omit<AuthRequest, "agent">> {
  const sources = new Map<string, string>();
  const user = agreeing("user", [["subject.properties.user", subject.properties?.["user"]], ["context.user", context?.["user"]]], sources);
  if (user === undefined) throw badRequest("context.user", "is required to search for agents: the user they would act for (or give subject.properties.user)");
  sources.set("action", "action.name");
  return { request: { user, action: action.name, ...target(action, resource, context, sources) }, sources };
}

/** Action search: agent and user as for an evaluation, no action. */
export function toActionSearchRequest(subject: AuthZenEntity, resource: AuthZenEntity, context: Context): MappedRequest<Omit<AuthRequest, "action">> {
  const sources = new Map<string, string>();
  const { agent, user } = parties(subject, context, sources);
  return { request: { agent, user, ...target(undefined, resource, context, sources) }, sources };
}

/**
 * The member an engine error names: `agent` becomes where the agent was
 * given, `metadata.amount.x` the property or context member `amount` came from.
 */
export function memberOf(field: string, sources: ReadonlyMap<string, string>): string {
  const direct = sources.get(field);
  if (direct !== undefined) return direct;
  const m = /^metadata\.([^.[]*)(.*)$/.exec(field);
  if (m !== null) {
    const source = sources.get(`metadata.${m[1]}`);
    if (source !== undefined) return source + m[2];
  }
  if (field === "metadata") return "properties and context";
  return field;
}

const NO_AGENT =
  "no acting agent: agent-auth decides for agents acting for users. Name the agent in subject.properties.act " +
  '({"sub": "<agent>", "sub_profile": "ai_agent"}, the RFC 8693 actor) or in context.agent, ' +
  'or make the subject {"type": "agent", "id": "<agent>"} with the user in subject.properties.user or context.user';

function parties(subject: AuthZenEntity, context: Context, sources: Map<string, string>): { agent: string; user: string } {
  if (subject.type === AGENT_SUBJECT_TYPE) {
    sources.set("agent", "subject.id");
    agreeing("agent", [["subject.id", subject.id], ["context.agent", context?.["agent"]]], sources);
    const user = agreeing("user", [["subject.properties.user", subject.properties?.["user"]], ["context.user", context?.["user"]]], sources);
    if (user === undefined) throw badRequest("subject.properties.user", "is required when the subject is an agent: the user it acts for (or give context.user)");
    return { agent: subject.id, user };
  }
  sources.set("user", "subject.id");
  const user = agreeing("user", [["subject.id", subject.id], ["context.user", context?.["user"]]], sources) ?? subject.id;
  const agent = agreeing("agent", [["subject.properties.act.sub", actor(subject.properties?.["act"])], ["context.agent", context?.["agent"]]], sources);
  if (agent === undefined) throw new HttpError(400, NO_AGENT);
  return { agent, user };
}

/** `act.sub` of an RFC 8693 actor object; nested `act` (earlier actors in the chain) is not the acting agent. */
function actor(act: unknown): unknown {
  if (act === undefined || act === null) return undefined;
  if (typeof act !== "object" || Array.isArray(act)) throw badRequest("subject.properties.act", 'must be an object naming the acting agent in "sub"');
  const sub = (act as Record<string, unknown>)["sub"];
  if (typeof sub !== "string") throw badRequest("subject.properties.act.sub", sub === undefined || sub === null ? "is required: the acting agent" : "must be a string");
  return sub;
}

/**
 * The one value a request field is given, from any of the members that may
 * carry it (null or absent: not given). Two members giving different values
 * is a 400 naming both; a non-string is a 400 naming its member.
 */
function agreeing(field: string, candidates: ReadonlyArray<readonly [string, unknown]>, sources: Map<string, string>): string | undefined {
  let value: string | undefined;
  let from = "";
  for (const [member, v] of candidates) {
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") throw badRequest(member, "must be a string");
    if (value === undefined) {
      value = v;
      from = member;
    } else if (v !== value) {
      throw new HttpError(400, `${from} (${JSON.stringify(value)}) and ${member} (${JSON.stringify(v)}) name different ${field === "agent" ? "agents" : `values of ${field}`}; give one`);
    }
  }
  if (value !== undefined) sources.set(field, from);
  return value;
}

function optionalText(member: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(member, "must be a string");
  return value;
}

/** Resource, scope, session, target agent and condition fields. */
function target(action: AuthZenAction | undefined, resource: AuthZenEntity, context: Context, sources: Map<string, string>): Omit<AuthRequest, "agent" | "user" | "action"> {
  sources.set("resource", "resource.id");
  const scope = agreeing("scope", [["resource.properties.scope", resource.properties?.["scope"]], ["context.scope", context?.["scope"]]], sources);
  const sessionId = optionalText("context.session_id", context?.["session_id"]);
  if (sessionId !== undefined) sources.set("session_id", "context.session_id");
  const targetAgent = optionalText("context.target_agent", context?.["target_agent"]);
  if (targetAgent !== undefined) sources.set("target_agent", "context.target_agent");
  return {
    resource: resource.id,
    ...(scope === undefined ? {} : { scope }),
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(targetAgent === undefined ? {} : { targetAgent }),
    metadata: conditionFields(resource.properties, action?.properties, context, sources),
  };
}

/**
 * Condition fields: resource properties, then action properties, then
 * context (a later one wins), without the reserved names. The engine keeps
 * request fields out of reach of metadata besides.
 */
function conditionFields(resource: Context, action: Context, context: Context, sources: Map<string, string>): Record<string, unknown> | undefined {
  if (resource === undefined && action === undefined && context === undefined) return undefined;
  const out = Object.create(null) as Record<string, unknown>;
  const add = (from: Context, at: string): void => {
    if (from === undefined) return;
    for (const key of Object.keys(from)) {
      if (RESERVED_NAMES.has(key)) continue;
      out[key] = from[key];
      sources.set(`metadata.${key}`, `${at}.${key}`);
    }
  };
  add(resource, "resource.properties");
  add(action, "action.properties");
  add(context, "context");
  return out;
}
