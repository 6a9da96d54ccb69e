import { describe, expect, it } from 'vitest';
import type { Forecast, ForecastAccuracy, Forecaster } from '../../src/forecast/types.js';
import { DecisionPipeline, DEFAULT_PIPELINE, type PipelineConfig, type PipelineOutcome } from '../../src/loop/decision-pipeline.js';
import { DEFAULT_PLANNER } from '../../src/planner/planner.js';
import type { Signals } from '../../src/observe/signals.js';
import { Twin } from '../../src/sim/twin.js';
import { constant, scenario } from '../support/fixtures.js';

/** Forecasts the last value it was given, flat; upper = 1.2 × that. Counts every call. */
class FlatForecaster implements Forecaster {
  readonly fits: { t: number[]; y: number[] }[] = [];
  readonly updates: { t: number[]; y: number[] }[] = [];
  readonly horizons: number[] = [];
  closed = 0;
  private lastT = 0;
  private last = 0;

  constructor(private readonly failWith?: 'throw' | 'nan') {}

  async fit(t: readonly number[], y: readonly number[]): Promise<void> {
    this.fits.push({ t: [...t], y: [...y] });
    if (this.failWith === 'throw') throw new Error('fit failed');
    this.lastT = t[t.length - 1] ?? 0;
    this.last = y[y.length - 1] ?? 0;
  }

  async update(t: readonly number[], y: readonly number[]): Promise<void> {
    this.updates.push({ t: [...t], y: [...y] });
    this.lastT = t[t.length - 1] ?? this.lastT;
    this.last = y[y.length - 1] ?? this.last;
  }

  async forecast(h: number): Promise<Forecast> {
    this.horizons.push(h);
    const v = this.failWith === 'nan' ? Number.NaN : this.last;
    return {
      t: Array.from({ length: h }, (_, k) => this.lastT + 30 * (k + 1)),
      mean: new Array<number>(h).fill(v),
      lower: new Array<number>(h).fill(v * 0.8),
      upper: new Array<number>(h).fill(v * 1.2),
      level: 0.9,
      weights: { flat: 1 },
    };
  }

  accuracy(): ForecastAccuracy {
    return { mae: null, relativeMae: null, count: 0, components: {} };
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function pipelineConfig(over: Partial<PipelineConfig> = {}): PipelineConfig {
  return {
    ...DEFAULT_PIPELINE,
    bucketSeconds: 30,
    horizonSteps: 20,
    planner: { ...DEFAULT_PLANNER, minParallelism: 2, maxParallelism: 24, slo: { latencySeconds: 1, recoveryTimeSeconds: 180 } },
    priors: { checkpointIntervalSeconds: 10, restartDowntimeSeconds: 30, rescaleDowntimeSeconds: 10 },
    ...over,
  };
}

/**
 * Steps the twin second by second and asks the pipeline every `every` seconds (after the step
 * that completes the interval, as the runner does). The twin's parallelism is never changed.
 */
async function drive(twin: Twin, pipeline: DecisionPipeline, every = 30): Promise<PipelineOutcome[]> {
  const outcomes: PipelineOutcome[] = [];
  while (!twin.done) {
    twin.step();
    if (twin.elapsed % every === 0) outcomes.push(await decide(pipeline, twin.signals()));
  }
  return outcomes;
}

/** A decision at the newest sample's time, with no rescale made. */
function decide(pipeline: DecisionPipeline, signals: Signals): Promise<PipelineOutcome> {
  return pipeline.decide(signals, [], signals.latest.t);
}

const ramp = (seconds: number): number[] => Array.from({ length: seconds }, (_, s) => 3000 + s);

describe('DecisionPipeline', () => {
  it("is 'waiting' while the job is not RUNNING", async () => {
    const pipeline = new DecisionPipeline(pipelineConfig(), new FlatForecaster());
    const restarting = new Twin(scenario({ failures: [0] }), Float64Array.from(constant(6000, 10)), { seed: 1 });
    restarting.step();
    expect(await decide(pipeline, restarting.signals())).toEqual({ kind: 'waiting', reason: 'job is RESTARTING' });

    const rescaling = new Twin(scenario(), Float64Array.from(constant(6000, 100)), { seed: 1 });
    for (let s = 0; s < 50; s++) rescaling.step();
    rescaling.requestRescale(12);
    rescaling.step();
    expect(await decide(pipeline, rescaling.signals())).toEqual({ kind: 'waiting', reason: 'job is RESCALING' });
  });

  it("is 'waiting' until 5 capacity samples are seen, then decides on the persistence forecast", async () => {
    const forecaster = new FlatForecaster();
    const pipeline = new DecisionPipeline(pipelineConfig(), forecaster);
    const twin = new Twin(scenario(), Float64Array.from(constant(6000, 100)), { seed: 1 });
    for (let s = 0; s < 4; s++) twin.step();
    expect(await decide(pipeline, twin.signals())).toEqual({ kind: 'waiting', reason: 'no capacity observation yet' });
    twin.step();
    const outcome = await decide(pipeline, twin.signals());
    expect(outcome.kind).toBe('decision');
    if (outcome.kind !== 'decision') return;
    expect(outcome.forecastSource).toBe('persistence (warming up)');
    // No complete 30-s bucket yet: the latest rate, flat, with 10 % headroom.
    expect(outcome.forecast.stepSeconds).toBe(30);
    expect(outcome.forecast.mean).toEqual(new Array(20).fill(6000));
    expect(Array.from(outcome.forecast.upper, (u) => u.toFixed(6))).toEqual(new Array(20).fill('6600.000000'));
    expect(outcome.decision.currentParallelism).toBe(10);
    expect(outcome.decision.requiredPerStep).toHaveLength(20);
    expect(forecaster.fits.length + forecaster.updates.length + forecaster.horizons.length).toBe(0);
  });

  it("never decides on a job that shows no usable capacity sample (busy < 50 ms)", async () => {
    const pipeline = new DecisionPipeline(pipelineConfig(), new FlatForecaster());
    const twin = new Twin(scenario(), Float64Array.from(constant(400, 120)), { seed: 1 });
    const outcomes = await drive(twin, pipeline);
    expect(outcomes.every((o) => o.kind === 'waiting' && o.reason === 'no capacity observation yet')).toBe(true);
  });

  it('feeds the forecaster 30-s bucket means, from the 20th complete bucket on', async () => {
    const forecaster = new FlatForecaster();
    const pipeline = new DecisionPipeline(pipelineConfig(), forecaster);
    const twin = new Twin(scenario(), Float64Array.from(ramp(660)), { seed: 1, startTime: 0 });
    const outcomes = await drive(twin, pipeline);
    // Decisions at 30, 60, … 570 s warm up on persistence; at 600 s (20 buckets) it fits.
    expect(outcomes.slice(0, 19).map((o) => o.kind === 'decision' && o.forecastSource)).toEqual(new Array(19).fill('persistence (warming up)'));
    expect(forecaster.fits).toHaveLength(1);
    const fit = forecaster.fits[0]!;
    expect(fit.t).toEqual(Array.from({ length: 20 }, (_, k) => 30 * k));
    // Mean of 3000 + s over s = 30k … 30k + 29.
    expect(fit.y).toEqual(Array.from({ length: 20 }, (_, k) => 3000 + 30 * k + 14.5));
    // Decisions at 630 and 660 s each hand over the one bucket completed since.
    expect(forecaster.updates).toEqual([{ t: [600], y: [3614.5] }, { t: [630], y: [3644.5] }]);
    const last = outcomes[outcomes.length - 1]!;
    expect(last.kind === 'decision' && last.forecastSource).toBe('forecaster');
    if (last.kind !== 'decision') return;
    // Uncalibrated: the forecaster's own mean and upper bound, flat at the newest bucket.
    expect(last.forecast.mean).toEqual(new Array(20).fill(3644.5));
    expect(last.forecast.upper[0]).toBeCloseTo(3644.5 * 1.2, 9);
    expect(forecaster.horizons).toEqual([20, 20, 20]);
  });

  it('aligns buckets to the 30-s clock, so the first one may be partial', async () => {
    const forecaster = new FlatForecaster();
    const pipeline = new DecisionPipeline(pipelineConfig(), forecaster);
    // 1_700_000_000 is 20 s past a multiple of 30: the first bucket holds only 10 seconds.
    const twin = new Twin(scenario(), Float64Array.from(ramp(610)), { seed: 1, startTime: 1_700_000_000 });
    await drive(twin, pipeline, 10);
    const fit = forecaster.fits[0]!;
    expect(fit.t[0]).toBe(1_699_999_980);
    expect(fit.t[1]).toBe(1_700_000_010);
    expect(fit.y[0]).toBeCloseTo(3004.5, 9); // mean of 3000 … 3009
    expect(fit.y[1]).toBeCloseTo(3010 + 14.5, 9);
  });

  it('refits only every refitSeconds and updates in between', async () => {
    const forecaster = new FlatForecaster();
    const pipeline = new DecisionPipeline(pipelineConfig({ refitSeconds: 1800 }), forecaster);
    const twin = new Twin(scenario(), Float64Array.from(constant(6000, 3600)), { seed: 1, startTime: 0 });
    const outcomes = await drive(twin, pipeline);
    expect(outcomes).toHaveLength(120);
    // Fit at 600 s (latest t = 599); refit once 1800 s later, at 2400 s (t = 2399); update at
    // every other decision with the one bucket completed since.
    expect(forecaster.fits.map((f) => f.t.length)).toEqual([20, 80]);
    expect(forecaster.updates).toHaveLength(120 - 19 - 2);
    expect(forecaster.updates.every((u) => u.t.length === 1)).toBe(true);
    expect(forecaster.updates[0]!.t).toEqual([600]);
    expect(forecaster.horizons).toHaveLength(120 - 19);
    await pipeline.close();
    expect(forecaster.closed).toBe(1);
  });

  it('fits on at most fitWindowSeconds of buckets', async () => {
    const forecaster = new FlatForecaster();
    const pipeline = new DecisionPipeline(pipelineConfig({ refitSeconds: 600, fitWindowSeconds: 900 }), forecaster);
    const twin = new Twin(scenario(), Float64Array.from(constant(6000, 1800)), { seed: 1, startTime: 0 });
    await drive(twin, pipeline);
    // Fits at 600 s (20 buckets) and 1200 s (40 buckets, window 30); 1800 s is the 60th.
    expect(forecaster.fits.map((f) => f.t.length)).toEqual([20, 30, 30]);
    expect(forecaster.fits[1]!.t[0]).toBe(1200 - 900);
  });

  it('still decides when the forecaster throws, on the recent peak held flat, and refits next time', async () => {
    const forecaster = new FlatForecaster('throw');
    const pipeline = new DecisionPipeline(pipelineConfig(), forecaster);
    const arrivals = [...constant(6000, 600), ...constant(5000, 90)];
    const twin = new Twin(scenario(), Float64Array.from(arrivals), { seed: 1, startTime: 0 });
    const outcomes = await drive(twin, pipeline);
    const failed = outcomes.slice(19);
    expect(failed).toHaveLength(4);
    for (const o of failed) {
      expect(o.kind).toBe('decision');
      if (o.kind !== 'decision') continue;
      expect(o.forecastSource).toBe('persistence (forecaster failed)');
      // The peak of the last 10 buckets (6000) beats the latest 5000/s.
      expect(o.forecast.mean).toEqual(new Array(20).fill(6000));
      expect(Array.from(o.forecast.upper, (u) => u.toFixed(6))).toEqual(new Array(20).fill('6600.000000'));
      expect(['hold', 'scale-up', 'scale-down']).toContain(o.decision.action);
    }
    // A failure forgets the fit: every later decision refits instead of updating.
    expect(forecaster.fits).toHaveLength(4);
    expect(forecaster.updates).toHaveLength(0);
  });

  it('falls back to persistence on a non-finite forecast', async () => {
    const forecaster = new FlatForecaster('nan');
    const pipeline = new DecisionPipeline(pipelineConfig(), forecaster);
    const twin = new Twin(scenario(), Float64Array.from(constant(6000, 630)), { seed: 1, startTime: 0 });
    const outcomes = await drive(twin, pipeline);
    const last = outcomes[outcomes.length - 1]!;
    expect(last.kind === 'decision' && last.forecastSource).toBe('persistence (forecaster failed)');
    expect(forecaster.fits).toHaveLength(2);
  });

  it('prices the error budget from the history and plans with it', async () => {
    const pipeline = new DecisionPipeline(pipelineConfig(), new FlatForecaster());
    const twin = new Twin(scenario(), Float64Array.from(constant(6000, 900)), { seed: 1, startTime: 0 });
    const outcomes = await drive(twin, pipeline);
    const last = outcomes[outcomes.length - 1]!;
    if (last.kind !== 'decision') throw new Error('expected a decision');
    // 900 clean seconds of 1800: spend 0.25 → 120 · 2^(−1) = 60.
    expect(last.budget.violations).toBe(0);
    expect(last.budget.price).toBeCloseTo(60, 6);
    expect(last.decision.inputs.violationPrice).toBeCloseTo(60, 6);
    expect(last.decision.inputs.time).toBe(899);
  });
});
