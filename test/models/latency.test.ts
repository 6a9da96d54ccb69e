import { describe, expect, it } from 'vitest';
import { LatencyLearner, maxUtilisationFor, predictLatency } from '../../src/models/latency.js';
import { JOB_STATUS_CODE } from '../../src/observe/signals.js';
import { constant, scenario } from '../support/fixtures.js';
import { history, runTwin, slice } from '../support/twin-history.js';

/** A load between 20 % and 90 % of μ(10) = 10000, with an overload burst that builds a backlog. */
function varied(seconds: number): number[] {
  return Array.from({ length: seconds }, (_, t) => (t >= 400 && t < 420 ? 14000 : 5500 + 3500 * Math.sin((2 * Math.PI * t) / 300)));
}

describe('LatencyLearner on twin data', () => {
  it('finds a ≈ 0 and b ≈ baseLatencySeconds (latency = base/(1−ρ) + lag/μ)', () => {
    // 0.35 s, not the learner's default prior of 0.2, so the fit must come from the data.
    const sc = scenario({ twin: { baseLatencySeconds: 0.35, noise: { capacity: 0.03 } } });
    const twin = runTwin(sc, varied(900), { seed: 5 });
    expect(Math.max(...twin.record.lag)).toBeGreaterThan(10000); // backlog seconds are in the data
    const learner = new LatencyLearner();
    learner.observe(twin.signals().history);
    const model = learner.model();
    expect(model.samples).toBe(900);
    expect(model.a).toBeCloseTo(0, 6);
    expect(model.b).toBeCloseTo(0.35, 6);
    expect(model.rmse).toBeLessThan(1e-6);
  });

  it('with a single utilisation level attributes the latency to queueing (a = 0)', () => {
    // ρ = 0.6 throughout: latency 0.2 / 0.4 = 0.5 s = b · 1/(1 − ρ) with b = 0.2.
    const learner = new LatencyLearner({ a: 0.1, b: 0.9 });
    learner.observe(runTwin(scenario(), constant(6000, 60)).signals().history);
    const model = learner.model();
    expect(model.a).toBe(0);
    expect(model.b).toBeCloseTo(0.2, 9);
  });

  it('recovers a positive fixed term from hand-made data', () => {
    // latency = 0.3 + 0.1/(1 − ρ) + lag/μ, at ρ = 0.2 … 0.8 and some backlog.
    const rho = (i: number): number => 0.2 + 0.6 * ((i % 7) / 6);
    const h = history(70, {
      busyTimeMsPerSecond: (i) => 1000 * rho(i), // TPR = throughput / busy ratio = 10000
      throughput: (i) => 10000 * rho(i),
      arrivalRate: (i) => 10000 * rho(i),
      lag: (i) => 100 * i,
      latencySeconds: (i) => 0.3 + 0.1 / (1 - rho(i)) + (100 * i) / 10000,
      parallelism: () => 10,
    });
    const learner = new LatencyLearner();
    learner.observe(h);
    const model = learner.model();
    expect(model.a).toBeCloseTo(0.3, 9);
    expect(model.b).toBeCloseTo(0.1, 9);
  });

  it('uses the prior below 10 samples', () => {
    const sc = scenario({ twin: { baseLatencySeconds: 0.35 } });
    const full = runTwin(sc, varied(30)).signals().history;
    const learner = new LatencyLearner({ a: 0.05, b: 0.3 });
    learner.observe(slice(full, 0, 9));
    const prior = learner.model();
    expect(prior).toMatchObject({ a: 0.05, b: 0.3, samples: 9 });
    expect(prior.rmse).toBeNaN();
    learner.observe(slice(full, 0, 10));
    const fitted = learner.model();
    expect(fitted.samples).toBe(10);
    expect(fitted.b).toBeCloseTo(0.35, 6);
    expect(new LatencyLearner().model()).toMatchObject({ a: 0, b: 0.2, samples: 0 });
  });

  it('reads each second once, skips down time and seconds with busy < 50 ms', () => {
    const sc = scenario();
    const full = runTwin(sc, constant(6000, 100)).signals().history;
    const learner = new LatencyLearner();
    learner.observe(slice(full, 0, 60));
    learner.observe(slice(full, 0, 60));
    learner.observe(slice(full, 30, 100));
    expect(learner.model().samples).toBe(100);

    const h = history(40, {
      busyTimeMsPerSecond: (i) => (i < 10 ? 40 : 600),
      throughput: () => 6000,
      arrivalRate: () => 6000,
      latencySeconds: () => 0.5,
      status: (i) => (i >= 30 ? JOB_STATUS_CODE.RESCALING : JOB_STATUS_CODE.RUNNING),
    });
    const other = new LatencyLearner();
    other.observe(h);
    expect(other.model().samples).toBe(20);
  });
});

describe('predictLatency', () => {
  const model = { a: 0.1, b: 0.2, samples: 100, rmse: 0 };

  it('is a + b/(1 − ρ) + lag/μ', () => {
    // 0.1 + 0.2/(1 − 0.5) + 2000/10000 = 0.1 + 0.4 + 0.2
    expect(predictLatency(model, 5000, 10000, 2000)).toBeCloseTo(0.7, 12);
    expect(predictLatency(model, 0, 10000)).toBeCloseTo(0.3, 12);
  });

  it('is Infinity at ρ ≥ 1 and without capacity', () => {
    expect(predictLatency(model, 10000, 10000)).toBe(Number.POSITIVE_INFINITY);
    expect(predictLatency(model, 12000, 10000)).toBe(Number.POSITIVE_INFINITY);
    expect(predictLatency(model, 10, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(predictLatency(model, 9999, 10000)).toBeLessThan(Number.POSITIVE_INFINITY);
  });
});

describe('maxUtilisationFor', () => {
  it('inverts the queueing term', () => {
    expect(maxUtilisationFor({ a: 0, b: 0.2, samples: 0, rmse: 0 }, 1)).toBeCloseTo(0.8, 12);
    // 1 − 0.2 / (1 − 0.5) = 0.6
    expect(maxUtilisationFor({ a: 0.5, b: 0.2, samples: 0, rmse: 0 }, 1)).toBeCloseTo(0.6, 12);
    // At that utilisation the predicted latency is exactly the target.
    expect(predictLatency({ a: 0.5, b: 0.2, samples: 0, rmse: 0 }, 6000, 10000)).toBeCloseTo(1, 12);
  });

  it('is 0 when the target is out of reach', () => {
    expect(maxUtilisationFor({ a: 1, b: 0.2, samples: 0, rmse: 0 }, 1)).toBe(0);
    expect(maxUtilisationFor({ a: 0, b: 2, samples: 0, rmse: 0 }, 1)).toBe(0);
  });
});
