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

/**
 * Where the mapping notes the member each request field came from; undefined
 * on the hot path, where nothing is noted (see {@link authRequestOf}).
 */
type Sources = Map<string, string> | undefined;

/** Maps a complete evaluation; throws HttpError 400 naming the member for a request agent-auth cannot answer. */
export function toAuthRequest(e: AuthZenEvaluation): MappedRequest {
  const sources = new Map<string, string>();
  return { request: mapEvaluation(e, sources), sources };
}

/**
 * The AuthRequest of {@link toAuthRequest} alone, without noting where each
 * field came from: what a decision needs. The mapping is a pure function of
 * the evaluation, so an error found later is named by mapping the same
 * evaluation again with {@link toAuthRequest} (it throws nothing the second
 * time either).
 */
export function authRequestOf(e: AuthZenEvaluation): AuthRequest {
  return mapEvaluation(e, undefined);
}

function mapEvaluation(e: AuthZenEvaluation, sources: Sources): AuthRequest {
  const context = e.context;
  const { agent, user } = parties(e.subject, context, sources);
  sources?.set("action", "action.name");
  const approvalId = approvalOf(context?.["approval"]);
  if (approvalId !== undefined) sources?.set("approval_id", "context.approval.id");
  const t = target(e.action, e.resource, context, sources);
  // One literal, one shape: absent fields are undefined, which the engine reads as absent.
  return { agent, user, action: e.action.name, resource: t.resource, scope: t.scope, sessionId: t.sessionId, targetAgent: t.targetAgent, metadata: t.metadata, approvalId };
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
  const user = agreeing("user", "subject.properties.user", subject.properties?.["user"], "context.user", context?.["user"], sources);
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

function parties(subject: AuthZenEntity, context: Context, sources: Sources): { agent: string; user: string } {
  if (subject.type === AGENT_SUBJECT_TYPE) {
    sources?.set("agent", "subject.id");
    agreeing("agent", "subject.id", subject.id, "context.agent", context?.["agent"], sources);
    const user = agreeing("user", "subject.properties.user", subject.properties?.["user"], "context.user", context?.["user"], sources);
    if (user === undefined) throw badRequest("subject.properties.user", "is required when the subject is an agent: the user it acts for (or give context.user)");
    return { agent: subject.id, user };
  }
  sources?.set("user", "subject.id");
  const user = agreeing("user", "subject.id", subject.id, "context.user", context?.["user"], sources) ?? subject.id;
  const agent = agreeing("agent", "subject.properties.act.sub", actor(subject.properties?.["act"]), "context.agent", context?.["agent"], sources);
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
 * The one value a request field is given, from either of the two members
 * that may carry it (null or absent: not given), in this order. The two
 * giving different values is a 400 naming both; a non-string is a 400
 * naming its member.
 */
function agreeing(field: string, firstMember: string, first: unknown, secondMember: string, second: unknown, sources: Sources): string | undefined {
  const a = given(firstMember, first);
  const b = given(secondMember, second);
  if (a !== undefined && b !== undefined && a !== b) {
    throw new HttpError(400, `${firstMember} (${JSON.stringify(a)}) and ${secondMember} (${JSON.stringify(b)}) name different ${field === "agent" ? "agents" : `values of ${field}`}; give one`);
  }
  if (a !== undefined) sources?.set(field, firstMember);
  else if (b !== undefined) sources?.set(field, secondMember);
  return a ?? b;
}

/** A member's text: undefined when null or absent, a 400 naming the member when not a string. */
function given(member: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(member, "must be a string");
  return value;
}

/** What an evaluation's resource and context give a request besides its parties and action; undefined: absent. */
interface TargetFields {
  readonly resource: string;
  readonly scope: string | undefined;
  readonly sessionId: string | undefined;
  readonly targetAgent: string | undefined;
  readonly metadata: Record<string, unknown> | undefined;
}

/** Resource, scope, session, target agent and condition fields. */
function target(action: AuthZenAction | undefined, resource: AuthZenEntity, context: Context, sources: Sources): TargetFields {
  sources?.set("resource", "resource.id");
  const scope = agreeing("scope", "resource.properties.scope", resource.properties?.["scope"], "context.scope", context?.["scope"], sources);
  const sessionId = given("context.session_id", context?.["session_id"]);
  if (sessionId !== undefined) sources?.set("session_id", "context.session_id");
  const targetAgent = given("context.target_agent", context?.["target_agent"]);
  if (targetAgent !== undefined) sources?.set("target_agent", "context.target_agent");
  return { resource: resource.id, scope, sessionId, targetAgent, metadata: conditionFields(resource.properties, action?.properties, context, sources) };
}

/**
 * Condition fields: resource properties, then action properties, then
 * context (a later one wins), without the reserved names; undefined when
 * there are none (the engine reads that as empty metadata). The engine keeps
 * request fields out of reach of metadata besides.
 */
function conditionFields(resource: Context, action: Context, context: Context, sources: Sources): Record<string, unknown> | undefined {
  let out = addFields(undefined, resource, "resource.properties", sources);
  out = addFields(out, action, "action.properties", sources);
  return addFields(out, context, "context", sources);
}

/** `from`'s members other than the reserved names, into `out` (made when the first one comes). */
function addFields(out: Record<string, unknown> | undefined, from: Context, at: string, sources: Sources): Record<string, unknown> | undefined {
  if (from === undefined) return out;
  for (const key of Object.keys(from)) {
    if (RESERVED_NAMES.has(key)) continue;
    out ??= Object.create(null) as Record<string, unknown>;
    out[key] = from[key];
    sources?.set(`metadata.${key}`, `${at}.${key}`);
  }
  return out;
}
