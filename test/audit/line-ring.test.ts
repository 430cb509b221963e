import { expect } from "chai";
import { AuditLineRing } from "../../src/audit/line-ring.ts";

const cursors = (entries: { cursor: string }[]): string[] => entries.map((e) => e.cursor);

describe("AuditLineRing (memory audit history outside the JS heap)", () => {
  it("keeps the newest entries by count and reports the newest one pushed out", () => {
    const ring = new AuditLineRing(3, 1 << 16);
    expect(ring.evicted).to.equal("0-0");
    for (let i = 0; i < 5; i++) ring.push(100, i, `line ${i}`);
    expect(ring.size).to.equal(3);
    expect(ring.evicted).to.equal("100-1");
    expect(ring.after(0, 0, 10)).to.deep.equal([
      { cursor: "100-2", line: "line 2" },
      { cursor: "100-3", line: "line 3" },
      { cursor: "100-4", line: "line 4" },
    ]);
  });

  it("finds the entries strictly after a cursor, ordered by milliseconds then sequence, at most `count`", () => {
    const ring = new AuditLineRing(100, 1 << 16);
    for (const [ms, seq] of [[5, 0], [5, 1], [5, 2], [7, 0], [9, 0], [9, 1]] as const) ring.push(ms, seq, `${ms}/${seq}`);
    expect(cursors(ring.after(5, 1, 10))).to.deep.equal(["5-2", "7-0", "9-0", "9-1"]);
    expect(cursors(ring.after(6, 0, 10))).to.deep.equal(["7-0", "9-0", "9-1"]);
    expect(cursors(ring.after(4, 99, 2))).to.deep.equal(["5-0", "5-1"]);
    expect(ring.after(9, 1, 10)).to.deep.equal([]);
  });

  it("wraps around its bytes, pushing out only what the new line overwrites, and never returns a damaged line", () => {
    // 100 bytes: lines of 30 bytes fit three at a time.
    const ring = new AuditLineRing(1000, 100);
    const line = (i: number): string => `${String(i).padStart(3, "0")}`.padEnd(30, "x");
    for (let i = 0; i < 50; i++) {
      ring.push(1, i, line(i));
      const kept = ring.after(0, 0, 1000);
      expect(kept.length, `after ${i}`).to.be.within(1, 3);
      // What is kept is the newest lines, contiguous, each intact.
      expect(kept.map((e) => e.line)).to.deep.equal(kept.map((e) => line(Number(e.cursor.split("-")[1]))));
      expect(kept[kept.length - 1]!.cursor).to.equal(`1-${i}`);
      const oldest = Number(kept[0]!.cursor.split("-")[1]);
      if (oldest > 0) expect(ring.evicted).to.equal(`1-${oldest - 1}`);
    }
  });

  it("stores text that takes more bytes than characters (UTF-8)", () => {
    const ring = new AuditLineRing(10, 64);
    const text = "é🙂漢字-ß";
    for (let i = 0; i < 6; i++) ring.push(2, i, `${i}${text}`);
    const kept = ring.after(0, 0, 10);
    expect(kept.length).to.be.greaterThan(0);
    for (const e of kept) expect(e.line).to.equal(`${e.cursor.split("-")[1]}${text}`);
  });

  it("counts a line larger than the whole ring as pushed out at once", () => {
    const ring = new AuditLineRing(10, 16);
    ring.push(3, 0, "short");
    ring.push(3, 1, "x".repeat(17));
    expect(ring.size).to.equal(0);
    expect(ring.evicted).to.equal("3-1");
    ring.push(3, 2, "again");
    expect(ring.after(3, 1, 10)).to.deep.equal([{ cursor: "3-2", line: "again" }]);
  });
});
