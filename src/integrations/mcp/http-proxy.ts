import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Decider } from "../../client/decider.ts";
import type { McpClient, McpClientTable } from "./client-identities.ts";
import { createMcpGateway, type McpApprovalOptions } from "./gateway.ts";
import { ErrorCodes, errorResponse } from "./json-rpc.ts";

/** A Streamable HTTP gateway in front of an MCP server reached over Streamable HTTP. */
export interface HttpProxyOptions {
  readonly decider: Decider;
  /** The server's name in policy actions (`NAME:TOOL`). */
  readonly server: string;
  /** Bearer tokens → the agent and user each client acts as. */
  readonly clients: McpClientTable;
  /** The real server's MCP endpoint. */
  readonly upstream: URL;
  /** Headers sent to the real server with every request (e.g. its own authorization). */
  readonly upstreamHeaders?: Readonly<Record<string, string>>;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The gateway's MCP endpoint. Default `/mcp`. */
  readonly path?: string;
  /** Largest request body. Default 4 MiB. */
  readonly maxBodyBytes?: number;
  readonly log?: (line: string) => void;
  /** Calls needing approval: the console link and note in the answers (see McpApprovalOptions). */
  readonly approvals?: McpApprovalOptions;
}

/** A running HTTP gateway. */
export interface HttpProxy {
  /** The gateway's MCP endpoint, e.g. `http://127.0.0.1:8931/mcp`. */
  readonly url: string;
  /** Live client sessions. */
  readonly sessions: number;
  /** Stops listening and ends every session (and its session upstream). */
  close(): Promise<void>;
}

interface Session {
  readonly client: McpClient;
  readonly downstream: StreamableHTTPServerTransport;
}

/**
 * Starts the gateway over Streamable HTTP. Each client authenticates with a
 * bearer token from the clients file, which says which agent and user it
 * acts as; every MCP session it opens gets its own session upstream and its
 * own gateway (see createMcpGateway), bound to that client: another token
 * cannot use it. No token, or an unknown one, is `401`.
 */
export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxy> {
  const path = options.path ?? "/mcp";
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const log = options.log ?? ((line: string) => void process.stderr.write(`agent-auth mcp-proxy: ${line}\n`));
  const sessions = new Map<string, Session>();

  const open = async (client: McpClient): Promise<StreamableHTTPServerTransport> => {
    const upstream = new StreamableHTTPClientTransport(options.upstream, { requestInit: { headers: { ...options.upstreamHeaders } } });
    const downstream: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { client, downstream }),
    });
    const gateway = createMcpGateway({
      decider: options.decider,
      server: options.server,
      identity: client,
      approvals: options.approvals,
      toClient: (m, related) => downstream.send(m, related === undefined ? undefined : { relatedRequestId: related }),
      toServer: (m) => upstream.send(m),
      onError: (e, context) => log(`client '${client.name}': ${context}: ${e instanceof Error ? e.message : String(e)}`),
    });
    downstream.onmessage = (m) => gateway.fromClient(m);
    upstream.onmessage = (m) => gateway.fromServer(m);
    upstream.onerror = (e) => log(`client '${client.name}': the MCP server '${options.server}': ${e.message}`);
    downstream.onclose = () => {
      if (downstream.sessionId !== undefined) sessions.delete(downstream.sessionId);
      void upstream
        .terminateSession()
        .catch(() => {})
        .finally(() => void upstream.close());
    };
    await upstream.start();
    await downstream.start();
    return downstream;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (url.pathname !== path) return reply(res, 404, errorResponse(null, ErrorCodes.INVALID_REQUEST, `no MCP endpoint here; it is ${path}`));
    const who = options.clients.identify(req.headers.authorization);
    if (!("client" in who)) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="agent-auth mcp-proxy"');
      return reply(res, 401, errorResponse(null, ErrorCodes.INVALID_REQUEST, `Unauthorized: ${who.problem}`));
    }
    const sessionId = req.headers["mcp-session-id"];
    if (typeof sessionId === "string") {
      const session = sessions.get(sessionId);
      if (session === undefined) return reply(res, 404, errorResponse(null, ErrorCodes.INVALID_REQUEST, "Session not found"));
      if (session.client.name !== who.client.name) return reply(res, 403, errorResponse(null, ErrorCodes.INVALID_REQUEST, "The session belongs to another client"));
      const body = req.method === "POST" ? await readJson(req, res, maxBody) : undefined;
      if (body === NOT_READ) return;
      return session.downstream.handleRequest(req, res, body);
    }
    if (req.method !== "POST") return reply(res, 400, errorResponse(null, ErrorCodes.INVALID_REQUEST, "Bad Request: no session (Mcp-Session-Id); start one with an initialize request"));
    const body = await readJson(req, res, maxBody);
    if (body === NOT_READ) return;
    if (!isInitialize(body)) return reply(res, 400, errorResponse(null, ErrorCodes.INVALID_REQUEST, "Bad Request: no session (Mcp-Session-Id); start one with an initialize request"));
    const downstream = await open(who.client);
    await downstream.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) reply(res, 500, errorResponse(null, ErrorCodes.INTERNAL_ERROR, "the gateway failed on this request (see its log)"));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = http.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${path}`,
    get sessions() {
      return sessions.size;
    },
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.downstream.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const NOT_READ = Symbol("not read");

/** The request body as JSON, or NOT_READ after answering why it cannot be used. */
async function readJson(req: IncomingMessage, res: ServerResponse, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      reply(res, 413, errorResponse(null, ErrorCodes.INVALID_REQUEST, `the request body is over ${max} bytes`));
      req.destroy();
      return NOT_READ;
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    reply(res, 400, errorResponse(null, ErrorCodes.PARSE_ERROR, `Parse error: ${error instanceof Error ? error.message : String(error)}`));
    return NOT_READ;
  }
}

function isInitialize(body: unknown): boolean {
  const first = Array.isArray(body) ? body[0] : body;
  return typeof first === "object" && first !== null && (first as { method?: unknown }).method === "initialize";
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
