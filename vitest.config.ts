import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-cluster test starts Flink, Kafka and Prometheus: its own run, `npm run test:flink`.
    exclude: ['dist/**', 'node_modules/**', 'test/integration/flink/**'],
    testTimeout: 60_000,
    pool: 'forks',
    // One file at a time: several tests assert wall-clock budgets (decision time, event-loop
    // blocking) and the end-to-end test asserts timing through Prometheus; on a 2-core CI
    // machine, files running side by side would measure each other.
    fileParallelism: false,
  },
});
