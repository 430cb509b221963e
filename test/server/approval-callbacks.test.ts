import { expect } from "chai";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CallbackDelivery,
  callbackPatternProblem,
  compileCallbackAllowList,
  signCallback,
  type DeliveryOutcome,
} from "../../src/server/app/approval-callbacks.ts";
import { silentLogger } from "../../src/server/logger.ts";
import { parseServerConfig } from "../../src/server/server-config.ts";

/** A local receiver: answers each POST with the next status of `statuses` (then 200), keeping what it got. */
async function receiver(statuses: number[]): Promise<{ url: string; got: { headers: IncomingMessage["headers"]; body: string }[]; server: Server; next: () => Promise<void> }> {
  const got: { headers: IncomingMessage["headers"]; body: string }[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
      waiters.shift()?.();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hooks/approvals`, got, server, next: () => new Promise<void>((resolve) => waiters.push(resolve)) };
}

const config = { allow: ["http://127.0.0.1:*/*"], secret: "0123456789abcdef-secret", maxAttempts: 3, backoffMs: 5, timeoutMs: 5000 };

describe("approval callbacks", () => {
  describe("the allow-list", () => {
    const list = compileCallbackAllowList(["http://127.0.0.1:*/hooks/*", "https://*.example.com/agent-auth", "https://pager.example.org:8443/*"]);

    it("allows URLs whose scheme, host, port and path match a pattern", () => {
      expect(list.refusal("http://127.0.0.1:9999/hooks/approvals")).to.equal(undefined);
      expect(list.refusal("http://127.0.0.1:1/hooks/a?x=1")).to.equal(undefined);
      expect(list.refusal("https://hooks.example.com/agent-auth")).to.equal(undefined);
      expect(list.refusal("https://HOOKS.Example.com:443/agent-auth")).to.equal(undefined);
      expect(list.refusal("https://pager.example.org:8443/x/y")).to.equal(undefined);
    });

    it("refuses everything else, matching parsed parts rather than text", () => {
      // A wildcard port cannot swallow credentials and another host.
      expect(list.refusal("http://127.0.0.1:1@evil.example/hooks/x")).to.match(/credentials|not allowed/);
      expect(list.refusal("http://127.0.0.2:80/hooks/x")).to.match(/not allowed by the server config's approvals\.callback_allow/);
      expect(list.refusal("http://127.0.0.1:80/other")).to.match(/not allowed/);
      // The scheme and the default port count.
      expect(list.refusal("http://hooks.example.com/agent-auth")).to.match(/not allowed/);
      expect(list.refusal("https://pager.example.org/x")).to.match(/not allowed/);
      // A host pattern does not reach across dots into another domain.
      expect(list.refusal("https://example.com.evil.net/agent-auth")).to.match(/not allowed/);
      expect(list.refusal("file:///etc/passwd")).to.equal("must be an http or https URL");
      expect(list.refusal("not a url")).to.equal("is not a URL");
      expect(list.refusal("https://u:p@hooks.example.com/agent-auth")).to.equal("must not carry credentials");
    });

    it("validates patterns", () => {
      expect(callbackPatternProblem("http://127.0.0.1:*/*")).to.equal(undefined);
      expect(callbackPatternProblem("https://[::1]:8080")).to.equal(undefined);
      expect(callbackPatternProblem("127.0.0.1:*")).to.match(/must look like http\(s\):\/\/host/);
      expect(callbackPatternProblem("http://a@b/")).to.match(/must look like/);
      expect(callbackPatternProblem("ftp://host/")).to.match(/must look like/);
    });
  });

  describe("delivery", () => {
    it("retries a failed attempt and signs the body with HMAC-SHA256", async () => {
      const r = await receiver([500]);
      const outcomes: DeliveryOutcome[] = [];
      const delivery = new CallbackDelivery({ config, logger: silentLogger, onOutcome: (o) => outcomes.push(o) });
      try {
        const body = JSON.stringify({ event: "approval_approved", approval: { id: "t1", status: "approved" } });
        const second = (async () => {
          await r.next();
          await r.next();
        })();
        delivery.send(r.url, body, { taskId: "t1", event: "approval_approved" });
        await second;
        expect(r.got).to.have.length(2);
        for (const g of r.got) {
          expect(g.body).to.equal(body);
          expect(g.headers["content-type"]).to.equal("application/json");
          const expected = `sha256=${createHmac("sha256", config.secret).update(body).digest("hex")}`;
          expect(g.headers["x-agent-auth-signature"]).to.equal(expected);
        }
        while (outcomes.length === 0) await new Promise((resolve) => setImmediate(resolve));
        expect(outcomes).to.deep.equal([{ url: r.url, taskId: "t1", event: "approval_approved", delivered: true, attempts: 2, error: "" }]);
        expect(delivery.pending).to.equal(0);
      } finally {
        delivery.close();
        r.server.close();
      }
    });

    it("gives up after the configured attempts", async () => {
      const r = await receiver([503, 503, 503, 503]);
      const outcomes: DeliveryOutcome[] = [];
      const delivery = new CallbackDelivery({ config, logger: silentLogger, onOutcome: (o) => outcomes.push(o) });
      try {
        delivery.send(r.url, "{}", { taskId: "t2", event: "approval_denied" });
        while (outcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(outcomes[0]).to.deep.include({ delivered: false, attempts: 3, error: "HTTP 503" });
        expect(r.got).to.have.length(3);
      } finally {
        delivery.close();
        r.server.close();
      }
    });

    it("does not follow redirects", async () => {
      const r = await receiver([302]);
      const outcomes: DeliveryOutcome[] = [];
      const delivery = new CallbackDelivery({ config: { ...config, maxAttempts: 1 }, logger: silentLogger, onOutcome: (o) => outcomes.push(o) });
      try {
        delivery.send(r.url, "{}", { taskId: "t3", event: "approval_requested" });
        while (outcomes.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        expect(outcomes[0]).to.deep.include({ delivered: false, error: "HTTP 302" });
      } finally {
        delivery.close();
        r.server.close();
      }
    });

    it("signCallback is sha256= and the hex HMAC", () => {
      expect(signCallback("k", "body")).to.equal(`sha256=${createHmac("sha256", "k").update("body").digest("hex")}`);
    });
  });

  describe("the server config's approvals section", () => {
    const errorsOf = (text: string, env: Record<string, string> = {}): readonly string[] => {
      try {
        parseServerConfig(text, "<test>", env);
      } catch (error) {
        return (error as { errors: readonly string[] }).errors;
      }
      return [];
    };

    it("reads the allow-list, the secret (inline or from the environment) and the retry settings", () => {
      const sc = parseServerConfig("approvals: {callback_allow: ['http://127.0.0.1:*/*'], callback_secret_env: HOOK_KEY, callback_attempts: 3}", "<test>", {
        HOOK_KEY: "a-long-enough-secret",
      });
      expect(sc.approvals).to.deep.equal({ allow: ["http://127.0.0.1:*/*"], secret: "a-long-enough-secret", maxAttempts: 3, backoffMs: 1000, timeoutMs: 5000 });
      expect(parseServerConfig("approvals: {callback_allow: [], callback_secret: 'sixteen-bytes-long'}").approvals?.secret).to.equal("sixteen-bytes-long");
      expect(parseServerConfig("metrics: {port: 1}").approvals).to.equal(undefined);
    });

    it("names every problem and never echoes the secret", () => {
      expect(errorsOf("approvals: {callback_allow: ['127.0.0.1:*']}")).to.deep.equal([
        "approvals.callback_allow[0]: '127.0.0.1:*' must look like http(s)://host[:port][/path], with * allowed in host, port and path",
        "approvals: callback_allow needs callback_secret or callback_secret_env to sign callbacks with",
      ]);
      const short = errorsOf("approvals: {callback_secret: 'tiny-secret'}");
      expect(short).to.deep.equal(["approvals: the callback secret must be at least 16 bytes"]);
      expect(short.join("")).not.to.include("tiny-secret");
      expect(errorsOf("approvals: {callback_secret_env: MISSING}")).to.deep.equal(["approvals.callback_secret_env: the environment variable MISSING is not set"]);
      expect(errorsOf("approvals: {callback_secret: 'sixteen-bytes-long', callback_secret_env: X}")).to.deep.equal(["approvals: give callback_secret or callback_secret_env, not both"]);
      expect(errorsOf("approvals: {callback_secret: 'sixteen-bytes-long', callback_attempts: 0}")).to.deep.equal(["approvals.callback_attempts: must be at least 1, got 0"]);
      expect(errorsOf("approvals: {callback_url: x}")[0]).to.match(/^approvals\.callback_url: unknown key/);
    });
  });
});
