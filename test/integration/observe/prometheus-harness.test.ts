import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findPrometheus, freePort, startPrometheus } from '../../support/prometheus-harness.js';

const BINARY = findPrometheus();

describe.skipIf(!BINARY)('test Prometheus harness', () => {
  it('starts Prometheus on 127.0.0.1 scraping the targets, and stops it cleanly', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    // Nothing listens on the target: `up` says so within a scrape or two.
    const prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`] });
    try {
      expect(prometheus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(prometheus.dir)).toBe(true);
      const up = await prometheus.waitFor('up{job="phoebe-test"}', (v) => v.length === 1, 10_000);
      expect(up).toEqual([0]);
      await expect(prometheus.query('sum(rate(')).rejects.toThrow(/failed/);
    } finally {
      const started = Date.now();
      await prometheus.stop();
      expect(Date.now() - started).toBeLessThan(8000);
    }
    expect(prometheus.process.exitCode !== null || prometheus.process.signalCode !== null).toBe(true);
    expect(existsSync(prometheus.dir)).toBe(false);
    await prometheus.stop();
  });

  it('explains why when Prometheus cannot start', async () => {
    await expect(startPrometheus({ targets: ['127.0.0.1:1'], extraArgs: ['--no-such-flag'] })).rejects.toThrow(/exited .* before it was ready/s);
  });
});
