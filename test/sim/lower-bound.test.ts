import { describe, expect, it } from 'vitest';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import { constant, scenario } from '../support/fixtures.js';

// Capacity μ(p) = 100·p; base latency 0.2 s and SLO 1 s allow utilisation ≤ 0.8.
const hundredPerSlot = { capacity: { model: 'linear' as const, intercept: 0, perSlot: 100 } };

describe('clairvoyantLowerBound', () => {
  it('constant load: latency decides (p = 4 keeps 250/s at 62.5 %, p = 3 would be 83 %)', () => {
    const bound = clairvoyantLowerBound(scenario({ twin: hundredPerSlot }), Float64Array.from(constant(250, 500)));
    expect([...new Set(bound.perSecond)]).toEqual([4]);
    expect(bound.meanParallelism).toBe(4);
    expect(bound.infeasibleSeconds).toBe(0);
  });

  it('constant load: recovery decides when the target is tight', () => {
    // B = 250·(10 + 30) = 10,000 records; 31 seconds to catch up (target 60 − downtime 30 + 1):
    // p = 5 gains 250/s → 7,750 < B; p = 6 gains 350/s → 10,850 ≥ B.
    const bound = clairvoyantLowerBound(scenario({ twin: hundredPerSlot, slo: { recoveryTimeSeconds: 60 } }), Float64Array.from(constant(250, 500)));
    expect([...new Set(bound.perSecond)]).toEqual([6]);
  });

  it('a step from 100/s to 300/s at t = 1000 is anticipated by exactly the recovery horizon', () => {
    const arrivals = Float64Array.from({ length: 2000 }, (_, t) => (t < 1000 ? 100 : 300));
    const bound = clairvoyantLowerBound(scenario({ twin: hundredPerSlot }), arrivals);
    // A failure at t leaves B = 4,000 records to catch up from t + 30 on. p = 2 gains 100/s only
    // before the step, so it needs t + 30 + 40 ≤ 1000; p = 3 gains 200/s before it (t ≤ 950).
    expect(bound.perSecond[930]).toBe(2);
    expect(bound.perSecond[931]).toBe(3);
    expect(bound.perSecond[950]).toBe(3);
    expect(bound.perSecond[951]).toBe(4);
    expect(bound.perSecond[1999]).toBe(4);
    expect(bound.meanParallelism).toBeCloseTo((931 * 2 + 20 * 3 + 1049 * 4) / 2000, 12);
  });

  it('an infeasible peak takes the maximum parallelism and is counted', () => {
    const arrivals = Float64Array.from({ length: 100 }, (_, t) => (t >= 40 && t < 50 ? 450 : 100));
    const bound = clairvoyantLowerBound(scenario({ twin: { ...hundredPerSlot, maxParallelism: 5 } }), arrivals);
    for (let t = 40; t < 50; t++) expect(bound.perSecond[t]).toBe(5);
    // 450/s on 500/s is 90 % utilisation: latency 2 s > 1 s at every p in range.
    expect(bound.infeasibleSeconds).toBeGreaterThanOrEqual(10);
    expect(bound.perSecond[99]).toBe(2);
  });

  it('USL capacity: past the peak of the curve more slots do not help', () => {
    // μ(p) = 100p / (1 + 0.1(p−1) + 0.01p(p−1)) peaks at p = 9..10 with 357/s.
    const usl = { capacity: { model: 'usl' as const, lambda1: 100, sigma: 0.1, kappa: 0.01 }, maxParallelism: 20 };
    // 150/s needs μ ≥ 187.5 for latency: μ(2) ≈ 178.6 is short, μ(3) ≈ 238.1 suffices.
    expect(clairvoyantLowerBound(scenario({ twin: usl }), Float64Array.from(constant(150, 300))).perSecond[100]).toBe(3);
    // 290/s needs μ ≥ 362.5, above the curve's peak: no parallelism qualifies.
    const past = clairvoyantLowerBound(scenario({ twin: usl }), Float64Array.from(constant(290, 300)));
    expect(past.infeasibleSeconds).toBe(300);
    expect(past.meanParallelism).toBe(20);
  });
});
