// Plays the MCP client of claude_desktop_config.json: starts the server entry
// exactly as configured (with the paths pointed at this checkout, and this
// checkout's agent-auth for `npx agent-auth`), then lists the tools and calls
// a few, printing what the gateway let through.
//
//   node examples/mcp/demo-client.mjs
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const config = JSON.parse(readFileSync(new URL("claude_desktop_config.json", import.meta.url), "utf8"));
const entry = config.mcpServers.notes;
const args = entry.args.map((a) => a.replace("/absolute/path/to/", repo));
// `npx agent-auth` where the package is installed; here, this checkout's build.
const [command, ...rest] = entry.command === "npx" && args[0] === "agent-auth" ? [process.execPath, `${repo}dist/src/cli/bin.js`, ...args.slice(1)] : [entry.command, ...args];
const launch = rest.map((a) => (a === "node" ? process.execPath : a));

const client = new Client({ name: "demo-client", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command, args: launch, cwd: repo, env: process.env, stderr: "inherit" }));

const { tools } = await client.listTools();
console.log(`tools listed: ${tools.map((t) => t.name).join(", ")}`);
for (const [name, args] of [
  ["read_file", { path: "welcome.md" }],
  ["write_file", { path: "todo.md", content: "- try agent-auth" }],
  ["delete_file", { path: "welcome.md" }],
]) {
  try {
    const result = await client.callTool({ name, arguments: args });
    console.log(`${name}: ${result.content[0].text.split("\n")[0]}`);
  } catch (error) {
    const why = error.data?.requires_approval ? `needs ${error.data.tier} approval (${error.data.approval_policy})` : `refused: ${error.data?.reason ?? error.message}`;
    console.log(`${name}: ${why} [JSON-RPC ${error.code}, decision ${error.data?.decision_id}]`);
  }
}
await client.close();
