import { expect } from "chai";
import { ConsoleSessions, sameToken } from "../../../src/server/http/console/sessions.ts";
import type { CallerConfig } from "../../../src/server/server-config.ts";

const caller = (name: string): CallerConfig => ({ name, tokenHashes: [], certificates: [], groups: new Set(["audit"] as const) });

describe("console: sessions", () => {
  it("gives each sign-in a fresh random id and CSRF token, and finds it by id only", () => {
    const sessions = new ConsoleSessions({ lifetimeMs: 60_000 });
    const a = sessions.create(caller("a"));
    const b = sessions.create(caller("a"));
    expect(a.id).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.to.equal(b.id);
    expect(a.session.csrf).not.to.equal(b.session.csrf);
    expect(sessions.get(a.id)?.caller.name).to.equal("a");
    expect(sessions.get(a.id + "x")).to.equal(undefined);
    expect(sessions.get(undefined)).to.equal(undefined);
    expect(sessions.get("")).to.equal(undefined);
  });

  it("ends a session at its lifetime and on sign-out", () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ lifetimeMs: 60_000, now: () => now });
    const a = sessions.create(caller("a"));
    const b = sessions.create(caller("b"));
    now += 59_999;
    expect(sessions.get(a.id)).not.to.equal(undefined);
    sessions.end(b.id);
    expect(sessions.get(b.id)).to.equal(undefined);
    now += 1;
    expect(sessions.get(a.id)).to.equal(undefined);
    expect(sessions.size).to.equal(0);
  });

  it("holds at most `max` sessions, ending the oldest first", () => {
    const sessions = new ConsoleSessions({ lifetimeMs: 60_000, max: 2 });
    const ids = [1, 2, 3].map((n) => sessions.create(caller(`c${n}`)).id);
    expect(sessions.size).to.equal(2);
    expect(sessions.get(ids[0])).to.equal(undefined);
    expect(sessions.get(ids[2])?.caller.name).to.equal("c3");
  });

  it("compares tokens exactly, refusing empty ones", () => {
    expect(sameToken("abc", "abc")).to.equal(true);
    expect(sameToken("abc", "abd")).to.equal(false);
    expect(sameToken("abc", "abcd")).to.equal(false);
    expect(sameToken("", "")).to.equal(false);
  });
});
