"use strict";
// Mocha's spec reporter, followed by one machine-readable summary line:
// "N passed, N failed" is always the last line of a test run, so CI can tell
// that tests ran and how they went.
const Mocha = require("mocha");

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      if (pending > 0) process.stdout.write(`${pending} skipped\n`);
      process.stdout.write(`${passes} passed, ${failures} failed\n`);
    });
  }
}

module.exports = SummaryReporter;
