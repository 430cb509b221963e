import { expect } from "chai";
import { approverRefusal } from "../../src/approvals/approvers.ts";
import { bindingDigest, canonicalJson, metadataDigest } from "../../src/approvals/binding.ts";
import { parseConfig } from "../../src/config/parse-config.ts";
import type { NormalizedRequest } from "../../src/model/request.ts";

const req = (over: Partial<NormalizedRequest> = {}): NormalizedRequest => ({
  agent: "a",
  user: "u",
  action: "pay",
  resource: "r",
  scope: "",
  sessionId: "",
  targetAgent: "",
  metadata: { amount: 10 },
  ...over,
});

describe("approval binding", () => {
  it("writes canonical JSON: keys sorted at every level, no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: "é" }], c: true } })).to.equal('{"a":{"c":true,"d":[3,{"y":"é","z":null}]},"b":1}');
    expect(metadataDigest({ x: 1, y: 2 })).to.equal(metadataDigest({ y: 2, x: 1 }));
  });

  it("tells apart values that differ only in type or size", () => {
    const digests = [{ amount: 10 }, { amount: 10000 }, { amount: "10" }, { amount: [10] }, {}, { amount: null }].map(metadataDigest);
    expect(new Set(digests).size).to.equal(digests.length);
    for (const d of digests) expect(d).to.match(/^[0-9a-f]{64}$/);
  });

  it("changes with every bound field, and cannot be forged by moving text between fields", () => {
    const base = bindingDigest(req());
    const changed: Partial<NormalizedRequest>[] = [
      { agent: "b" },
      { user: "v" },
      { action: "pay2" },
      { resource: "r2" },
      { scope: "s" },
      { sessionId: "s1" },
      { targetAgent: "t" },
      { metadata: { amount: 11 } },
      { agent: "au", user: "" },
    ];
    const all = changed.map((c) => bindingDigest(req(c)));
    expect(all).to.not.include(base);
    expect(new Set(all).size).to.equal(all.length);
  });
});

describe("who may approve", () => {
  const defaults = parseConfig("version: '1.0'").approvals;
  const configured = parseConfig("approvals: {approvers: {soft: [self, 'lead-*'], strong: ['sec-*', 'u']}}").approvals;

  it("by default: soft — the user or anyone; strong — anyone but the user; never the agent", () => {
    expect(approverRefusal(defaults, { tier: "soft", agent: "a", user: "u" }, "u")).to.equal(undefined);
    expect(approverRefusal(defaults, { tier: "soft", agent: "a", user: "u" }, "carol")).to.equal(undefined);
    expect(approverRefusal(defaults, { tier: "soft", agent: "a", user: "u" }, "a")).to.match(/four-eyes rule: the requesting agent 'a'/);
    expect(approverRefusal(defaults, { tier: "strong", agent: "a", user: "u" }, "carol")).to.equal(undefined);
    expect(approverRefusal(defaults, { tier: "strong", agent: "a", user: "u" }, "u")).to.match(/four-eyes rule: 'u' is the request's user/);
    expect(approverRefusal(defaults, { tier: "strong", agent: "a", user: "u" }, "a")).to.match(/four-eyes/);
  });

  it("with patterns: self and globs per tier; four eyes win over a pattern naming the user", () => {
    expect(approverRefusal(configured, { tier: "soft", agent: "a", user: "u" }, "u")).to.equal(undefined);
    expect(approverRefusal(configured, { tier: "soft", agent: "a", user: "u" }, "lead-1")).to.equal(undefined);
    expect(approverRefusal(configured, { tier: "soft", agent: "a", user: "u" }, "sec-1")).to.match(/'sec-1' is not an approver of soft-tier requests \(approvals.approvers.soft: "self", "lead-\*"\)/);
    expect(approverRefusal(configured, { tier: "strong", agent: "a", user: "u" }, "sec-1")).to.equal(undefined);
    expect(approverRefusal(configured, { tier: "strong", agent: "a", user: "u" }, "lead-1")).to.match(/not an approver of strong-tier/);
    expect(approverRefusal(configured, { tier: "strong", agent: "a", user: "u" }, "u")).to.match(/four-eyes/);
    // The same name is fine as the approver of someone else's strong-tier request.
    expect(approverRefusal(configured, { tier: "strong", agent: "a", user: "w" }, "u")).to.equal(undefined);
  });
});
