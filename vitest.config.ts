import { defineConfig } from 'vitest/config';

// Two projects: `unit` (no servers) and `e2e` (real Dovecot + SMTP started once per run by the
// global setup; see test/support/README.md). `npm test` runs both through scripts/test.sh.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          // The conformance suite runs the built CLI against real servers too (test/conformance/).
          include: ['test/e2e/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
