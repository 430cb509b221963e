import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { CLI } from "../../support/processes.ts";

/** The MCP server the gateway tests put behind the proxy; it logs every call it receives. */
export const FIXTURE = resolve("test/fixtures/mcp/counting-server.mjs");

/** The policy for the server named `files`: the agent `claude` may call everything but delete_file; big transfers need approval. */
export const MCP_POLICY = `
version: "1.0"
metadata: {name: mcp-test}
profiles:
  claude:
    allow: ["files:echo", "files:transfer", "files:crash", "files:garbage", "files:bad_answer", "files:resources/read", "files:prompts/get"]
    deny: ["files:delete_file"]
approval_policies:
  - {name: big-transfer, condition: 'action == "files:transfer" and amount > 1000', tier: strong}
audit: {enabled: false}
`;

/** A scratch directory with the policy and the fixture's call log. */
export function workdir(policy = MCP_POLICY): { dir: string; policy: string; log: string; calls(): Record<string, unknown>[] } {
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-mcp-"));
  const policyPath = join(dir, "policy.yaml");
  writeFileSync(policyPath, policy);
  const log = join(dir, "calls.jsonl");
  return {
    dir,
    policy: policyPath,
    log,
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []),
  };
}

/** The proxy as an MCP client starts it: `agent-auth GLOBAL mcp-proxy --name files --agent claude --user alice -- node FIXTURE`. */
export function proxyArgs(global: readonly string[], extra: readonly string[] = []): string[] {
  return [CLI, ...global, "mcp-proxy", "--name", "files", "--agent", "claude", "--user", "alice", ...extra, "--", process.execPath, FIXTURE];
}

/** An SDK client connected to the proxy over stdio; `stderr` collects the proxy's diagnostics. */
export async function connectStdio(args: string[], log: string, capabilities: ClientCapabilities = {}): Promise<{ client: Client; stderr: () => string; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({ command: process.execPath, args, env: { ...(process.env as Record<string, string>), FIXTURE_LOG: log }, stderr: "pipe" });
  let err = "";
  transport.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const client = new Client({ name: "gateway-test", version: "1.0.0" }, { capabilities });
  await client.connect(transport);
  return { client, stderr: () => err, transport };
}

/** The JSON-RPC error a call failed with (the SDK throws McpError). */
export async function rpcError(p: Promise<unknown>): Promise<{ code: number; message: string; data: Record<string, unknown> | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; message: string; data?: Record<string, unknown> };
    if (typeof err.code === "number") return { code: err.code, message: err.message, data: err.data };
    throw e;
  }
  throw new Error("expected a JSON-RPC error");
}
