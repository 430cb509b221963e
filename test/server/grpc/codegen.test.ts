import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const BIN = join(process.cwd(), "node_modules", ".bin");
const env = { ...process.env, PATH: `${BIN}:${process.env["PATH"] ?? ""}` };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("protobuf contract and generated code", function () {
  this.timeout(60_000);

  it("is buf-lint clean (STANDARD rules)", () => {
    const r = spawnSync("buf", ["lint"], { env, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it("has no breaking change against main", function () {
    const hasMain = spawnSync("git", ["rev-parse", "--verify", "--quiet", "main"], { encoding: "utf8" }).status === 0;
    if (!hasMain) this.skip();
    const r = spawnSync("buf", ["breaking", "--against", ".git#branch=main"], { env, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it("matches what `buf generate` produces from proto/ (gen/ is not stale)", () => {
    const out = mkdtempSync(join(tmpdir(), "agent-auth-gen-"));
    try {
      execFileSync("buf", ["generate", "-o", out], { env, stdio: "pipe" });
      const fresh = files(join(out, "gen")).map((f) => relative(join(out, "gen"), f)).sort();
      const committed = files("gen").map((f) => relative("gen", f)).sort();
      expect(committed).to.deep.equal(fresh);
      for (const f of fresh) {
        expect(readFileSync(join("gen", f), "utf8"), `gen/${f} differs from buf generate`).to.equal(readFileSync(join(out, "gen", f), "utf8"));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
