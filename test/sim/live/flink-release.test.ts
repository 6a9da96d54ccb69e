import { describe, expect, it } from 'vitest';
import { jobDetails } from '../../../src/sim/live/flink-rest-routes.js';
import { advanceToSecond, makeCluster } from '../../support/live-cluster-harness.js';

describe('live twin Flink release', () => {
  it('GET /jobs/:jobid names the scheduler as Flink 2.x does (the default), not as 1.20 does', () => {
    for (const scheduler of ['default', 'adaptive'] as const) {
      const v2 = makeCluster({ scheduler });
      const v120 = makeCluster({ scheduler, flinkVersion: '1.20' });
      expect(v2.flinkVersion).toBe('2');
      advanceToSecond(v2, 5);
      advanceToSecond(v120, 5);
      expect(jobDetails(v2, v2.currentJob).schedulerType).toBe(scheduler === 'adaptive' ? 'Adaptive' : 'Default');
      const details = jobDetails(v120, v120.currentJob);
      expect(details).not.toHaveProperty('schedulerType');
      // Otherwise the same shape.
      expect(Object.keys(details).sort()).toEqual(Object.keys(jobDetails(v2, v2.currentJob)).filter((k) => k !== 'schedulerType').sort());
    }
  });
});
