/**
 * `npm run bench:mcp` — what the MCP gateway adds to a tool call. An SDK
 * client calls the `echo` tool of the test fixture server over stdio,
 * one call at a time: directly, through `agent-auth mcp-proxy -c policy`
 * (the engine in the proxy's process), and through `agent-auth --server …
 * mcp-proxy` (each call decided by an agent-auth server over gRPC). The
 * three take turns within each round; the table gives the medians over the
 * rounds of each one's p50 and p99, and of the per-round differences to the
 * direct calls — the latency the gateway adds. Audit goes to a file in both
 * gateway set-ups, as it would in production. A last row times the same
 * decision alone — one Authorize from this process to the same server — so
 * the remote gateway's figure can be read against a plain gRPC round trip
 * on the machine as loaded in that run.
 *
 * This measures one client's round-trip latency, which no load generator can
 * drive over stdio; it is not a throughput figure.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { createAgentAuthClient, type AgentAuthClient } from "../src/client/index.ts";
import { median, startProcess, stopProcess } from "./h2load.ts";

const CALLS = Number(process.env["BENCH_CALLS"] ?? 2000);
const ROUNDS = Number(process.env["BENCH_RUNS"] ?? 7);
const CLI = fileURLToPath(new URL("../src/cli/bin.js", import.meta.url));
const FIXTURE = "test/fixtures/mcp/counting-server.mjs";

async function connect(args: string[]): Promise<Client> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env: process.env as Record<string, string>, stderr: "inherit" }));
  return client;
}

/** p50 and p99 (µs) of CALLS sequential calls. */
async function round(client: Client): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = process.hrtime.bigint();
    const r = await client.callTool({ name: "echo", arguments: { text: "bench", n: i } });
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
    if (r.isError === true) throw new Error(`the call failed: ${JSON.stringify(r)}`);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(CALLS * 0.5)]!, p99: samples[Math.floor(CALLS * 0.99)]! };
}

/** p50 and p99 (µs) of CALLS sequential Authorize calls of what the gateway asks for each tools/call. */
async function authorizeRound(client: AgentAuthClient): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = process.hrtime.bigint();
    const d = await client.authorize({ agent: "claude", user: "alice", action: "files:echo", resource: "mcp://files/tools/echo", metadata: { text: "bench", n: i } });
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
    if (!d.allowed) throw new Error(`not allowed: ${d.reason}`);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(CALLS * 0.5)]!, p99: samples[Math.floor(CALLS * 0.99)]! };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-bench-mcp-"));
  const policy = join(dir, "policy.yaml");
  writeFileSync(policy, `version: "1.0"\nmetadata: {name: bench-mcp}\nprofiles:\n  claude: {allow: ["files:*"], deny: ["files:delete_*"]}\naudit: {enabled: true, path: ${join(dir, "audit.jsonl")}}\n`);
  const server = await startProcess("bench/servers.ts", ["agent-auth", policy], undefined);
  const proxied = ["mcp-proxy", "--name", "files", "--agent", "claude", "--user", "alice", "--", process.execPath, FIXTURE];
  const setups: Record<string, Client> = {
    direct: await connect([FIXTURE]),
    embedded: await connect([CLI, "-c", policy, ...proxied]),
    remote: await connect([CLI, "--server", `127.0.0.1:${server.port}`, ...proxied]),
  };
  const grpc = createAgentAuthClient(`127.0.0.1:${server.port}`);
  try {
    for (const client of Object.values(setups)) for (let i = 0; i < 300; i++) await client.callTool({ name: "echo", arguments: { warm: i } });
    const rounds: Record<string, { p50: number; p99: number }[]> = { direct: [], embedded: [], remote: [] };
    const alone: { p50: number; p99: number }[] = [];
    await authorizeRound(grpc);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, client] of Object.entries(setups)) rounds[name]!.push(await round(client));
      alone.push(await authorizeRound(grpc));
    }
    console.log(`agent-auth MCP gateway benchmark — tools/call over stdio, ${CALLS} sequential calls × ${ROUNDS} rounds (median), node ${process.version}`);
    console.log("setup      p50 µs   p99 µs   added p50 µs   added p99 µs");
    for (const [name, rs] of Object.entries(rounds)) {
      const added = (key: "p50" | "p99") => median(rs.map((x, i) => x[key] - rounds["direct"]![i]![key]));
      const cells = [median(rs.map((x) => x.p50)), median(rs.map((x) => x.p99)), added("p50"), added("p99")].map((n) => n.toFixed(0));
      console.log(`${name.padEnd(10)} ${cells[0]!.padStart(6)}   ${cells[1]!.padStart(6)}   ${(name === "direct" ? "—" : cells[2]!).padStart(12)}   ${(name === "direct" ? "—" : cells[3]!).padStart(12)}`);
    }
    console.log(`Authorize alone (gRPC, no MCP): p50 ${median(alone.map((x) => x.p50)).toFixed(0)} µs, p99 ${median(alone.map((x) => x.p99)).toFixed(0)} µs`);
  } finally {
    grpc.close();
    for (const client of Object.values(setups)) await client.close();
    await stopProcess(server.child);
  }
}

await main();
