import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The package's entry points (package.json "exports"), as sources. */
const ENTRY_POINTS = [
  "src/index.ts",
  "src/client/index.ts",
  "src/server/index.ts",
  "src/testing.ts",
  "src/integrations/guard/index.ts",
  "src/integrations/express/index.ts",
  "src/integrations/fastify/index.ts",
  "src/integrations/mcp/index.ts",
];

interface Found {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly documented: boolean;
}

const DECLARATION = (name: string): RegExp =>
  new RegExp(`^export (?:declare )?(?:default )?(?:abstract )?(?:async )?(?:function\\*?|class|interface|type|const|let|enum) ${name}\\b`, "m");

/** Where `name`, exported by `file`, is declared, following `export { … } from` chains. */
function resolveExport(file: string, name: string, seen = new Set<string>()): Found | undefined {
  const key = `${file}#${name}`;
  if (seen.has(key) || !existsSync(file)) return undefined;
  seen.add(key);
  const text = readFileSync(file, "utf8");
  const declared = DECLARATION(name).exec(text);
  if (declared !== null) {
    const before = text.slice(0, declared.index).trimEnd();
    return { name, file: relative(process.cwd(), file), line: text.slice(0, declared.index).split("\n").length, documented: before.endsWith("*/") };
  }
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
    for (const part of m[1]!.split(",")) {
      const [original, alias] = part.replace(/^\s*type\s+/, "").trim().split(/\s+as\s+/);
      if ((alias ?? original) !== name || original === undefined) continue;
      const target = resolve(dirname(file), m[2]!);
      return resolveExport(target, original, seen);
    }
  }
  return undefined;
}

/** The names an entry file exports. */
function exportedNames(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from/g)) {
    for (const part of m[1]!.split(",")) {
      const trimmed = part.replace(/^\s*type\s+/, "").trim();
      if (trimmed !== "") names.push(trimmed.split(/\s+as\s+/).at(-1)!);
    }
  }
  for (const m of text.matchAll(/^export (?:async )?(?:function|class|interface|type|const) (\w+)/gm)) names.push(m[1]!);
  return names;
}

describe("the public API (every entry point)", () => {
  for (const entry of ENTRY_POINTS) {
    it(`${entry}: every exported name is declared with a doc comment`, () => {
      const names = exportedNames(entry);
      expect(names.length, "names found").to.be.greaterThan(2);
      const problems: string[] = [];
      for (const name of names) {
        const found = resolveExport(resolve(entry), name);
        if (found === undefined) problems.push(`${name}: declaration not found`);
        else if (!found.documented) problems.push(`${name}: no doc comment at ${found.file}:${found.line}`);
      }
      expect(problems).to.deep.equal([]);
    });
  }

  it("has no export * (explicit export lists only)", () => {
    for (const entry of ENTRY_POINTS) expect(readFileSync(entry, "utf8"), entry).to.not.match(/^export \*/m);
  });

  it("keeps internals internal", () => {
    const all = new Set(ENTRY_POINTS.flatMap(exportedNames));
    for (const internal of ["resolveOutcome", "normalizeRequest", "reasons", "compilePolicy", "createServiceDefinition", "encodeAuditRecord", "newDecisionId", "RespArgs"]) {
      expect(all.has(internal), internal).to.equal(false);
    }
  });

  it("finds undocumented declarations (the check is not vacuous)", () => {
    const file = join(process.cwd(), "src", "model", "clock.ts");
    expect(resolveExport(file, "systemClock")?.documented).to.equal(true);
    const undocumented = resolveExport(resolve("src/cli/io.ts"), "EXIT_USAGE");
    expect(undocumented?.documented).to.equal(false);
  });
});
