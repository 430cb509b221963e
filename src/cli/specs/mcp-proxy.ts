import { defineCommand } from "../command-spec.ts";

/** `agent-auth mcp-proxy`. */
export const mcpProxySpec = defineCommand({
  name: "mcp-proxy",
  summary: "guard an MCP server's tools (needs @modelcontextprotocol/sdk)",
  usage: [
    "agent-auth [-c FILE | --server H:P] mcp-proxy --name NAME --agent A --user U [--session ID] [--scope S] [--console-url URL] [--max-restarts N] -- COMMAND [ARGS...]",
    "agent-auth [-c FILE | --server H:P] mcp-proxy --name NAME --listen HOST:PORT --upstream URL --clients FILE [--path /mcp] [--upstream-header 'K: V' ...] [--console-url URL]",
  ],
  description: `The MCP gateway: every tool call an agent makes through it is decided first (docs/integrations.md).
Over stdio it is the server an MCP client starts, and starts the real one (everything after --) as
a child; over Streamable HTTP (--listen) it serves many clients, each acting as the agent and user
its bearer token names in --clients. Tool T of server NAME is action NAME:T on mcp://NAME/tools/T.
Decides in its own process from -c (memory store; --redis for shared state) or asks --server.
A call needing approval is answered with the approval task requested for it (and its console page
with --console-url); the same call again, once approved, goes through. Tasks of a proxy deciding
in its own process (-c) can be approved only where its state is shared: use --server for approvals.`,
  options: {
    name: { type: "string", value: "NAME", help: "the server's name in the policy (required)" },
    agent: { type: "string", value: "A", help: "stdio: the agent the client acts as" },
    user: { type: "string", value: "U", help: "stdio: the user it acts for" },
    session: { type: "string", value: "ID", help: "stdio: the session its calls belong to" },
    scope: { type: "string", value: "S", help: "stdio: the scope of its calls" },
    listen: { type: "string", value: "HOST:PORT", help: "serve Streamable HTTP here instead of stdio" },
    upstream: { type: "string", value: "URL", help: "HTTP: the real MCP server" },
    "upstream-header": { type: "string", multiple: true, value: "'K: V'", help: "HTTP: a header sent upstream" },
    clients: { type: "string", value: "FILE", help: "HTTP: bearer tokens to agent and user" },
    path: { type: "string", value: "/mcp", help: "HTTP: the endpoint's path" },
    "console-url": { type: "string", value: "URL", help: "where approvers answer tasks (the console); answers to calls needing approval link to the task there" },
    "max-restarts": { type: "string", value: "N", help: "stdio: restarts of a crashed server before giving up" },
  },
  positionals: { name: "-- COMMAND [ARGS...]", help: "stdio: the real MCP server's command line, untouched" },
  examples: ["agent-auth -c examples/mcp/policy.yaml mcp-proxy --name notes --agent claude-desktop --user alice -- node examples/mcp/notes-server.mjs examples/mcp/notes"],
  load: async () => (await import("../commands/mcp-proxy.ts")).mcpProxyCommand,
});
