import { expect } from "chai";
import { COMMANDS, runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { parseCommandLine } from "../../src/cli/global-options.ts";
import { parseServerTarget } from "../../src/cli/server-target.ts";
import { VERSION } from "../../src/model/version.ts";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env: {}, color: false };
  return { code: await runCli(argv, io), out, err };
}

describe("the command line", () => {
  it("prints help for the program and for every command: every option, an example", async () => {
    const help = await cli("help");
    expect(help.code).to.equal(0);
    for (const c of COMMANDS) expect(help.out).to.contain(`  ${c.name} `);
    for (const c of COMMANDS) {
      for (const argv of [[c.name, "--help"], ["help", c.name], [c.name, "-h"]]) {
        const r = await cli(...argv);
        expect(r.code, argv.join(" ")).to.equal(0);
        expect(r.out).to.match(/^Usage: agent-auth/);
        for (const name of Object.keys(c.options)) expect(r.out, `${c.name} --help names --${name}`).to.contain(`--${name}`);
        expect(r.out).to.contain(c.examples[0]);
      }
    }
    expect((await cli("--help")).out).to.equal(help.out);
  });

  it("prints the version three ways, and as JSON", async () => {
    for (const argv of [["version"], ["--version"], ["-V"], ["check", "-V"]]) expect((await cli(...argv)).out, argv.join(" ")).to.equal(`agent-auth ${VERSION}\n`);
    expect(JSON.parse((await cli("version", "-o", "json")).out)).to.deep.equal({ version: VERSION });
  });

  it("accepts global options after the command, except where the command has an option of that name", () => {
    const g = (argv: string[]) => parseCommandLine(argv, {}, COMMANDS);
    const check = g(["check", "--agent", "a", "--server", "h:1", "-c", "p.yaml", "--token", "t", "--user", "u"]);
    expect(check.globals).to.deep.include({ server: "h:1", configPath: "p.yaml", token: "t" });
    expect(check.args).to.deep.equal(["--agent", "a", "--user", "u"]);
    const serve = g(["serve", "--tls-cert", "s.pem", "--tls-key", "s.key", "--redis", "redis://r", "--tls-ca", "ca.pem"]);
    expect(serve.args).to.deep.equal(["--tls-cert", "s.pem", "--tls-key", "s.key", "--redis", "redis://r"]);
    expect(serve.globals).to.deep.include({ tlsCert: undefined, redis: undefined, tlsCa: "ca.pem" });
    // A value that looks like an option stays the command's; `--` ends option parsing.
    expect(g(["check", "--resource", "--server", "--agent", "a"]).args).to.deep.equal(["--resource", "--server", "--agent", "a"]);
    expect(g(["test", "--", "--server", "-c"]).args).to.deep.equal(["--", "--server", "-c"]);
    expect(g(["test", "--", "--server"]).globals.server).to.equal(undefined);
    expect(g(["--server=h:2", "audit", "--config=x.yaml"]).globals).to.deep.include({ server: "h:2", configPath: "x.yaml" });
  });

  it("reads --server in every form, with port 50051 unless given", () => {
    const cases: [string, string, boolean][] = [
      ["localhost", "localhost:50051", false],
      ["localhost:7000", "localhost:7000", false],
      ["10.0.0.5", "10.0.0.5:50051", false],
      ["[::1]", "[::1]:50051", false],
      ["[::1]:9", "[::1]:9", false],
      ["::1", "[::1]:50051", false],
      ["http://auth.internal", "auth.internal:50051", false],
      ["http://auth.internal:8443/", "auth.internal:8443", false],
      ["https://auth.internal", "auth.internal:50051", true],
      ["https://[::1]:443", "[::1]:443", true],
    ];
    for (const [text, target, tls] of cases) expect(parseServerTarget(text), text).to.deep.equal({ target, tls });
    for (const bad of ["ftp://x", "http://x/path", "h:port", "h:70000", "https://"]) expect(() => parseServerTarget(bad), bad).to.throw(/--server/);
  });

  const usage: [string[], RegExp][] = [
    [["frobnicate"], /unknown command 'frobnicate'\nHint: run 'agent-auth help' for usage/],
    [["chek"], /unknown command 'chek' \(did you mean 'check'\?\)/],
    [["check", "--agent", "a"], /check: missing option --user\nHint: run 'agent-auth check --help' for usage/],
    [["check", "--agent", "a", "--user", "u", "--action", "x", "--bogus"], /check: Unknown option '--bogus'\nHint: run 'agent-auth check --help'/],
    [["validate", "stray"], /validate: Unexpected argument 'stray'/],
    [["--server"], /--server needs a value/],
    [["--nope", "validate"], /unknown global option --nope/],
    [["--server", "ftp://x", "check", "--agent", "a", "--user", "u", "--action", "x"], /unknown scheme 'ftp:\/\/'/],
  ];
  for (const [argv, message] of usage) {
    it(`usage error, exit 2 with a one-line hint: ${argv.join(" ")}`, async () => {
      const r = await cli(...argv);
      expect(r.code).to.equal(2);
      expect(r.err).to.match(message);
      expect(r.err.trim().split("\n")).to.have.length(2);
    });
  }
});
