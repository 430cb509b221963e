import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Redis } from "ioredis";
import { parseConfig } from "../../src/config/index.ts";
import { startAgentAuthServer, type AgentAuthServer } from "../../src/server/app/start-server.ts";
import { createJsonLogger } from "../../src/server/logger.ts";
import { createAgentAuthClient, isClientError, type AgentAuthClient } from "../../src/client/index.ts";
import { deletePrefix, requireRedis, testPrefix } from "../support/redis.ts";

const GOOD = `version: "1.0"\nmetadata: {name: "\${APP_NAME}"}\nprofiles: {bot: {allow: [read]}}\naudit: {enabled: false}\n`;
/** A policy whose problems all lie in interpolated values. */
const LEAKY = `version: "1.0"
profiles: {bot: {allow: [read], default_tier: "\${APP_TIER}"}}
approval_policies: [{name: p, condition: "\${APP_CONDITION}"}]
a2a: {default: "\${APP_PASSWORD}"}
audit: {enabled: false}
`;
const ENV = { APP_NAME: "secrets-test", APP_TIER: "hunter2-tier", APP_CONDITION: "amount >>> hunter2", APP_PASSWORD: "hunter2-redis-password" };

/**
 * A reload of a policy whose `${ENV}` values are invalid: the reload error, the
 * server log, DescribePolicy.reload_errors (and, with Redis, the replica
 * registry other replicas read) say what is wrong without the values.
 */
async function reloadLeakyPolicy(redis: { url: string; prefix: string } | undefined): Promise<{ texts: string[]; server: AgentAuthServer; client: AgentAuthClient; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "agent-auth-secrets-"));
  const path = join(dir, "policy.yaml");
  writeFileSync(path, GOOD);
  const logs: string[] = [];
  const server = await startAgentAuthServer({
    config: parseConfig(GOOD, { env: ENV }),
    port: 0,
    logger: createJsonLogger((line) => void logs.push(line)),
    policyFile: { path, watch: false, env: ENV },
    ...(redis === undefined ? {} : { redis: { connection: { url: redis.url }, prefix: redis.prefix } }),
  });
  const client = createAgentAuthClient(`127.0.0.1:${server.port}`, { defaultDeadlineMs: 5000 });
  writeFileSync(path, LEAKY);
  let reloadError = "";
  try {
    await client.policy.reloadPolicy({});
  } catch (error) {
    if (!isClientError(error)) throw error;
    reloadError = error.message + JSON.stringify(error.fieldViolations);
  }
  const described = await client.policy.describePolicy({});
  return { texts: [reloadError, JSON.stringify(described.reloadErrors), JSON.stringify(described.replicas.map((r) => r.reloadErrors)), ...logs], server, client, dir };
}

function expectNoValues(texts: readonly string[]): void {
  const all = texts.join("\n");
  expect(texts[0]).to.contain("a2a.default: invalid default '${APP_PASSWORD}'");
  expect(texts[1]).to.contain("approval_policies[0].condition: the condition '${APP_CONDITION}' is not valid");
  for (const value of [ENV.APP_TIER, ENV.APP_CONDITION, ENV.APP_PASSWORD]) expect(all).to.not.contain(value);
  expect(all).to.not.contain("hunter2");
}

describe("${ENV} values stay out of errors, logs and the replica registry", function () {
  this.timeout(30_000);

  it("memory mode: the reload error, the log and DescribePolicy show the text as written", async () => {
    const { texts, server, client, dir } = await reloadLeakyPolicy(undefined);
    try {
      expectNoValues(texts);
      expect(texts.join("\n")).to.contain("profiles.bot: invalid default_tier '${APP_TIER}'");
    } finally {
      client.close();
      await server.close(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("Redis mode", () => {
    let url: string;
    const prefix = testPrefix("secrets");
    before(async function () {
      url = await requireRedis(this);
    });
    after(async () => {
      if (url !== undefined) await deletePrefix(url, prefix);
    });

    it("the replica registry holds the reload errors as written", async () => {
      const { texts, server, client, dir } = await reloadLeakyPolicy({ url, prefix });
      const raw = new Redis(url);
      try {
        const registry = await raw.hgetall(`{${prefix}}:replicas`);
        expect(Object.keys(registry)).to.have.length(1);
        expect(Object.values(registry)[0]).to.contain("${APP_PASSWORD}");
        expectNoValues([...texts, ...Object.values(registry)]);
      } finally {
        raw.disconnect();
        client.close();
        await server.close(1000);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
