import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    allowOnly: false,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Lifecycle tests start servers and child processes; two files at a time suits 2 cores.
    maxWorkers: 2,
  },
});
