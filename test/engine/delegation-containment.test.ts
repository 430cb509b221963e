import { expect } from "chai";
import { AuthEngine } from "../../src/embedded-engine.ts";
import { ManualClock } from "../../src/model/clock.ts";
import { isDelegationValidationError, isInvalidRequestError } from "../../src/model/errors.ts";
import { parseConfig } from "../../src/config/index.ts";

/** An engine whose one delegation rule `r` allows `patterns`; the agent `bot` may do nothing itself. */
function engineWithRule(patterns: readonly string[]): AuthEngine {
  const config = parseConfig(
    `version: "1.0"
profiles:
  bot: {allow: []}
delegation:
  enabled: true
  rules:
    - {name: r, allowed_actions: ${JSON.stringify(patterns)}}
`,
    { env: {} },
  );
  return new AuthEngine(config, { clock: new ManualClock(), audit: false });
}

async function refusal(engine: AuthEngine, action: string): Promise<string | undefined> {
  try {
    await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: [action] });
    return undefined;
  } catch (error) {
    if (isDelegationValidationError(error)) return error.errors.join("\n");
    throw error;
  }
}

// COMPATIBILITY deviation 11: a delegated pattern must stay inside the rule.
// The original tested the delegated text literally, so `?` or `[!…]` in a rule
// also matched the character `*` and `report*` passed under `report?`.
describe("delegation rules: delegated patterns must stay inside the rule", () => {
  const table: [string, string, boolean][] = [
    ["report?", "report1", true],
    ["report?", "report12", false],
    ["report?", "report*", false],
    ["report?", "report[0-9]", true],
    ["invoice:[!0-9]", "invoice:*", false],
    ["invoice:[!0-9]", "invoice:?", false],
    ["invoice:[!0-9]", "invoice:[a-z]", true],
    ["pr:*", "pr:12*", true],
    ["pr:*", "pr:?", true],
    ["pr:*", "pr:[0-9]", true],
    ["pr:*", "pr*", false],
    ["pr:*", "*", false],
    ["*", "*", true],
    ["*", "anything:[!x]?*", true],
  ];
  for (const [rule, action, allowed] of table) {
    it(`rule ${JSON.stringify(rule)} ${allowed ? "accepts" : "refuses"} ${JSON.stringify(action)}`, async () => {
      expect(await refusal(engineWithRule([rule]), action)).to.equal(allowed ? undefined : `Action '${action}' not allowed by delegation rule 'r'`);
    });
  }

  it("lets the rule's patterns cover a delegated pattern together", async () => {
    const engine = engineWithRule(["pr:a", "pr:b", "read"]);
    expect(await refusal(engine, "pr:[ab]")).to.equal(undefined);
    expect(await refusal(engine, "pr:[abc]")).to.equal("Action 'pr:[abc]' not allowed by delegation rule 'r'");
  });

  it("grants what the accepted pattern matches, and no more", async () => {
    const engine = engineWithRule(["report?"]);
    await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["report[0-9]"] });
    expect((await engine.authorize({ agent: "bot", user: "alice", action: "report7" })).reason).to.equal("Delegated by user 'alice'");
    expect((await engine.authorize({ agent: "bot", user: "alice", action: "report-annual-2024-all-customers" })).allowed).to.equal(false);
  });

  // The review's second shape: 16 delegated patterns under the example
  // policy's `pr:*` rule. Within the limits they are accepted and match right;
  // the review's own pattern is refused by the limits before any rule runs.
  it("accepts 16 worst-shape patterns under pr:* within the limits and refuses the review's own", async () => {
    const engine = engineWithRule(["read", "pr:*"]);
    const actions = Array.from({ length: 16 }, (_, i) => "pr:*" + "?".repeat(14) + String.fromCharCode(0x61 + i));
    await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions });
    expect((await engine.authorize({ agent: "bot", user: "alice", action: "pr:" + "x".repeat(4092) + "p" })).allowed).to.equal(true);
    expect((await engine.authorize({ agent: "bot", user: "alice", action: "pr:" + "x".repeat(4092) + "q" })).allowed).to.equal(false);
    try {
      await engine.createDelegation({ fromUser: "alice", toAgent: "bot", actions: ["pr:*" + "?".repeat(4090) + "b"] });
      expect.fail("accepted");
    } catch (error) {
      expect(isInvalidRequestError(error) && error.message).to.equal("actions[0]: is a pattern 4095 characters long; the limit is 256 (limits.max_pattern_length)");
    }
  });
});
