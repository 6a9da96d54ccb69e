import { describe, expect, it } from 'vitest';
import { clairvoyantLowerBound } from '../../../src/sim/lower-bound.js';
import { evaluateFlinkAutoscaler, flinkAutoscalerPolicy } from '../../../src/sim/policies/flink-autoscaler.js';
import { runPolicy } from '../../../src/sim/runner.js';
import { constant, scenario, trace } from '../../support/fixtures.js';

const bounds = { minParallelism: 2, maxParallelism: 24 };

describe('evaluateFlinkAutoscaler (the operator rule)', () => {
  it('scales up when the true processing rate is below the target rate', () => {
    // r̄ 700/s at 100 % busy: TPR 700/s. The lag grows by 100/s, so R = 800/s.
    const e = evaluateFlinkAutoscaler({ inputRate: 700, busyRatio: 1, lagSlope: 100, lag: 0, parallelism: 7 }, bounds);
    expect(e.trueProcessingRate).toBe(700);
    expect(e.targetRate).toBe(800);
    expect(e.verdict).toBe('up');
    // required = 800/0.7 + 0 + 800·300/1800 = 1276.2/s → ceil(7 · 1276.2/700) = 13.
    expect(e.required).toBeCloseTo(800 / 0.7 + 800 / 6, 9);
    expect(e.parallelism).toBe(13);
  });

  it('includes backlog catch-up (lag ÷ catch-up duration) in the thresholds and the target', () => {
    // 900,000 records of lag add 500/s to both the scale-up threshold and the requirement.
    const e = evaluateFlinkAutoscaler({ inputRate: 1000, busyRatio: 0.8, lagSlope: 0, lag: 900_000, parallelism: 4 }, bounds);
    expect(e.scaleUpThreshold).toBe(1500);
    expect(e.trueProcessingRate).toBe(1250);
    expect(e.verdict).toBe('up');
    expect(e.parallelism).toBe(Math.ceil((4 * (1000 / 0.7 + 500 + 1000 / 6)) / 1250));
  });

  it('scales down outside the band, at most by the scale-down max factor', () => {
    // 10 % busy: TPR 1000/s for R = 100/s; the rule wants 16 % of p but may only go to 40 %.
    const e = evaluateFlinkAutoscaler({ inputRate: 100, busyRatio: 0.1, lagSlope: 0, lag: 0, parallelism: 10 }, bounds);
    expect(e.scaleDownThreshold).toBeCloseTo(100 / 0.4 + 100 / 6, 9);
    expect(e.verdict).toBe('down');
    expect(e.parallelism).toBe(4);
  });

  it('stays put inside the band', () => {
    const e = evaluateFlinkAutoscaler({ inputRate: 600, busyRatio: 0.6, lagSlope: 0, lag: 0, parallelism: 10 }, bounds);
    expect(e.verdict).toBe('in-band');
  });

  it('never scales down while processing a backlog above the lag threshold', () => {
    // 5 min of target rate is 30,000 records; 40,000 is a backlog: the band is [0, 1].
    const e = evaluateFlinkAutoscaler({ inputRate: 100, busyRatio: 0.1, lagSlope: 0, lag: 40_000, parallelism: 10 }, bounds);
    expect(e.scaleDownThreshold).toBe(Number.POSITIVE_INFINITY);
    expect(e.verdict).toBe('in-band');
  });
});

describe('flinkAutoscalerPolicy on crafted traces', () => {
  async function run(arrivals: number[], twin: NonNullable<Parameters<typeof scenario>[0]>['twin'] = {}) {
    const sc = scenario({ twin: { noise: { capacity: 0 }, ...twin } });
    const values = Float64Array.from(arrivals);
    return runPolicy(sc, trace(values), (ctx) => flinkAutoscalerPolicy(ctx), { seed: 1, lowerBound: clairvoyantLowerBound(sc, values) });
  }

  it('waits for a full metrics window, then scales up at once', async () => {
    // 3,000/s on 2 slots of 1,000/s: the lag grows by 1,000/s from the start.
    const { decisions } = await run(constant(3000, 1200), { initialParallelism: 2 });
    expect(decisions[0]?.second).toBe(899);
    expect(decisions[0]?.from).toBe(2);
    // R = 2,000 + 1,000 = 3,000/s; lag ≈ 900,000 → required ≈ 4,286 + 500 + 500 → ceil(2 · 5,286/2,000) = 6.
    expect(decisions[0]?.to).toBe(6);
  });

  it('defers a scale-down for the scale-down interval and never rescales inside the stabilisation time', async () => {
    // 1,000/s on 10 slots: 10 % busy. First recommendation at 15 min; applied 1 h later.
    const { decisions } = await run(constant(1000, 6000));
    expect(decisions.length).toBeGreaterThanOrEqual(1);
    expect(decisions[0]?.second).toBe(899 + 3600);
    expect(decisions[0]?.to).toBe(4);
    for (let k = 1; k < decisions.length; k++) {
      expect((decisions[k] as { second: number }).second - (decisions[k - 1] as { second: number }).second).toBeGreaterThanOrEqual(15 * 60);
    }
  });

  it('a scale-up cancels a pending scale-down window', async () => {
    // Low load opens a scale-down window at 15 min; a surge at 30 min cancels it with a scale-up.
    const arrivals = [...constant(1000, 1800), ...constant(14_000, 1200)];
    const { decisions } = await run(arrivals);
    expect(decisions[0]?.to).toBeGreaterThan(10);
    expect(decisions[0]?.second).toBeGreaterThan(1800);
    expect(decisions[0]?.second).toBeLessThan(899 + 3600);
  });
});
