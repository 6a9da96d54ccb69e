import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    pool: 'forks',
    // One file at a time: several tests assert wall-clock budgets (decision time, event-loop
    // blocking) and the end-to-end test asserts timing through Prometheus; on a 2-core CI
    // machine, files running side by side would measure each other.
    fileParallelism: false,
  },
});
