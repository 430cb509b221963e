import type { Decider } from "../../client/decider.ts";
import { AuthEngine } from "../../engine/auth-engine.ts";
import { createMemoryStore } from "../../state/memory/memory-store.ts";
import { createRedisStore, parseRedisTarget } from "../../state/redis/index.ts";
import { intOption, requireOption } from "../args.ts";
import { auditFileSink } from "../audit-file.ts";
import { parseCommandArgs } from "../command-spec.ts";
import { mcpProxySpec } from "../specs/mcp-proxy.ts";
import { serverClient } from "../backend.ts";
import { EXIT_FAILURE, UsageError, type CliIo } from "../io.ts";
import { loadPolicyOrReport } from "../load-policy.ts";
import type { GlobalOptions } from "../global-options.ts";


/**
 * `agent-auth [--server H:P | -c policy.yaml] mcp-proxy --name NAME …`: the
 * MCP gateway. Over stdio (`--agent A --user U [--session ID] [--scope S] --
 * COMMAND [ARGS…]`) it is the server an MCP client starts and starts the real
 * one as a child; over Streamable HTTP (`--listen HOST:PORT --upstream URL
 * --clients FILE`) it serves many clients, each acting as the agent and user
 * its bearer token names.
 */
export async function mcpProxyCommand(io: CliIo, g: GlobalOptions, args: readonly string[]): Promise<number> {
  const dashes = args.indexOf("--");
  const v = parseCommandArgs(mcpProxySpec, dashes < 0 ? args : args.slice(0, dashes)).values;
  const command = dashes < 0 ? [] : args.slice(dashes + 1);
  const name = requireOption("mcp-proxy", "name", v.name);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`mcp-proxy: --name must be letters, digits, '_', '.' or '-' (it starts every action, NAME:TOOL), got '${name}'`);
  const http = v.listen !== undefined;
  if (http) {
    if (command.length > 0) throw new UsageError("mcp-proxy: --listen serves over HTTP in front of --upstream URL; a command after -- is for stdio mode");
    for (const flag of ["agent", "user", "session", "scope"] as const) {
      if (v[flag] !== undefined) throw new UsageError(`mcp-proxy: --${flag} is for stdio mode; over HTTP each client's agent and user come from --clients`);
    }
  } else if (command.length === 0) {
    throw new UsageError("mcp-proxy: give the MCP server's command after -- (stdio), or --listen HOST:PORT --upstream URL --clients FILE (HTTP)");
  }
  const mcp = await loadMcpModule(io);
  if (mcp === undefined) return EXIT_FAILURE;
  const opened = await openDecider(io, g);
  if (opened === undefined) return EXIT_FAILURE;
  const log = (line: string): void => io.stderr(`agent-auth mcp-proxy: ${line}\n`);
  const approvals = { consoleUrl: consoleUrl(v["console-url"]), note: opened.approvalNote };
  try {
    if (!http) {
      const proxy = mcp.startStdioProxy({
        decider: opened.decider,
        server: name,
        identity: {
          agent: requireOption("mcp-proxy", "agent", v.agent),
          user: requireOption("mcp-proxy", "user", v.user),
          sessionId: v.session,
          scope: v.scope,
        },
        command: command[0]!,
        args: command.slice(1),
        log,
        approvals,
        ...(v["max-restarts"] === undefined ? {} : { restart: { maxRestarts: intOption("mcp-proxy", "max-restarts", v["max-restarts"])! } }),
      });
      const stop = (): void => void proxy.close();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      const code = await proxy.done;
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      process.stdin.destroy();
      return code;
    }
    const [host, port] = hostPort(v.listen!);
    let clients;
    try {
      clients = mcp.loadMcpClients(requireOption("mcp-proxy", "clients", v.clients));
    } catch (error) {
      if (!mcp.isMcpClientsFileError(error)) throw error;
      io.stderr(`Error: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    const proxy = await mcp.startHttpProxy({
      decider: opened.decider,
      server: name,
      clients,
      upstream: upstreamUrl(requireOption("mcp-proxy", "upstream", v.upstream)),
      upstreamHeaders: headersOf(v["upstream-header"]),
      host,
      port,
      ...(v.path === undefined ? {} : { path: v.path }),
      log,
      approvals,
    });
    log(`serving ${proxy.url} for ${clients.size} client(s) in front of ${v.upstream}`);
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    await proxy.close();
    return 0;
  } finally {
    await opened.close();
  }
}

/** The gateway's module, or undefined after saying that the MCP SDK must be installed. */
async function loadMcpModule(io: CliIo): Promise<typeof import("../../integrations/mcp/index.ts") | undefined> {
  try {
    return await import("../../integrations/mcp/index.ts");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes("@modelcontextprotocol/sdk")) {
      io.stderr("Error: mcp-proxy needs the MCP SDK, an optional dependency: npm install @modelcontextprotocol/sdk\n");
      return undefined;
    }
    throw error;
  }
}

/** What answers to calls needing approval say when this proxy decides in its own process. */
const EMBEDDED_NOTE = "this proxy decides in its own process (-c): no one else can approve its tasks; run it with --server H:P where approvals must be granted";
const SHARED_NOTE = "this proxy decides in its own process (-c --redis): its tasks can be approved through an agent-auth server on the same Redis (and prefix), or run it with --server H:P";

/**
 * The decider: the server given with --server, else the policy file decided
 * in this process (then `approvalNote` says where its tasks can be approved).
 */
async function openDecider(io: CliIo, g: GlobalOptions): Promise<{ decider: Decider; close(): Promise<void>; approvalNote?: string } | undefined> {
  if (g.server !== undefined) {
    const client = serverClient(g);
    return { decider: client, close: async () => client.close() };
  }
  const loaded = loadPolicyOrReport(io, g.configPath);
  if (loaded === undefined) return undefined;
  const audit = loaded.config.audit;
  const store = g.redis === undefined ? createMemoryStore() : createRedisStore({ connection: parseRedisTarget(g.redis), prefix: g.redisPrefix, onError: () => {} });
  const engine = new AuthEngine(loaded.config, {
    store,
    ownsStore: true,
    audit: audit.enabled ? [auditFileSink(io, audit)] : [],
  });
  return { decider: engine, close: () => engine.close(), approvalNote: g.redis === undefined ? EMBEDDED_NOTE : SHARED_NOTE };
}

function consoleUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return text;
  } catch {
    // reported below
  }
  throw new UsageError(`mcp-proxy: --console-url expects the console's http(s) URL (e.g. http://127.0.0.1:8080/console), got '${text}'`);
}

function hostPort(listen: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  if (m === null || Number(m[3]) > 65535) throw new UsageError(`mcp-proxy: --listen expects HOST:PORT, got '${listen}'`);
  return [m[1] ?? (m[2] || "127.0.0.1"), Number(m[3])];
}

function upstreamUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // reported below
  }
  throw new UsageError(`mcp-proxy: --upstream expects the MCP server's http(s) URL, got '${text}'`);
}

function headersOf(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of values ?? []) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new UsageError(`mcp-proxy: --upstream-header expects 'Name: value', got '${h}'`);
    out[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  return out;
}
