import { describe, expect, it } from 'vitest';
import { clairvoyantSchedule, scheduledPolicy } from '../../src/sim/clairvoyant-schedule.js';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import { runPolicy } from '../../src/sim/runner.js';
import { constant, scenario, trace } from '../support/fixtures.js';

// μ(p) = 100·p; utilisation ≤ 0.8 keeps the 1 s latency SLO at 0.2 s base latency.
const hundredPerSlot = { capacity: { model: 'linear' as const, intercept: 0, perSlot: 100 } };

describe('clairvoyantSchedule', () => {
  it('constant load without noise: the lower bound, reached with one rescale from the initial p', () => {
    const s = scenario({ twin: { ...hundredPerSlot, initialParallelism: 10 } });
    const arrivals = Float64Array.from(constant(250, 3000));
    const schedule = clairvoyantSchedule(s, arrivals, { bucketSeconds: 30, maxRescales: 4, violationPrice: 100 });
    expect(new Set(schedule.perBucket)).toEqual(new Set([4]));
    expect(schedule.changes).toBe(1);
    expect(schedule.expectedNoiseViolations).toBe(0);
  });

  it('keeps the initial parallelism when no rescale is allowed', () => {
    const s = scenario({ twin: { ...hundredPerSlot, initialParallelism: 7 } });
    const schedule = clairvoyantSchedule(s, Float64Array.from(constant(250, 600)), { bucketSeconds: 30, maxRescales: 0, violationPrice: 100 });
    expect(new Set(schedule.perBucket)).toEqual(new Set([7]));
    expect(schedule.changes).toBe(0);
  });

  it('a step up is met by one scale-up in time, and the twin replay meets both SLOs', async () => {
    // 100/s then 300/s from t = 1800: p* rises from 2 to 4 ahead of the step (recovery horizon).
    const s = scenario({ twin: { ...hundredPerSlot, initialParallelism: 2 }, failures: [600, 2400] });
    const arrivals = Float64Array.from({ length: 3600 }, (_, t) => (t < 1800 ? 100 : 300));
    const schedule = clairvoyantSchedule(s, arrivals, { bucketSeconds: 30, maxRescales: 4, violationPrice: 100 });
    expect(schedule.changes).toBe(1);
    const bound = clairvoyantLowerBound(s, arrivals);
    for (let b = 0; b < schedule.perBucket.length; b++) {
      for (let t = b * 30; t < (b + 1) * 30; t++) expect(schedule.perBucket[b]).toBeGreaterThanOrEqual(bound.perSecond[t] as number);
    }
    const run = await runPolicy(s, trace(arrivals), () => scheduledPolicy(schedule, s.twin.rescaleDowntimeSeconds), { seed: 1, lowerBound: bound });
    expect(run.scores.rescales).toBe(1);
    expect(run.scores.rescalesRejected).toBe(0);
    expect(run.scores.recoveredWithinTarget).toBe(2);
    // Only the 10 s of downtime and the catch-up behind it miss the latency SLO.
    expect(run.scores.latencySloFraction).toBeGreaterThan(0.99);
    // The scale-up was requested one downtime before its bucket: p = 4 runs from the bucket's start.
    const up = schedule.perBucket.findIndex((p) => p === 4);
    expect(run.record.parallelism[up * 30]).toBe(4);
    expect(run.record.parallelism[up * 30 - 11]).toBe(2);
  });

  it('a dearer violation buys headroom: more parallelism, fewer expected violations', () => {
    const s = scenario({ twin: { ...hundredPerSlot, noise: { capacity: 0.05 }, initialParallelism: 4 } });
    const arrivals = Float64Array.from(constant(300, 1800));
    const cheap = clairvoyantSchedule(s, arrivals, { bucketSeconds: 30, maxRescales: 2, violationPrice: 1 });
    const dear = clairvoyantSchedule(s, arrivals, { bucketSeconds: 30, maxRescales: 2, violationPrice: 1000 });
    // 300/s on p = 4 is 75 % of capacity: 4 is enough on average, not against a 5 % noise.
    expect(new Set(cheap.perBucket)).toEqual(new Set([4]));
    expect(Math.min(...dear.perBucket)).toBeGreaterThan(4);
    expect(dear.expectedNoiseViolations).toBeLessThan(cheap.expectedNoiseViolations / 100);
  });

  it('refuses when the allowed rescales cannot meet the recovery target', () => {
    const s = scenario({ twin: { ...hundredPerSlot, initialParallelism: 2 } });
    expect(() => clairvoyantSchedule(s, Float64Array.from(constant(300, 600)), { bucketSeconds: 30, maxRescales: 0, violationPrice: 100 }))
      .toThrow(/recovery target/);
  });
});
