import { expect } from "chai";
import fc from "fast-check";
import { serialize } from "node:v8";
import { compactString } from "../../src/bytes/utf8.ts";
import { AuthEngine } from "../../src/engine/auth-engine.ts";
import { createMemoryStore } from "../../src/state/memory/memory-store.ts";
import { parseConfig } from "../../src/config/index.ts";
import type { AuthDecision } from "../../src/model/types.ts";

/**
 * Whether V8 holds `s` one byte per character. V8's serializer writes a
 * string as it is stored: tag `"` for one-byte, `c` for two-byte (after a
 * two-byte header).
 */
const oneByte = (s: string): boolean => serialize(s)[2] === 0x22;

describe("compactString", () => {
  it("gives back the same text for any string (Latin-1, beyond it, lone surrogates)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) })), (s) => {
        expect(compactString(s)).to.equal(s);
      }),
      { numRuns: 2000 },
    );
  });

  it("stores a Latin-1 piece of a two-byte text one byte per character, and keeps wider text as it is", () => {
    const file = "# a comment with … in it\nname: copilot é";
    const piece = file.slice(file.indexOf("copilot"));
    expect(oneByte(piece)).to.equal(false);
    expect(oneByte(compactString(piece))).to.equal(true);
    expect(compactString(piece)).to.equal("copilot é");
    expect(oneByte(compactString("…"))).to.equal(false);
    expect(compactString("a…b")).to.equal("a…b");
  });

  it("keeps the names and reasons of a policy file with a character beyond Latin-1 one byte per character", () => {
    const policy = parseConfig(
      [
        'version: "1.0"',
        "# Agents that read code — and nothing else …",
        "roles: {reader: {actions: [read]}}",
        "profiles: {copilot: {role: reader, default_tier: autonomous}}",
        "approval_policies: [{name: big-reads, tier: soft, condition: \"resource == '/big'\"}]",
        "",
      ].join("\n"),
      { env: {} },
    );
    const engine = new AuthEngine(policy, { store: createMemoryStore() });
    const decide = (resource: string): AuthDecision => engine.decide({ agent: "copilot", user: "alice", action: "read", resource }) as AuthDecision;
    const allowed = decide("/docs/1");
    const needsApproval = decide("/big");
    expect(allowed.reason).to.equal("Allowed by profile 'copilot'");
    expect(needsApproval.approvalPolicy).to.equal("big-reads");
    for (const s of [allowed.reason, allowed.policyRevision, needsApproval.reason, needsApproval.approvalPolicy, ...policy.profiles.keys(), ...policy.roles.keys()]) {
      expect(oneByte(s), s).to.equal(true);
    }
  });
});
