import { expect } from "chai";
import { DecisionRate } from "../../../src/server/http/console/decision-rate.ts";
import { rateChart } from "../../../src/server/http/console/health-view.ts";

describe("console: decisions per second", () => {
  it("turns samples of a running total into per-second rates, keeping the last `points`", () => {
    let now = 0;
    let total = 0;
    const rate = new DecisionRate({ total: () => total, now: () => now, intervalMs: 5000, points: 3 });
    for (const added of [10, 0, 25, 50]) {
      now += 5000;
      total += added;
      rate.sample();
    }
    expect(rate.series().map((p) => p.perSecond)).to.deep.equal([0, 5, 10]);
    expect(rate.series().map((p) => p.time)).to.deep.equal([10_000, 15_000, 20_000]);
  });

  it("draws the series as an inline SVG polyline, scaled to its highest point, and says when it has too few", () => {
    expect(rateChart([], 5000).toString()).to.include("Collecting samples (one every 5 s)");
    const svg = rateChart(
      [
        { time: 0, perSecond: 0 },
        { time: 5000, perSecond: 4 },
        { time: 10_000, perSecond: 2 },
      ],
      5000,
    ).toString();
    expect(svg).to.match(/^<svg class="chart"/);
    expect(svg).to.include('points="24.0,156.0 450.0,24.0 876.0,90.0"');
    expect(svg).to.include("now 2.0/s");
    expect(svg).not.to.include("style=");
  });
});
