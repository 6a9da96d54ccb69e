import { describe, expect, it } from 'vitest';
import { startLiveTwinServer } from '../../../../src/sim/live/server.js';
import { makeCluster } from '../../../support/live-cluster-harness.js';

// On the wall clock: 200 simulated seconds at speed 200 take one second of real time.
describe('live twin server clock', () => {
  it('the server\'s own clock runs the trace to its end and then closes by itself', async () => {
    const cluster = makeCluster({ speed: 200, seconds: 200, startWallMs: Date.now() });
    const server = await startLiveTwinServer({ cluster, port: 0 });
    const started = Date.now();
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    await Promise.race([
      server.finished,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the twin did not end by itself')), 10_000)),
    ]);
    expect(cluster.done).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
  });
});
