/**
 * `agent-auth/mcp`: the MCP gateway — every tool call an agent makes through
 * the Model Context Protocol is decided by agent-auth first (needs
 * `@modelcontextprotocol/sdk`, an optional peer dependency). The
 * `agent-auth mcp-proxy` command runs it; these are its parts, for programs
 * that host it themselves.
 */
export { createMcpGateway, type McpApprovalOptions, type McpGateway, type McpGatewayOptions } from "./gateway.ts";
export { gateOf, listRequest, type Gate, type McpIdentity } from "./decision-request.ts";
export { ErrorCodes } from "./json-rpc.ts";
export { startStdioProxy, type RestartOptions, type StdioProxy, type StdioProxyOptions } from "./stdio-proxy.ts";
export { startHttpProxy, type HttpProxy, type HttpProxyOptions } from "./http-proxy.ts";
export { isMcpClientsFileError, loadMcpClients, McpClientsFileError, parseMcpClients, type McpClient, type McpClientTable } from "./client-identities.ts";
export type { Decider } from "../../client/decider.ts";
