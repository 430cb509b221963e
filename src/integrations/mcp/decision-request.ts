import type { JSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import type { DeciderRequest } from "../../client/decider.ts";
import type { RequestMetadata } from "../../model/types.ts";

/** Who acts through the gateway: the agent, the user it acts for, and optionally a session and scope. */
export interface McpIdentity {
  readonly agent: string;
  readonly user: string;
  readonly sessionId?: string | undefined;
  readonly scope?: string | undefined;
}

/** What the gateway does with a client's request. */
export type Gate =
  | { readonly kind: "pass" }
  | { readonly kind: "decide"; readonly request: DeciderRequest; readonly what: string }
  | { readonly kind: "invalid"; readonly message: string };

/**
 * How a client's request is decided, by method: `tools/call` of tool T as
 * action `NAME:T` on `mcp://NAME/tools/T` with the call's arguments as
 * metadata; `resources/read` as `NAME:resources/read` on the URI;
 * `prompts/get` as `NAME:prompts/get` on the prompt's name with its
 * arguments as metadata. Every other method passes.
 */
export function gateOf(message: JSONRPCRequest, server: string, identity: McpIdentity): Gate {
  const params = (message.params ?? {}) as Record<string, unknown>;
  switch (message.method) {
    case "tools/call": {
      const tool = params["name"];
      if (typeof tool !== "string" || tool === "") return { kind: "invalid", message: "tools/call needs the tool's name (params.name, a string)" };
      const args = params["arguments"];
      if (args !== undefined && !isObject(args)) return { kind: "invalid", message: `tools/call '${tool}': params.arguments must be an object` };
      return { kind: "decide", what: `tools/call '${tool}'`, request: requestOf(identity, `${server}:${tool}`, toolResource(server, tool), args) };
    }
    case "resources/read": {
      const uri = params["uri"];
      if (typeof uri !== "string" || uri === "") return { kind: "invalid", message: "resources/read needs the resource's URI (params.uri, a string)" };
      return { kind: "decide", what: `resources/read '${uri}'`, request: requestOf(identity, `${server}:resources/read`, uri, undefined) };
    }
    case "prompts/get": {
      const name = params["name"];
      if (typeof name !== "string" || name === "") return { kind: "invalid", message: "prompts/get needs the prompt's name (params.name, a string)" };
      const args = params["arguments"];
      if (args !== undefined && !isObject(args)) return { kind: "invalid", message: `prompts/get '${name}': params.arguments must be an object` };
      return { kind: "decide", what: `prompts/get '${name}'`, request: requestOf(identity, `${server}:prompts/get`, name, args) };
    }
    default:
      return { kind: "pass" };
  }
}

/** The request that decides whether a tool is listed: the call's action and resource, no arguments. */
export function listRequest(server: string, identity: McpIdentity, tool: string): DeciderRequest {
  return requestOf(identity, `${server}:${tool}`, toolResource(server, tool), undefined);
}

function toolResource(server: string, tool: string): string {
  return `mcp://${server}/tools/${tool}`;
}

function requestOf(identity: McpIdentity, action: string, resource: string, metadata: RequestMetadata | undefined): DeciderRequest {
  return { agent: identity.agent, user: identity.user, sessionId: identity.sessionId, scope: identity.scope, action, resource, metadata };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
