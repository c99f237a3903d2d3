import { defineConfig } from 'vitest/config';

// Two projects:
//  - unit: pure code and fixtures, no external process.
//  - integration: the real stack (KWOK cluster, Jaeger, Kafka, Chromium), started once per run by
//    test/setup/stack.ts and stopped at teardown, also when a test fails. Files run one at a time
//    because they share the cluster and the audit webhook port.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
          // a few files replay recorded scenarios through the CLI before their tests: on a loaded
          // 2-core machine that took longer than vitest's default 10 s for hooks
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/stack.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
