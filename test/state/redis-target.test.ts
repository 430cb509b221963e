import { expect } from "chai";
import { parseRedisTarget } from "../../src/state/redis/redis-target.ts";

describe("parseRedisTarget", () => {
  const table: [string, unknown][] = [
    ["redis://127.0.0.1:6379/2", { url: "redis://127.0.0.1:6379/2" }],
    ["rediss://user:pw@cache.example:6380", { url: "rediss://user:pw@cache.example:6380" }],
    ["redis-sentinel://s1:26379,s2/mymaster", { sentinels: [{ host: "s1", port: 26379 }, { host: "s2", port: 26379 }], name: "mymaster", options: {} }],
    ["redis-sentinel://secret@s1:5000/main/3", { sentinels: [{ host: "s1", port: 5000 }], name: "main", options: { password: "secret", db: 3 } }],
    ["redis-cluster://n1:7000,[::1]:7001,n3", { cluster: [{ host: "n1", port: 7000 }, { host: "::1", port: 7001 }, { host: "n3", port: 6379 }] }],
  ];
  for (const [text, expected] of table) {
    it(`reads ${text}`, () => expect(parseRedisTarget(text)).to.deep.equal(expected));
  }
  for (const bad of ["localhost:6379", "http://x", "redis-cluster://", "redis-sentinel://h1:x/m"]) {
    it(`rejects ${bad}`, () => expect(() => parseRedisTarget(bad)).to.throw(/Redis/));
  }
  const leaky: [string, string][] = [
    ["redis://user:hunter2@[bad", "'redis://***@[bad' is not a valid Redis URL"],
    ["redis://:hunter2@h:x", "'redis://***@h:x' is not a valid Redis URL"],
    ["user:hunter2@cache:6379", "'***@cache:6379' is not a Redis target"],
    ["redis-sentinel://hunter2@s1:x/main", "'s1:x' in Redis target 'redis-sentinel://***@s1:x/main' is not host:port"],
    ["redis-cluster://n1:7000,hunter2@n2:x", "in Redis target 'redis-cluster://***@n2:x' is not host:port"],
    ["mysql://h?password=hunter2&x=1", "'mysql://h?password=***&x=1' is not a Redis target"],
  ];
  for (const [text, shown] of leaky) {
    it(`keeps the credentials of ${shown.split("'")[1]} out of its error`, () => {
      let message = "";
      try {
        parseRedisTarget(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.contain(shown);
      expect(message).to.not.contain("hunter2");
    });
  }
});
