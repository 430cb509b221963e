import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { createAgentAuthClient, isClientError } from "../../src/client/index.ts";
import { parseConfig } from "../../src/config/index.ts";
import { startAgentAuthServer } from "../../src/server/app/start-server.ts";
import { createJsonLogger } from "../../src/server/logger.ts";
import { SERVER_POLICY } from "../support/server.ts";

const sha = (token: string): string => createHash("sha256").update(token).digest("hex");

describe("refusal logging under a flood (end to end)", function () {
  this.timeout(120_000);

  it("writes unauthenticated refusals at a bounded rate, identified callers' one line each, and counts every one exactly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-auth-refusals-"));
    const logLines: string[] = [];
    const server = await startAgentAuthServer({
      config: parseConfig(SERVER_POLICY, { env: {} }),
      port: 0,
      logger: createJsonLogger((line) => void logLines.push(line)),
      callers: [{ name: "auditor", tokenHashes: [sha("audit-token")], certificates: [], groups: new Set(["audit"] as const) }],
      refusalLog: join(dir, "refusals.jsonl"),
    });
    const anonymous = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000 });
    const guesser = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000, metadata: { authorization: "Bearer guessed" } });
    const auditor = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 10_000, metadata: { authorization: "Bearer audit-token" } });
    const refused = async (call: () => Promise<unknown>): Promise<string> => {
      try {
        await call();
      } catch (error) {
        if (isClientError(error)) return String(error.code);
        throw error;
      }
      return "OK";
    };
    try {
      const codes: string[] = [];
      for (let i = 0; i < 20; i++) {
        codes.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => refused(() => (k % 2 === 0 ? anonymous : guesser).authorization.authorize({ agent: "a", user: "u", action: "x" }))))));
      }
      for (let i = 0; i < 25; i++) codes.push(await refused(() => auditor.authorization.authorize({ agent: "a", user: "u", action: "x" })));
      expect(codes.filter((c) => c === "16")).to.have.length(1000);
      expect(codes.filter((c) => c === "7")).to.have.length(25);
      await server.close(1000);
      const lines = readFileSync(join(dir, "refusals.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      // 1,000 unauthenticated refusals: the first in full, the others in one summary line.
      const unauthenticated = lines.filter((l) => l["code"] === "UNAUTHENTICATED");
      expect(unauthenticated.length).to.be.at.most(3);
      const summary = unauthenticated.find((l) => l["event"] === "calls_refused_summary")!;
      expect(unauthenticated.reduce((n, l) => n + (l["event"] === "calls_refused_summary" ? (l["count"] as number) : 1), 0)).to.equal(1000);
      expect(summary["reasons"]).to.have.keys(["no bearer token and no client certificate", "unknown bearer token"]);
      expect(summary["peers"]).to.deep.equal({ "127.0.0.1": summary["count"] });
      expect(summary["methods"]).to.deep.equal({ "/agentauth.v1.AuthorizationService/Authorize": summary["count"] });
      // An identified caller's refusals stay one line each.
      expect(lines.filter((l) => l["code"] === "PERMISSION_DENIED" && l["caller"] === "auditor")).to.have.length(25);
      expect(logLines.filter((l) => l.includes('"msg":"call refused"')).length).to.be.at.most(25 + 3);
      // The metrics count every one.
      const counted = (await server.metrics.refusals.get()).values.reduce((n, v) => n + (v.labels["code"] === "UNAUTHENTICATED" ? v.value : 0), 0);
      expect(counted).to.equal(1000);
    } finally {
      for (const c of [anonymous, guesser, auditor]) c.close();
      await server.close(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
