import { expect } from "chai";
import { newDecisionId } from "../../src/engine/decision-id.ts";

describe("decision ids", () => {
  it("are version 4 UUIDs with the RFC 4122 variant, all different, across many batches", () => {
    const seen = new Set<string>();
    const nibbles = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = newDecisionId();
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
      nibbles.add(id[0]!);
    }
    expect(seen.size).to.equal(20_000);
    // Random, not a counter: every first hex digit turns up.
    expect(nibbles.size).to.equal(16);
  });
});
