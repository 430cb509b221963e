import type { JSONRPCMessage, JSONRPCRequest, JSONRPCResponse, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { Decider } from "../../client/decider.ts";
import { createApprovalFlow } from "../approval-flow.ts";
import { gateOf, listRequest, type McpIdentity } from "./decision-request.ts";
import { approvalAnswer, approvalDeniedAnswer, approvalElicitationAnswer, consoleLink, deniedAnswer, failureAnswer } from "./gateway-answers.ts";
import { ErrorCodes, errorResponse, idKey, isNotification, isRequest, isResponse } from "./json-rpc.ts";

/** How a gateway handles calls that need approval. */
export interface McpApprovalOptions {
  /**
   * Where approvers answer tasks: the agent-auth console (`http://host:8080/console`,
   * or the server's HTTP address). Answers to calls needing approval then
   * carry `console_url`, the task's page (`…/console/approvals/ID`); a
   * client that declared URL mode elicitation (`capabilities.elicitation.url`)
   * gets the URLElicitationRequired error (`-32042`) with that page instead.
   */
  readonly consoleUrl?: string | undefined;
  /** A line added to answers to calls needing approval (`data.note`), e.g. that no approver can reach this gateway's tasks. */
  readonly note?: string | undefined;
  /** Request a task for a call that needs approval (default true); false: answer with the decision alone. */
  readonly requestApproval?: boolean | undefined;
}

/** What a gateway needs: who decides, the server's name in policy actions, who acts, and where messages go. */
export interface McpGatewayOptions {
  readonly approvals?: McpApprovalOptions | undefined;
  readonly decider: Decider;
  /** The server's name: actions are `NAME:TOOL`, resources `mcp://NAME/tools/TOOL`. */
  readonly server: string;
  readonly identity: McpIdentity;
  /** Sends to the client; `relatedRequestId` names the client's request a server message belongs to, when known. */
  toClient(message: JSONRPCMessage, relatedRequestId?: RequestId): Promise<void> | void;
  /** Sends to the server. A rejection for a request is answered to the client as an error. */
  toServer(message: JSONRPCMessage): Promise<void> | void;
  /** Sees failures the gateway handled (a send that failed, a decision that could not be had). */
  onError?(error: unknown, context: string): void;
}

/** One gateway between one client and one server. */
export interface McpGateway {
  /** A message from the client: forwarded, held while it is decided, or answered here. */
  fromClient(message: JSONRPCMessage): void;
  /** A message from the server: forwarded; a `tools/list` result is filtered first. */
  fromServer(message: JSONRPCMessage): void;
  /** The server went away: every request forwarded to it and not answered gets an error saying so. */
  serverGone(detail: string): void;
  /** Whether `id` is a client request forwarded and not yet answered. */
  awaitsAnswer(id: RequestId): boolean;
}

interface Forwarded {
  readonly method: string;
  readonly progressToken: string | number | undefined;
}

/**
 * The MCP gateway's decisions, between any two transports.
 *
 * A `tools/call`, `resources/read` or `prompts/get` is held until agent-auth
 * decides it: allowed → forwarded; denied, needing approval, or undecidable
 * → answered with an error and never forwarded. A call needing approval
 * gets an approval task, requested once per distinct call (same tool, same
 * arguments), whose id the error carries; when the same call comes again
 * after an approver approved the task, it is redeemed and forwarded. A
 * `tools/list` result is
 * cut to the tools the agent may call (those that need approval stay).
 * Everything else passes untouched, both ways.
 */
export function createMcpGateway(options: McpGatewayOptions): McpGateway {
  const { decider, server, identity } = options;
  const onError = options.onError ?? (() => {});
  const approvalOptions = options.approvals ?? {};
  const approvals = createApprovalFlow(decider, { request: approvalOptions.requestApproval });
  /** Whether the client said, in its initialize request, that it handles URL mode elicitation. */
  let urlElicitation = false;
  const link = (id: string): string | undefined => (approvalOptions.consoleUrl === undefined ? undefined : consoleLink(approvalOptions.consoleUrl, id));
  /** Client requests sent to the server and not answered yet. */
  const forwarded = new Map<string, Forwarded>();
  /** Client requests being decided, and whether the client cancelled them meanwhile. */
  const deciding = new Map<string, { cancelled: boolean }>();
  /** Progress tokens of forwarded requests, to send the server's progress on the request's own stream. */
  const progress = new Map<string | number, RequestId>();

  const sendToClient = (message: JSONRPCMessage, related?: RequestId): void => {
    Promise.resolve()
      .then(() => options.toClient(message, related))
      .catch((e: unknown) => onError(e, "sending to the client"));
  };

  const forward = (message: JSONRPCRequest): void => {
    const key = idKey(message.id);
    const token = (message.params?._meta as { progressToken?: string | number } | undefined)?.progressToken;
    forwarded.set(key, { method: message.method, progressToken: token });
    if (token !== undefined) progress.set(token, message.id);
    Promise.resolve()
      .then(() => options.toServer(message))
      .catch((e: unknown) => {
        onError(e, `forwarding ${message.method}`);
        if (!forwarded.delete(key)) return;
        sendToClient(errorResponse(message.id, ErrorCodes.INTERNAL_ERROR, `the MCP server '${server}' could not be reached: ${e instanceof Error ? e.message : String(e)}`));
      });
  };

  const decideAndForward = (message: JSONRPCRequest, request: Parameters<Decider["authorize"]>[0], what: string): void => {
    const key = idKey(message.id);
    const state = { cancelled: false };
    deciding.set(key, state);
    let answered: Promise<void>;
    try {
      answered = approvals.decide(request, { onRequestError: (error) => onError(error, `requesting approval of ${what}`) }).then(
        (outcome) => {
          if (state.cancelled) return;
          if (outcome.kind === "allowed") forward(message);
          else if (outcome.kind === "denied") {
            const task = outcome.task;
            sendToClient(task === undefined ? deniedAnswer(message.id, what, outcome.decision) : approvalDeniedAnswer(message.id, what, outcome.decision, task));
          } else {
            const task = outcome.task;
            const url = task === undefined ? undefined : link(task.id);
            sendToClient(
              task !== undefined && url !== undefined && urlElicitation
                ? approvalElicitationAnswer(message.id, what, outcome.decision, task, url, approvalOptions.note)
                : approvalAnswer(message.id, what, outcome.decision, task, { consoleUrl: url, note: approvalOptions.note }),
            );
          }
        },
        (error: unknown) => {
          onError(error, `deciding ${what}`);
          if (!state.cancelled) sendToClient(failureAnswer(message.id, what, error));
        },
      );
    } catch (error) {
      onError(error, `deciding ${what}`);
      answered = Promise.resolve(sendToClient(failureAnswer(message.id, what, error)));
    }
    void answered.finally(() => deciding.delete(key));
  };

  const filterTools = (response: JSONRPCResponse): void => {
    const tools = "result" in response ? (response.result as { tools?: unknown }).tools : undefined;
    if (!Array.isArray(tools)) return sendToClient(response);
    const named = tools as { name?: unknown }[];
    Promise.all(named.map((t) => (typeof t.name === "string" ? decider.authorize(listRequest(server, identity, t.name)).then((d) => d.allowed) : false))).then(
      (keep) => {
        const result = { ...(response as { result: Record<string, unknown> }).result, tools: named.filter((_, i) => keep[i]) };
        sendToClient({ jsonrpc: "2.0", id: response.id!, result } as JSONRPCResponse);
      },
      (error: unknown) => {
        onError(error, "deciding which tools to list");
        sendToClient(failureAnswer(response.id!, "tools/list", error));
      },
    );
  };

  return {
    fromClient(message) {
      if (isRequest(message)) {
        if (message.method === "initialize") urlElicitation = supportsUrlElicitation(message.params);
        const gate = gateOf(message, server, identity);
        if (gate.kind === "pass") forward(message);
        else if (gate.kind === "invalid") sendToClient(errorResponse(message.id, ErrorCodes.INVALID_PARAMS, gate.message));
        else decideAndForward(message, gate.request, gate.what);
        return;
      }
      if (isNotification(message) && message.method === "notifications/cancelled") {
        const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        const held = id === undefined ? undefined : deciding.get(idKey(id));
        // A request still being decided never reached the server: nothing there to cancel.
        if (held !== undefined) {
          held.cancelled = true;
          return;
        }
      }
      Promise.resolve()
        .then(() => options.toServer(message))
        .catch((e: unknown) => onError(e, "forwarding to the server"));
    },

    fromServer(message) {
      if (isResponse(message) && message.id !== undefined) {
        const key = idKey(message.id);
        const request = forwarded.get(key);
        if (request !== undefined) {
          forwarded.delete(key);
          if (request.progressToken !== undefined) progress.delete(request.progressToken);
          if (request.method === "tools/list" && "result" in message) return filterTools(message);
        }
        return sendToClient(message);
      }
      if (isNotification(message) && message.method === "notifications/progress") {
        const token = (message.params as { progressToken?: string | number } | undefined)?.progressToken;
        return sendToClient(message, token === undefined ? undefined : progress.get(token));
      }
      sendToClient(message);
    },

    serverGone(detail) {
      for (const [key] of forwarded) {
        const id: RequestId = key.startsWith("n") ? Number(key.slice(1)) : key.slice(1);
        sendToClient(errorResponse(id, ErrorCodes.INTERNAL_ERROR, `the MCP server '${server}' ${detail} before answering; the request may or may not have been carried out`));
      }
      forwarded.clear();
      progress.clear();
    },

    awaitsAnswer: (id) => forwarded.has(idKey(id)),
  };
}

function supportsUrlElicitation(params: unknown): boolean {
  const elicitation = (params as { capabilities?: { elicitation?: { url?: unknown } } } | undefined)?.capabilities?.elicitation;
  return typeof elicitation === "object" && elicitation !== null && typeof elicitation.url === "object" && elicitation.url !== null;
}
