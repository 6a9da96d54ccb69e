import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Tests that start real processes or servers: a real Prometheus, the live twin's HTTP server,
 * Chromium, helm, promtool, openssl, the built CLI, a second phoebe. They run one file at a time,
 * after the unit tests, so that what they time (waits on Prometheus, a twin's clock) is not
 * slowed by other files.
 */
const E2E = ['test/e2e/**/*.test.ts'];
const INTEGRATION = [
  'test/integration/**/*.test.ts',
  'test/faults/**/*.test.ts',
];

// The real-cluster test starts Flink, Kafka and Prometheus: its own run, `npm run test:flink`.
const NEVER = ['dist/**', 'node_modules/**', 'test/integration/flink/**'];

/** A project whose files run one after the other in one worker, after the unit tests. */
function oneFileAtATime(name: string, include: string[]) {
  return {
    extends: true,
    test: { name, include, exclude: NEVER, sequence: { groupOrder: 1 }, poolOptions: { forks: { maxForks: 1, minForks: 1 } } },
  };
}

export default defineConfig({
  test: {
    exclude: NEVER,
    testTimeout: 60_000,
    pool: 'forks',
    // Unit test files run side by side, one per core. Vitest's default keeps a core free, which on
    // a two-core machine would mean one file at a time.
    maxWorkers: availableParallelism(),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Everything else: pure tests on plain data, fakes and a fake clock. They must not depend
          // on wall-clock timing, since other files share the cores.
          include: ['test/**/*.test.ts'],
          exclude: [...NEVER, ...INTEGRATION, ...E2E],
          sequence: { groupOrder: 0 },
        },
      },
      // Started once the unit tests are done (group order): the integration files one after the
      // other, and beside them, on the other core, the end-to-end run, which spends its two minutes
      // mostly waiting for a compressed scenario's ramp (its checks are relative to the twins' own
      // clocks, which keep their pace on a busy machine).
      oneFileAtATime('integration', INTEGRATION),
      oneFileAtATime('e2e', E2E),
    ],
  },
});
