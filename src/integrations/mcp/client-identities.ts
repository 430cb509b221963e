import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import type { McpIdentity } from "./decision-request.ts";

/** A client of the HTTP gateway: its name, and whom it acts as. */
export interface McpClient extends McpIdentity {
  readonly name: string;
}

/** Bearer tokens → clients, from the `--clients` file. */
export interface McpClientTable {
  /** The client an `authorization` header names, or why none. */
  identify(authorization: string | undefined): { client: McpClient } | { problem: string };
  readonly size: number;
}

/** A clients file with every problem found, each naming its place. */
export class McpClientsFileError extends Error {
  override readonly name = "McpClientsFileError" as const;
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid clients file ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** True for a {@link McpClientsFileError}, also one from another copy of this module. */
export function isMcpClientsFileError(e: unknown): e is McpClientsFileError {
  return e instanceof Error && e.name === "McpClientsFileError";
}

/**
 * Reads the HTTP gateway's clients file:
 *
 *   clients:
 *     claude-alice:
 *       tokens_sha256: [9f86d081884c7d65…]   # SHA-256 of the bearer token, hex
 *       agent: claude-desktop
 *       user: alice
 *       session: ""        # optional
 *       scope: ""          # optional
 *
 * Tokens are kept as digests only, as in the server config's callers.
 */
export function loadMcpClients(path: string): McpClientTable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new McpClientsFileError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  return parseMcpClients(text, path);
}

/** Validates a clients document, collecting every problem. */
export function parseMcpClients(text: string, source = "clients file"): McpClientTable {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (error) {
    throw new McpClientsFileError(source, [`not YAML: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const problems: string[] = [];
  const byDigest = new Map<string, McpClient>();
  const clients = isRecord(doc) ? doc["clients"] : undefined;
  if (!isRecord(clients) || Object.keys(clients).length === 0) throw new McpClientsFileError(source, ["clients: expected a mapping of client names to {tokens_sha256, agent, user}"]);
  for (const [name, entry] of Object.entries(clients)) {
    const at = `clients.${name}`;
    if (!isRecord(entry)) {
      problems.push(`${at}: expected a mapping`);
      continue;
    }
    for (const key of Object.keys(entry)) if (!["tokens_sha256", "agent", "user", "session", "scope"].includes(key)) problems.push(`${at}.${key}: unknown key`);
    const text = (key: string, required: boolean): string | undefined => {
      const v = entry[key];
      if (v === undefined || v === null) {
        if (required) problems.push(`${at}.${key}: required`);
        return undefined;
      }
      if (typeof v !== "string" || (required && v === "")) {
        problems.push(`${at}.${key}: expected a ${required ? "non-empty " : ""}string`);
        return undefined;
      }
      return v;
    };
    const client: McpClient = { name, agent: text("agent", true) ?? "", user: text("user", true) ?? "", sessionId: text("session", false) || undefined, scope: text("scope", false) || undefined };
    const digests = entry["tokens_sha256"];
    if (!Array.isArray(digests) || digests.length === 0) problems.push(`${at}.tokens_sha256: expected a list of SHA-256 digests (64 hex digits)`);
    else
      for (const [i, d] of digests.entries()) {
        if (typeof d !== "string" || !/^[0-9a-fA-F]{64}$/.test(d)) problems.push(`${at}.tokens_sha256[${i}]: expected 64 hex digits`);
        else if (byDigest.has(d.toLowerCase())) problems.push(`${at}.tokens_sha256[${i}]: the same token is already given to '${byDigest.get(d.toLowerCase())!.name}'`);
        else byDigest.set(d.toLowerCase(), client);
      }
  }
  if (problems.length > 0) throw new McpClientsFileError(source, problems);
  return {
    size: Object.keys(clients).length,
    identify(authorization) {
      if (authorization === undefined) return { problem: "no bearer token" };
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (m === null) return { problem: "the authorization header is not 'Bearer <token>'" };
      const client = byDigest.get(createHash("sha256").update(m[1]!).digest("hex"));
      return client === undefined ? { problem: "unknown bearer token" } : { client };
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
