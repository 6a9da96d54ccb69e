import { describe, expect, it } from 'vitest';
import { recoveryTime, scoreRun } from '../../src/sim/scores.js';
import { Twin } from '../../src/sim/twin.js';
import { constant, scenario } from '../support/fixtures.js';

function simulate(sc: ReturnType<typeof scenario>, arrivals: number[]): Twin {
  const twin = new Twin(sc, Float64Array.from(arrivals), { seed: 1 });
  while (!twin.done) twin.step();
  return twin;
}

describe('scores', () => {
  it('recovery time runs from the failure to the first second the lag is back to normal', () => {
    // Failure at 57 (7 s lost), 30 s down, then 5,000/s of catch-up: the lag is down to one
    // second of arrivals (5,000) in second 122.
    const twin = simulate(scenario({ failures: [57] }), constant(5000, 300));
    expect(twin.record.lag[121]).toBeGreaterThan(5000);
    expect(recoveryTime(twin.record, 57)).toBe(122 - 57);
  });

  it('recovery is null when the lag never comes back', () => {
    // 9,800/s on 10,000/s capacity: 40 s of backlog takes ~1,000 s, longer than the run.
    const twin = simulate(scenario({ failures: [57] }), constant(9800, 400));
    expect(recoveryTime(twin.record, 57)).toBeNull();
  });

  it('scores a run: cost, recoveries against the target, latency outside failure windows', () => {
    const sc = scenario({ failures: [57], slo: { recoveryTimeSeconds: 60 } });
    const twin = simulate(sc, constant(5000, 300));
    const scores = scoreRun({
      scenario: sc, policy: 'p', seed: 1, record: twin.record, lowerBoundMeanParallelism: 4,
      rescales: 0, rescalesRejected: 0, decisionMillis: [1, 2, 3, 4, 100],
    });
    expect(scores.meanParallelism).toBe(10);
    expect(scores.costRatio).toBe(2.5);
    expect(scores.recoveryTimesSeconds).toEqual([65]);
    expect(scores.recoveredWithinTarget).toBe(0);
    // Seconds 57..117 (target 60 < recovery 65) are excluded; 118..122 still carry backlog:
    // latency 0.4 + lag/10,000 s exceeds 1 s while the lag is above 6,000 records.
    let late = 0;
    for (let s = 118; s < 300; s++) if ((twin.record.latencySeconds[s] as number) > 1) late++;
    expect(late).toBeGreaterThan(0);
    expect(scores.latencySloFraction).toBeCloseTo(1 - late / (300 - 61), 12);
    expect(scores.decisionMillis.p50).toBe(3);
    expect(scores.decisionMillis.p95).toBeCloseTo(80.8, 9);
  });
});
