import { expect } from "chai";
import * as agentAuth from "../src/index.ts";

describe("the package entry point (src/index.ts)", () => {
  it("exports the engine, config loading, errors, stores and sinks, and no internals", () => {
    for (const name of [
      "AuthEngine", "AuthDecision", "TIER_ORDER", "DelegationValidationError", "InvalidRequestError", "StateUnavailableError",
      "loadConfig", "parseConfig", "ConfigError", "createMemoryStore", "createRedisStore", "createJsonlFileSink", "fnmatch",
      "guard", "AuthorizationDeniedError", "ApprovalRequiredError",
    ]) {
      expect(agentAuth, name).to.have.property(name);
    }
    for (const internal of ["resolveOutcome", "normalizeRequest", "reasons", "startAgentAuthServer", "createAgentAuthClient", "ManualClock"]) {
      expect(agentAuth, internal).to.not.have.property(internal);
    }
  });

  it("decides with the example policy through the exported names alone", async () => {
    const engine = new agentAuth.AuthEngine(agentAuth.loadConfig("examples/agent_auth.yaml", { env: {} }), { audit: false });
    const allowed = await engine.authorize({ agent: "copilot", user: "alice", action: "read", scope: "project:web" });
    const denied = await engine.authorize({ agent: "copilot", user: "alice", action: "delete" });
    expect(allowed.allowed).to.equal(true);
    expect(allowed.isAutonomous).to.equal(true);
    expect(denied.isDenied).to.equal(true);
    expect(denied.reason).to.equal("Action 'delete' denied by profile 'copilot'");
    await engine.close();
  });
});
