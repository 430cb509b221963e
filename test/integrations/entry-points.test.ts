import { expect } from "chai";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const OPTIONAL_PEERS = /^(express|@modelcontextprotocol\/sdk)(\/|$)/;

/** Packages a module loads when imported: its static runtime imports, followed through the files of this repository. */
function loadedPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    // `import type` / `export type` are erased; everything else loads its module.
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\s)[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(resolve(entry));
  return packages;
}

describe("entry points and the optional peer dependencies", () => {
  for (const entry of ["src/index.ts", "src/client/index.ts", "src/server/index.ts", "src/integrations/guard/index.ts", "src/cli/main.ts"]) {
    it(`${entry} loads none of express, @modelcontextprotocol/sdk`, () => {
      expect([...loadedPackages(entry)].filter((p) => OPTIONAL_PEERS.test(p))).to.deep.equal([]);
    });
  }

  it("only the server (its HTTP listener) and the Fastify integration load fastify, a dependency", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).to.have.property("fastify");
    for (const entry of ["src/index.ts", "src/client/index.ts", "src/integrations/guard/index.ts", "src/cli/main.ts"]) {
      expect([...loadedPackages(entry)].filter((p) => /^fastify(\/|$)/.test(p)), entry).to.deep.equal([]);
    }
    expect([...loadedPackages("src/server/index.ts")]).to.include("fastify");
  });

  it("the MCP entry point is the one that loads the MCP SDK (the check sees it)", () => {
    expect([...loadedPackages("src/integrations/mcp/index.ts")].filter((p) => OPTIONAL_PEERS.test(p))).to.include("@modelcontextprotocol/sdk/types.js");
  });

  it("the package exports each integration from the build, under its documented name", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { exports: Record<string, { default: string }>; peerDependenciesMeta: Record<string, { optional: boolean }> };
    const expected: Record<string, string[]> = {
      "./guard": ["guard", "AuthorizationDeniedError", "ApprovalRequiredError"],
      "./express": ["createAgentAuthMiddleware", "createRequireAuth"],
      "./fastify": ["agentAuthPlugin", "createRequireAuth"],
      "./mcp": ["createMcpGateway", "startStdioProxy", "startHttpProxy", "ErrorCodes"],
      "./client": ["createAgentAuthClient", "AgentAuthError", "isAgentAuthError"],
    };
    for (const [path, names] of Object.entries(expected)) {
      const mod = (await import(resolve(pkg.exports[path]!.default))) as Record<string, unknown>;
      for (const name of names) expect(mod, `${path} ${name}`).to.have.property(name);
    }
    expect(Object.values(pkg.peerDependenciesMeta).every((m) => m.optional)).to.equal(true);
  });
});
