import { defineConfig } from 'vitest/config';
import { SkipSummaryReporter } from './test/skip-summary.js';

// Two workers at most: the CI machine has 2 cores, and TF.js wasm is single-threaded per process.
// After vitest's summary, one line saying which tests were skipped and why (test/skip-summary.ts).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', new SkipSummaryReporter()],
    // A test that ends without one assertion fails: a loop that ran zero times, an assertion left
    // behind in a branch, cannot pass silently.
    expect: { requireAssertions: true },
  },
});
