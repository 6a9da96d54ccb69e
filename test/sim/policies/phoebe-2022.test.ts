import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/config/scenario.js';
import type { Forecast, Forecaster } from '../../../src/forecast/types.js';
import { JOB_STATUS_CODE, type SignalHistory } from '../../../src/observe/signals.js';
import { clairvoyantLowerBound } from '../../../src/sim/lower-bound.js';
import { bucketMeans } from '../../../src/observe/window.js';
import { phoebe2022Policy, type Phoebe2022Evaluation, type Phoebe2022Options } from '../../../src/sim/policies/phoebe-2022.js';
import {
  arrivalProfile,
  capacityAt,
  chooseParallelism,
  fitCapacityModel,
  maxBinMean,
  pickWithHysteresis,
  predictLatency,
  quietPeriodOver,
  recordsBetween,
  recoveryTime,
  shouldRescale,
} from '../../../src/sim/policies/phoebe-2022-rules.js';
import { runPolicy, scenarioArrivals } from '../../../src/sim/runner.js';
import { loadTrace } from '../../../src/sim/trace.js';
import { constant, scenario, trace } from '../../support/fixtures.js';

/** A deterministic stand-in: forecasts the last bucket it saw, and counts its calls. */
class LastValueForecaster implements Forecaster {
  calls: { fit: number; update: number; forecast: number } = { fit: 0, update: 0, forecast: 0 };
  fittedOn: number[][] = [];
  private t: number[] = [];
  private y: number[] = [];

  async fit(t: readonly number[], y: readonly number[]): Promise<void> {
    this.calls.fit++;
    this.fittedOn.push([...t]);
    this.t = [...t];
    this.y = [...y];
  }

  async update(t: readonly number[], y: readonly number[]): Promise<void> {
    this.calls.update++;
    // An update must continue the fitted grid exactly.
    const step = (this.t[1] as number) - (this.t[0] as number);
    expect(t[0]).toBe((this.t.at(-1) as number) + step);
    this.t.push(...t);
    this.y.push(...y);
  }

  async forecast(h: number): Promise<Forecast> {
    this.calls.forecast++;
    const step = (this.t[1] as number) - (this.t[0] as number);
    const last = this.y.at(-1) as number;
    const mean = new Array<number>(h).fill(last);
    return { t: mean.map((_, k) => (this.t.at(-1) as number) + step * (k + 1)), mean, lower: mean, upper: mean, level: 0.8, weights: { last: 1 } };
  }

  accuracy() {
    return { mae: null, relativeMae: null, count: 0, components: {} };
  }

  async close(): Promise<void> {}
}

function options(forecaster: Forecaster, evaluations: Phoebe2022Evaluation[] = []): Phoebe2022Options {
  return { forecaster: () => forecaster, onEvaluation: (e) => evaluations.push(e) };
}

async function runOnTwin(arrivals: number[], forecaster: Forecaster, overrides: Parameters<typeof scenario>[0] = {}) {
  const sc = scenario(overrides);
  const values = Float64Array.from(arrivals);
  const evaluations: Phoebe2022Evaluation[] = [];
  const result = await runPolicy(sc, trace(values), (ctx) => phoebe2022Policy(ctx, options(forecaster, evaluations)), {
    seed: 1,
    lowerBound: clairvoyantLowerBound(sc, values),
  });
  const start = trace(values).startTime;
  return { ...result, evaluations, evaluatedAt: evaluations.map((e) => e.now - start) };
}

describe('quiet period and cadence', () => {
  it('counts the second of the latest sample as passed', () => {
    expect(quietPeriodOver(1599, 1000, 600)).toBe(true);
    expect(quietPeriodOver(1598, 1000, 600)).toBe(false);
  });

  it('decides every 60 s and evaluates only 600 s after the start or a failure', async () => {
    // 2,100/s on 1,000/s slots: p = 5 is the smallest valid choice (at p = 4, ρ > 0.5 keeps the
    // recovery iteration from ending), so starting at 7 it never rescales (a scale-down by 2)
    // and the evaluations show the bare gate.
    const forecaster = new LastValueForecaster();
    const { evaluatedAt, decisions, evaluations } = await runOnTwin(constant(2100, 3000), forecaster, {
      twin: { initialParallelism: 7, restartDowntimeSeconds: 45 },
      failures: [1200],
    });
    expect(decisions).toEqual([]);
    // Before the failure (at 1200): seconds 599, 659, …, 1199; then nothing until 600 s after it (1799).
    const expected = [...Array.from({ length: 11 }, (_, k) => 599 + 60 * k), ...Array.from({ length: 20 }, (_, k) => 1799 + 60 * k)];
    expect(evaluatedAt).toEqual(expected);
    expect(evaluations.every((e) => e.choice?.parallelism === 5)).toBe(true);
    // The downtime estimate is the 30 s prior until the 45 s restart has been seen.
    expect(evaluations.map((e) => e.downtimeSeconds)).toEqual(expected.map((s) => (s < 1200 ? 30 : 45)));
    // Fitted on the history since the start, fed 6 new 10 s buckets a minute, refitted after the failure
    // on the buckets since it.
    expect(forecaster.calls.fit).toBe(2);
    expect(forecaster.calls.update).toBe(expected.length - 2);
    expect(forecaster.fittedOn[0]?.length).toBe(60);
    expect(forecaster.fittedOn[1]?.[0]).toBe(trace([]).startTime + 1200);
    expect(forecaster.fittedOn[1]?.length).toBe(60);
  });
});

describe('predicted throughput', () => {
  it('is the highest mean of 5 equal bins, not the highest value', () => {
    expect(maxBinMean([1, 1, 2, 2, 3, 3, 4, 4, 9, 11], 5)).toBe(10);
    expect(maxBinMean([0, 10, 0, 0, 0, 0, 0, 0, 0, 0], 5)).toBe(5);
    // 7 values: bins [0,1) [1,2) [2,4) [4,5) [5,7).
    expect(maxBinMean([1, 2, 8, 6, 3, 5, 6], 5)).toBe(7);
  });

  it('buckets the arrival rate into means on a fixed grid', () => {
    const history = historyOf([1, 2, 3, 4, 5, 6, 7], 100);
    expect(bucketMeans(history, 'arrivalRate', 101, 107, 3)).toEqual({ t: [101, 104], y: [3, 6] });
  });
});

describe('capacity model', () => {
  it('is the least-squares line through (parallelism, maximum throughput)', () => {
    const m = fitCapacityModel([
      { parallelism: 4, maxRate: 4500 },
      { parallelism: 4, maxRate: 4500 },
      { parallelism: 8, maxRate: 8400 },
      { parallelism: 8, maxRate: 8600 },
    ]);
    expect(m?.slope).toBeCloseTo(1000, 9);
    expect(m?.intercept).toBeCloseTo(500, 9);
  });

  it('is proportional through the origin with a single parallelism', () => {
    const m = fitCapacityModel([{ parallelism: 4, maxRate: 4000 }, { parallelism: 4, maxRate: 4400 }]);
    expect(m).toEqual({ intercept: 0, slope: 1050 });
    expect(fitCapacityModel([])).toBeUndefined();
  });

  it('is learned from throughput ÷ busy ratio on the twin, seeded at the initial parallelism', async () => {
    // Capacity 500 + 1,000·p, no noise; 3,000/s overloads the initial p = 2 (2,500/s), so it scales up.
    const forecaster = new LastValueForecaster();
    const { evaluations, decisions } = await runOnTwin(constant(3000, 2400), forecaster, {
      twin: { capacity: { model: 'linear', intercept: 500, perSlot: 1000 }, initialParallelism: 2 },
    });
    // First evaluation: one observation a minute at p = 2, the first one twice (the seed), each
    // TPR 2,500/s → proportional, 1,250 per slot.
    expect(evaluations[0]?.observations.length).toBe(11);
    expect(evaluations[0]?.observations.every((o) => o.parallelism === 2 && Math.abs(o.maxRate - 2500) < 1e-6)).toBe(true);
    expect(evaluations[0]?.capacity.intercept).toBe(0);
    expect(evaluations[0]?.capacity.slope).toBeCloseTo(1250, 6);
    expect(decisions[0]?.from).toBe(2);
    const to = decisions[0]?.to as number;
    expect(to).toBeGreaterThan(2);
    // After running at the new p (unsaturated, so throughput ≠ TPR), the line is the true one.
    const last = evaluations.at(-1) as Phoebe2022Evaluation;
    expect(last.capacity.slope).toBeCloseTo(1000, 6);
    expect(last.capacity.intercept).toBeCloseTo(500, 6);
    expect(capacityAt(last.capacity, to)).toBeCloseTo(500 + 1000 * to, 6);
  });
});

describe('recovery time', () => {
  // A failure at now = 10 with C = 10 and D = 5; 100 records/s everywhere; the forecast ends at 40.
  const profile = arrivalProfile(0, constant(100, 40));

  it('counts records in [from, to) clipped to the profile', () => {
    expect(recordsBetween(profile, 0, 15)).toBe(1500);
    expect(recordsBetween(profile, 37, 41)).toBe(300);
    expect(recordsBetween(profile, -5, 2)).toBe(200);
  });

  it('iterates windows until t_k < 1 s (hand-computed)', () => {
    // [0,15): 1500/200 = 7.5 → [15,23): 4 → [23,27): 2 → [27,29): 1.0 (not < 1) → [29,30): 0.5.
    const r = recoveryTime(profile, 10, 10, 5, 200);
    expect(r.steps).toEqual([7.5, 4, 2, 1, 0.5]);
    expect(r.truncated).toBe(false);
    expect(r.seconds).toBeCloseTo(5 + 15, 12);
  });

  it('stops at the forecast end, cutting the last window there', () => {
    // [0,15): 10 → [15,25): 1000/150 → [25,32): 700/150 → [32,37): 500/150 → [37,41) cut to [37,40): 2.
    const r = recoveryTime(profile, 10, 10, 5, 150);
    expect(r.steps.map((s) => Number(s.toFixed(9)))).toEqual([10, 6.666666667, 4.666666667, 3.333333333, 2]);
    expect(r.truncated).toBe(true);
    expect(r.seconds).toBeCloseTo(5 + 10 + 1000 / 150 + 700 / 150 + 500 / 150 + 2, 9);
    // With a longer forecast the same capacity never gets t_k under 1 s (2·100/150 ≥ 1): only the end stops it.
    const long = recoveryTime(arrivalProfile(0, constant(100, 400)), 10, 10, 5, 150);
    expect(long.truncated).toBe(true);
    expect(long.seconds).toBeGreaterThan(200);
  });

  it('is infinite without capacity', () => {
    expect(recoveryTime(profile, 10, 10, 5, 0).seconds).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('latency model', () => {
  it('is a / (1 − ρ), infinite at or above capacity', () => {
    expect(predictLatency(0.2, 500, 1000)).toBeCloseTo(0.4, 12);
    expect(predictLatency(0.2, 1000, 1000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('learns a from backlog-free seconds on the twin', async () => {
    const { evaluations } = await runOnTwin(constant(2000, 700), new LastValueForecaster(), { twin: { initialParallelism: 6 } });
    expect(evaluations[0]?.latencyBase).toBeCloseTo(0.2, 9);
    expect(evaluations[0]?.downtimeSeconds).toBe(30);
  });
});

describe('choice', () => {
  const slo = { recoveryTimeSeconds: 180, latencySeconds: 1 };

  it('takes the smallest p valid on both (recovery strictly under the target)', () => {
    const c = chooseParallelism([
      { parallelism: 2, recoverySeconds: 100, latencySeconds: 2 },
      { parallelism: 3, recoverySeconds: 180, latencySeconds: 0.5 },
      { parallelism: 4, recoverySeconds: 179, latencySeconds: 1 },
      { parallelism: 5, recoverySeconds: 50, latencySeconds: 0.3 },
    ], slo, 0.05);
    expect(c).toEqual({ parallelism: 4, rule: 'valid' });
  });

  it('replaces a pick only when more than 5 % better, or within 5 % and smaller', () => {
    expect(pickWithHysteresis([{ parallelism: 4, value: 100 }, { parallelism: 5, value: 96 }], 0.05)?.parallelism).toBe(4);
    expect(pickWithHysteresis([{ parallelism: 4, value: 100 }, { parallelism: 5, value: 94 }], 0.05)?.parallelism).toBe(5);
    expect(pickWithHysteresis([{ parallelism: 5, value: 100 }, { parallelism: 4, value: 104 }], 0.05)?.parallelism).toBe(4);
    expect(pickWithHysteresis([{ parallelism: 5, value: 100 }, { parallelism: 4, value: 106 }], 0.05)?.parallelism).toBe(5);
    expect(pickWithHysteresis([{ parallelism: 2, value: Infinity }, { parallelism: 3, value: 9 }], 0.05)?.parallelism).toBe(3);
  });

  it('falls back to the larger of the best-recovery and best-latency picks', () => {
    // Recovery: 400 → 300 (better) → 290 (within 5 %) → 280 (< 285: better) → pick 6.
    // Latency: 2 → 1.95 (within) → 1.93 (within) → 1.92 → pick 3.
    const candidates = [
      { parallelism: 2, recoverySeconds: Infinity, latencySeconds: Infinity },
      { parallelism: 3, recoverySeconds: 400, latencySeconds: 2 },
      { parallelism: 4, recoverySeconds: 300, latencySeconds: 1.95 },
      { parallelism: 5, recoverySeconds: 290, latencySeconds: 1.93 },
      { parallelism: 6, recoverySeconds: 280, latencySeconds: 1.92 },
      { parallelism: 7, recoverySeconds: 279, latencySeconds: 1.91 },
    ];
    expect(chooseParallelism(candidates, slo, 0.05)).toEqual({ parallelism: 6, rule: 'fallback' });
    // Make p = 7 more than 5 % better on latency than the pick (2): 1.8 < 1.9 → 7 wins overall.
    candidates[5] = { parallelism: 7, recoverySeconds: 279, latencySeconds: 1.8 };
    expect(chooseParallelism(candidates, slo, 0.05)).toEqual({ parallelism: 7, rule: 'fallback' });
    // Without hysteresis the lowest recovery time (p = 7, 279 s) would win instead of 6.
    candidates[5] = { parallelism: 7, recoverySeconds: 279, latencySeconds: 1.91 };
    expect(chooseParallelism(candidates, slo, 0)).toEqual({ parallelism: 7, rule: 'fallback' });
  });
});

describe('no scale-down by 1 or 2', () => {
  it('rescales for any scale-up and for scale-downs of at least 3', () => {
    expect(shouldRescale(10, 10, 3)).toBe(false);
    expect(shouldRescale(10, 9, 3)).toBe(false);
    expect(shouldRescale(10, 8, 3)).toBe(false);
    expect(shouldRescale(10, 7, 3)).toBe(true);
    expect(shouldRescale(10, 11, 3)).toBe(true);
  });

  it('scales down by 3 or more on the twin', async () => {
    // The same load as the cadence test: from 8 the choice 5 is a scale-down by 3.
    const { decisions } = await runOnTwin(constant(2100, 900), new LastValueForecaster(), { twin: { initialParallelism: 8 } });
    expect(decisions.map((d) => [d.second, d.from, d.to, d.outcome])).toEqual([[599, 8, 5, 'started']]);
  });
});

describe('phoebe-2022 on the cars scenario', () => {
  it('completes with sensible scores, rescaling at most once per 600 s', async () => {
    const sc = loadScenario(fileURLToPath(new URL('../../../config/scenarios/cars.yaml', import.meta.url)));
    const tr = loadTrace(sc.tracePath);
    const arrivals = scenarioArrivals(sc, tr);
    const lowerBound = clairvoyantLowerBound(sc, arrivals);
    const { scores, decisions } = await runPolicy(sc, tr, (ctx) => phoebe2022Policy(ctx, { forecaster: () => new LastValueForecaster() }), { seed: sc.seed, lowerBound });
    expect(scores.rescales).toBeGreaterThanOrEqual(1);
    expect(decisions.every((d) => d.outcome === 'started')).toBe(true);
    for (let k = 1; k < decisions.length; k++) {
      expect((decisions[k] as { second: number }).second - (decisions[k - 1] as { second: number }).second).toBeGreaterThanOrEqual(600);
    }
    for (const d of decisions) expect(d.to > d.from || d.to <= d.from - 3).toBe(true);
    expect(scores.costRatio).toBeGreaterThanOrEqual(1);
    expect(scores.meanParallelism).toBeLessThanOrEqual(sc.twin.maxParallelism);
    expect(scores.latencySloFraction).toBeGreaterThan(0.9);
  });
});

/** A RUNNING history at 1 s with the given arrival rates, starting at t0. */
function historyOf(arrivals: number[], t0: number): SignalHistory {
  const n = arrivals.length;
  const col = (v: number) => Float64Array.from({ length: n }, () => v);
  return {
    length: n,
    t: Float64Array.from({ length: n }, (_, i) => t0 + i),
    arrivalRate: Float64Array.from(arrivals),
    throughput: Float64Array.from(arrivals),
    lag: col(0),
    busyTimeMsPerSecond: col(500),
    backPressuredTimeMsPerSecond: col(0),
    latencySeconds: col(0.4),
    parallelism: col(2),
    checkpointAgeSeconds: col(1),
    numRestarts: col(0),
    status: col(JOB_STATUS_CODE.RUNNING),
  };
}
