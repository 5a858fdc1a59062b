import { defineConfig } from 'vitest/config';

// Two workers at most: the CI machine has 2 cores, and TF.js wasm is single-threaded per process.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
