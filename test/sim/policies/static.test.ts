import { describe, expect, it } from 'vitest';
import { clairvoyantLowerBound } from '../../../src/sim/lower-bound.js';
import { staticPolicy } from '../../../src/sim/policies/static.js';
import { runPolicy } from '../../../src/sim/runner.js';
import { scenario, trace } from '../../support/fixtures.js';

describe('staticPolicy', () => {
  it('runs the whole trace at the smallest parallelism meeting both SLOs at the peak', async () => {
    const sc = scenario();
    // Peak 7,900/s needs 10 slots of 1,000/s to stay under 80 % utilisation.
    const values = Float64Array.from({ length: 2000 }, (_, t) => (t > 1000 && t < 1100 ? 7900 : 2000));
    const bound = clairvoyantLowerBound(sc, values);
    const { scores, record } = await runPolicy(sc, trace(values), staticPolicy, { seed: 1, lowerBound: bound });
    expect(new Set(record.parallelism)).toEqual(new Set([10]));
    expect(scores.rescales).toBe(0);
    expect(scores.latencySloFraction).toBe(1);
    expect(scores.costRatio).toBeGreaterThan(1);
  });
});
