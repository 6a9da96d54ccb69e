import { defineConfig } from 'vitest/config';

/**
 * The real-cluster test (`npm run test:flink`): a real Flink, Kafka and Prometheus started by
 * the test (test/support/real-cluster/). Minutes per Flink line; one file at a time, on a
 * 2-core machine nothing else should run beside it.
 */
export default defineConfig({
  test: {
    include: ['test/integration/flink/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
