// A small filesystem-style MCP server over one directory (its argument):
// list_files, read_file, write_file, delete_file. The agent-auth example puts
// the gateway in front of it; any MCP server can stand in its place.
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const root = resolve(process.argv[2] ?? ".");
const inside = (path) => {
  const full = resolve(root, path);
  if (full !== root && !full.startsWith(root + sep)) throw new Error(`${path} is outside the notes directory`);
  return full;
};
const text = (t) => ({ content: [{ type: "text", text: t }] });

const server = new McpServer({ name: "notes", version: "1.0.0" });
server.registerTool("list_files", { description: "Lists the notes" }, async () => text((await readdir(root)).join("\n")));
server.registerTool("read_file", { description: "Reads a note", inputSchema: { path: z.string() } }, async ({ path }) => text(await readFile(inside(path), "utf8")));
server.registerTool("write_file", { description: "Writes a note", inputSchema: { path: z.string(), content: z.string() } }, async ({ path, content }) => {
  await writeFile(inside(path), content);
  return text(`wrote ${path}`);
});
server.registerTool("delete_file", { description: "Deletes a note", inputSchema: { path: z.string() } }, async ({ path }) => {
  await rm(inside(path));
  return text(`deleted ${path}`);
});
await server.connect(new StdioServerTransport());
