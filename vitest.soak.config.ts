import { defineConfig } from 'vitest/config';

/**
 * The soak test (`npm run test:soak`): six minutes of the live twin at speed 60 with a real
 * Prometheus that is stopped and started again, and `phoebe run` acting in flink-rest mode.
 * Its files end in .soak.ts, so the default `npm test` (test/**\/*.test.ts) does not run it.
 */
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 15 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
