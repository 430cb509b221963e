import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse, RequestId } from "@modelcontextprotocol/sdk/types.js";

/** JSON-RPC error codes the gateway answers with. */
export const ErrorCodes = Object.freeze({
  /** agent-auth denied the call, or it needs an approval it does not have. */
  DENIED: -32001,
  /** JSON-RPC: the message is not JSON. */
  PARSE_ERROR: -32700,
  /** JSON-RPC: the message is not a valid request. */
  INVALID_REQUEST: -32600,
  /** JSON-RPC: the parameters are invalid (e.g. arguments over agent-auth's metadata limits). */
  INVALID_PARAMS: -32602,
  /** JSON-RPC: the gateway could not get a decision (agent-auth unreachable) or the server is gone. */
  INTERNAL_ERROR: -32603,
  /** MCP: the call needs the user to visit a URL first (URL mode elicitation): a call needing approval, for clients that support it. */
  URL_ELICITATION_REQUIRED: -32042,
});

export function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return "method" in m && "id" in m;
}

export function isNotification(m: JSONRPCMessage): m is JSONRPCNotification {
  return "method" in m && !("id" in m);
}

export function isResponse(m: JSONRPCMessage): m is JSONRPCResponse {
  return "result" in m || "error" in m;
}

/** A JSON-RPC error response. */
export function errorResponse(id: RequestId | null, code: number, message: string, data?: unknown): JSONRPCErrorResponse {
  // JSON-RPC answers an unidentifiable request with id null; the SDK's type leaves the id out instead.
  return { jsonrpc: "2.0", id: id as RequestId, error: data === undefined ? { code, message } : { code, message, data } };
}

/** A key for a request id that keeps `1` and `"1"` apart, as JSON-RPC does. */
export function idKey(id: RequestId): string {
  return typeof id === "number" ? `n${id}` : `s${id}`;
}
