import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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
  this.timeout(120_000);

  it("is buf-lint clean (STANDARD rules)", () => {
    const r = spawnSync("buf", ["lint"], { env, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it("breaks nothing of the released contract (contract/v0.1.0.binpb)", () => {
    const r = spawnSync("buf", ["breaking", "--against", "contract/v0.1.0.binpb"], { env, encoding: "utf8" });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it("would notice a breaking change (the check is not vacuous)", () => {
    // A field removed from a copy of the contract must be reported against the released image.
    const copy = mkdtempSync(join(tmpdir(), "agent-auth-proto-"));
    try {
      cpSync("proto", join(copy, "proto"), { recursive: true });
      cpSync("buf.yaml", join(copy, "buf.yaml"));
      const file = join(copy, "proto", "agentauth", "v1", "decision.proto");
      const text = readFileSync(file, "utf8");
      const cut = text.replace(/^\s*string reason = \d+;\n/m, "");
      expect(cut, "the reason field to remove").to.not.equal(text);
      writeFileSync(file, cut);
      const r = spawnSync("buf", ["breaking", "--against", join(process.cwd(), "contract/v0.1.0.binpb")], { cwd: copy, env, encoding: "utf8" });
      expect(r.status).to.not.equal(0);
      expect(r.stdout + r.stderr).to.match(/reason/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
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
