import { expect } from "chai";
import { evalFromEvalsha, respCommand, RespArgs } from "../../src/state/redis/resp-builder.ts";

/** Reads a RESP array of bulk strings (a command as Redis receives it). */
function parseCommand(bytes: Buffer): Buffer[] {
  let o = 0;
  const line = (): string => {
    const end = bytes.indexOf("\r\n", o);
    const s = bytes.toString("latin1", o, end);
    o = end + 2;
    return s;
  };
  const head = line();
  expect(head[0]).to.equal("*");
  const out: Buffer[] = [];
  for (let i = 0; i < Number(head.slice(1)); i++) {
    const h = line();
    expect(h[0]).to.equal("$");
    const len = Number(h.slice(1));
    out.push(bytes.subarray(o, o + len));
    expect(bytes.toString("latin1", o + len, o + len + 2)).to.equal("\r\n");
    o += len + 2;
  }
  expect(o).to.equal(bytes.length);
  return out;
}

describe("RESP command encoding", () => {
  // Lengths that change their number of digits once encoded: 5 × "é" is 5 characters, 10 bytes.
  const texts = ["", "0", "plain", "é".repeat(5), "é".repeat(50), "🙂", "x".repeat(24), "x".repeat(25), "y".repeat(99) + "é", "z".repeat(9999) + "é", "mixed ascii then ü and then more ascii text"];

  for (const s of texts) {
    it(`encodes text of ${s.length} characters (${Buffer.byteLength(s)} bytes) as its UTF-8 bytes`, () => {
      const args = new RespArgs(8).text(s).text("after");
      const [a, b] = parseCommand(respCommand(["CMD"], [args])).slice(1);
      expect(a!.toString("utf8")).to.equal(s);
      expect(b!.toString()).to.equal("after");
    });
  }

  it("encodes keys from a byte prefix and two texts, integers and byte ranges", () => {
    const args = new RespArgs(4)
      .joined(Buffer.from("{p}:dp:2:"), "ab", "ü-user")
      .integer(1234567)
      .bytes(Buffer.from("0123456789"), 3, 7)
      .joined(Buffer.alloc(0), "é".repeat(5), "");
    const parsed = parseCommand(respCommand(["EVALSHA", "sha", "1"], [args])).map((b) => b.toString("utf8"));
    expect(parsed).to.deep.equal(["EVALSHA", "sha", "1", "{p}:dp:2:abü-user", "1234567", "3456", "é".repeat(5)]);
  });

  it("joins several groups under one count and empties them for reuse", () => {
    const a = new RespArgs().text("k1").text("k2");
    const b = new RespArgs().text("v1");
    expect(parseCommand(respCommand(["X"], [a, b])).map(String)).to.deep.equal(["X", "k1", "k2", "v1"]);
    expect([a.count, a.byteLength, b.count]).to.deep.equal([0, 0, 0]);
    expect(parseCommand(respCommand(["Y"], [a.text("again"), b])).map(String)).to.deep.equal(["Y", "again"]);
  });

  it("turns an EVALSHA into the EVAL of the script's text, arguments unchanged", () => {
    const sha = "a".repeat(40);
    const evalsha = respCommand(["EVALSHA", sha, "2", "key"], [new RespArgs().text("k2").text("arg é")]);
    const lua = "return {KEYS[1], ARGV[1]} -- ü";
    expect(parseCommand(evalFromEvalsha(evalsha, lua)).map((b) => b.toString("utf8"))).to.deep.equal(["EVAL", lua, "2", "key", "k2", "arg é"]);
  });
});
