import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The folders of src/, lowest first. A folder may import only folders below
 * it (never one above it, never one at its own level), so the graph has no
 * cycle and each layer can be understood with those beneath it alone. The
 * package's entry files directly in src/ may import anything; no folder
 * imports them. CONTRIBUTING.md gives the same order.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["model", "bytes"],
  ["expr"],
  ["config"],
  ["policy"],
  ["audit"],
  ["state"],
  ["approvals"],
  ["engine"],
  ["client"],
  ["server"],
  ["integrations"],
  ["conformance"],
  ["cli"],
];

/** Packages only some folders may import. */
const PACKAGE_OWNERS: readonly { readonly pattern: RegExp; readonly folders: readonly string[] }[] = [
  { pattern: /^@grpc\//, folders: ["server", "client"] },
  { pattern: /^ioredis$/, folders: ["state"] },
  // Optional peer dependencies: only the integrations behind their own entry points use them.
  { pattern: /^(express|@modelcontextprotocol\/sdk)(\/|$)/, folders: ["integrations"] },
  // A dependency of the server's HTTP listener, and the framework of the Fastify integration.
  { pattern: /^fastify(\/|$)/, folders: ["server", "integrations"] },
  // Signs and verifies the HTTP access-request binding tokens.
  { pattern: /^jose$/, folders: ["server"] },
];

const RANK = new Map(LAYERS.flatMap((level, rank) => level.map((folder) => [folder, rank] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports, statically or dynamically. */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g, /(?:^|\n)\s*import\s*["']([^"']+)["']/g, /\bimport\(\s*["']([^"']+)["']\s*\)/g];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** `cli` for src/cli/…, "" for a file directly in src/, `gen` outside src/. */
function folderOf(file: string): string {
  const rel = relative(resolve("src"), resolve(file));
  if (rel.startsWith("..")) return "gen";
  const parts = rel.split(/[\\/]/);
  return parts.length === 1 ? "" : parts[0]!;
}

describe("layers of src/ (CONTRIBUTING.md)", () => {
  const files = sources("src");
  const edges = files.flatMap((file) => specifiers(readFileSync(file, "utf8")).map((spec) => ({ file, spec })));

  it("finds the imports it checks (static, re-exports and dynamic)", () => {
    expect(specifiers(`import a from "./a.ts";\nexport { b } from "../b.ts";\nimport "./c.ts";\nconst d = await import("./d.ts");`)).to.have.members(["./a.ts", "../b.ts", "./c.ts", "./d.ts"]);
    expect(edges.length).to.be.greaterThan(200);
  });

  it("has a rank for every folder", () => {
    const unknown = [...new Set(files.map(folderOf))].filter((f) => f !== "" && !RANK.has(f));
    expect(unknown, "folders missing from LAYERS").to.deep.equal([]);
  });

  it("imports only downwards: no folder imports one above it, at its own level, or the entry files", () => {
    const violations: string[] = [];
    for (const { file, spec } of edges) {
      if (!spec.startsWith(".")) continue;
      const from = folderOf(file);
      const to = folderOf(resolve(dirname(file), spec));
      if (from === "" || from === to || to === "gen") continue;
      if (to === "") violations.push(`${file} imports the entry file ${spec}`);
      else if (RANK.get(to)! >= RANK.get(from)!) violations.push(`${file} (${from}) imports ${spec} (${to})`);
    }
    expect(violations).to.deep.equal([]);
  });

  it("keeps gRPC in src/server and src/client, Redis in src/state, and the optional peers in src/integrations", () => {
    const violations: string[] = [];
    for (const { file, spec } of edges) {
      for (const rule of PACKAGE_OWNERS) {
        if (rule.pattern.test(spec) && !rule.folders.includes(folderOf(file))) violations.push(`${file} imports ${spec}`);
      }
    }
    expect(violations).to.deep.equal([]);
  });

  it("would catch an upward import (the check is not vacuous)", () => {
    const from = "src/state/x.ts";
    const to = folderOf(resolve(dirname(from), "../engine/auth-engine.ts"));
    expect([folderOf(from), to, RANK.get(to)! >= RANK.get(folderOf(from))!]).to.deep.equal(["state", "engine", true]);
  });
});
