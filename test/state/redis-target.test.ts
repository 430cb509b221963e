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
});
