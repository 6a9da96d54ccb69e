import { describe, expect, it } from 'vitest';
import { CapacityLearner, fitCapacity } from '../../src/models/capacity.js';
import { JOB_STATUS_CODE } from '../../src/observe/signals.js';
import { nominalCapacity } from '../../src/sim/capacity.js';
import { constant, scenario } from '../support/fixtures.js';
import { history, runTwin, slice } from '../support/twin-history.js';

const EXTRAPOLATION_SD = 0.08;

describe('CapacityLearner on twin data', () => {
  it('recovers μ(p) exactly at one parallelism with noise 0 (TPR = throughput ÷ busy ratio)', () => {
    // μ(10) = 2000 + 1000·10 = 12000; at 6000 records/s busy = 500 ms, so TPR = 6000 / 0.5.
    const sc = scenario({ twin: { capacity: { model: 'linear', intercept: 2000, perSlot: 1000 } } });
    const twin = runTwin(sc, constant(6000, 120));
    expect(twin.record.busyTimeMsPerSecond[50]).toBeCloseTo(500, 9);
    const learner = new CapacityLearner();
    learner.observe(twin.signals().history);
    const est = learner.estimate();
    expect(est).toBeDefined();
    expect(est!.kind).toBe('proportional');
    expect(est!.observed).toEqual([{ parallelism: 10, samples: 120, meanRate: expect.closeTo(12000, 6) }]);
    expect(est!.mean(10)).toBeCloseTo(12000, 6);
    expect(est!.noise).toBeCloseTo(0, 9);
  });

  it('extrapolates proportionally from a single parallelism (ignoring the intercept it cannot see)', () => {
    const sc = scenario({ twin: { capacity: { model: 'linear', intercept: 2000, perSlot: 1000 } } });
    const learner = new CapacityLearner();
    learner.observe(runTwin(sc, constant(6000, 60)).signals().history);
    const est = learner.estimate()!;
    // perSlot = 12000 / 10 = 1200: μ(20) = 24000 (the true twin has 22000), μ(5) = 6000.
    expect(est.parameters.perSlot).toBeCloseTo(1200, 6);
    expect(est.mean(20)).toBeCloseTo(24000, 6);
    expect(est.mean(5)).toBeCloseTo(6000, 6);
  });

  it('the sample is the true capacity even while working off a backlog (busy = 1000 ms)', () => {
    // 15000/s for 20 s overloads μ(10) = 10000: the job runs flat out, then drains at 5000/s.
    const sc = scenario();
    const arrivals = [...constant(15000, 20), ...constant(5000, 100)];
    const twin = runTwin(sc, arrivals);
    expect(twin.record.busyTimeMsPerSecond[10]).toBe(1000);
    expect(twin.record.lag[30]).toBeGreaterThan(0); // 100000 records drained at 5000/s: gone at 40 s
    const learner = new CapacityLearner();
    learner.observe(twin.signals().history);
    expect(learner.estimate()!.observed[0]!.meanRate).toBeCloseTo(10000, 6);
  });

  it('fits intercept and perSlot of a linear twin from two parallelisms', () => {
    // μ(p) = 2000 + 1000·p: 6000 at p = 4, 10000 at p = 8. Rescale to 8 after second 299.
    const sc = scenario({ twin: { capacity: { model: 'linear', intercept: 2000, perSlot: 1000 }, initialParallelism: 4 } });
    const twin = runTwin(sc, constant(3000, 600), { rescaleAt: new Map([[299, 8]]) });
    const learner = new CapacityLearner();
    learner.observe(twin.signals().history);
    const est = learner.estimate()!;
    expect(est.kind).toBe('linear');
    expect(est.observed.map((o) => o.parallelism)).toEqual([4, 8]);
    // 300 RUNNING seconds at p = 4; 10 s of rescale downtime, then 290 at p = 8.
    expect(est.observed.map((o) => o.samples)).toEqual([300, 290]);
    expect(est.parameters.intercept).toBeCloseTo(2000, 4);
    expect(est.parameters.perSlot).toBeCloseTo(1000, 6);
    expect(est.mean(16)).toBeCloseTo(18000, 4);
    expect(est.mean(1)).toBeCloseTo(3000, 4);
  });

  it('keeps the line (not USL) on a linear twin seen at three parallelisms', () => {
    const sc = scenario({ twin: { capacity: { model: 'linear', intercept: 2000, perSlot: 1000 }, initialParallelism: 4 } });
    const twin = runTwin(sc, constant(3000, 900), { rescaleAt: new Map([[299, 8], [599, 12]]) });
    const learner = new CapacityLearner();
    learner.observe(twin.signals().history);
    const est = learner.estimate()!;
    expect(est.kind).toBe('linear');
    expect(est.mean(20)).toBeCloseTo(22000, 3);
  });

  it('chooses USL over a line on a USL twin seen on both sides of the knee and predicts unseen p within a few %', () => {
    // μ(p) = 1000p / (1 + 0.05(p−1) + 0.002p(p−1)) peaks near p = 22 and bends from p ≈ 8 on.
    const capacity = { model: 'usl' as const, lambda1: 1000, sigma: 0.05, kappa: 0.002 };
    const sc = scenario({ twin: { capacity, noise: { capacity: 0.02 }, initialParallelism: 4, maxParallelism: 32 } });
    const twin = runTwin(sc, constant(2000, 900), { seed: 4, rescaleAt: new Map([[299, 12], [599, 24]]) });
    const learner = new CapacityLearner();
    learner.observe(twin.signals().history);
    const est = learner.estimate()!;
    expect(est.observed.map((o) => o.parallelism)).toEqual([4, 12, 24]);
    expect(est.kind).toBe('usl');
    for (const p of [8, 16, 20, 28]) {
      const truth = nominalCapacity(capacity, p);
      expect(Math.abs(est.mean(p) / truth - 1)).toBeLessThan(0.03);
    }
    // The least-squares line through the same three means is off by > 10 % at p = 8 and 28,
    // so the accuracy checked above is the USL's own.
    const xs = est.observed.map((o) => o.parallelism);
    const ys = est.observed.map((o) => o.meanRate);
    const mx = xs.reduce((a, b) => a + b) / 3;
    const my = ys.reduce((a, b) => a + b) / 3;
    const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const line = (p: number): number => my + slope * (p - mx);
    expect(Math.abs(line(8) / nominalCapacity(capacity, 8) - 1)).toBeGreaterThan(0.1);
    expect(Math.abs(line(28) / nominalCapacity(capacity, 28) - 1)).toBeGreaterThan(0.1);
  });

  it('estimates the per-second capacity noise of the twin', () => {
    const sc = scenario({ twin: { noise: { capacity: 0.05 } } });
    const learner = new CapacityLearner();
    learner.observe(runTwin(sc, constant(6000, 3000), { seed: 7 }).signals().history);
    const est = learner.estimate()!;
    // ε ~ N(0, 0.05) clipped at ±3σ: the sample relative sd is ≈ 0.05 (±0.001 for 3000 draws).
    expect(Math.abs(est.noise - 0.05)).toBeLessThan(0.005);
    expect(Math.abs(est.observed[0]!.meanRate / 10000 - 1)).toBeLessThan(0.005);
    expect(est.relativeSd(10)).toBeCloseTo(est.noise, 12);
    expect(est.modelSd(10)).toBe(0);
  });

  it('ignores samples with busy < 50 ms, and needs 5 samples at a parallelism', () => {
    // Twin at 400/s on μ = 10000: busy 40 ms every second → nothing learned.
    const quiet = new CapacityLearner();
    quiet.observe(runTwin(scenario(), constant(400, 200)).signals().history);
    expect(quiet.estimate()).toBeUndefined();

    // busy exactly 50 ms is kept (500/s on μ = 10000).
    const edge = new CapacityLearner();
    edge.observe(runTwin(scenario(), constant(500, 20)).signals().history);
    expect(edge.estimate()!.observed[0]!.samples).toBe(20);

    // Mixed: 20 samples at busy 30 ms with a wild TPR (20000) and 20 at busy 500 ms (TPR 10000).
    const h = history(40, {
      busyTimeMsPerSecond: (i) => (i < 20 ? 30 : 500),
      throughput: (i) => (i < 20 ? 600 : 5000),
      parallelism: () => 10,
    });
    const mixed = new CapacityLearner();
    mixed.observe(h);
    expect(mixed.estimate()!.observed).toEqual([{ parallelism: 10, samples: 20, meanRate: 10000 }]);

    const four = new CapacityLearner();
    four.observe(slice(h, 20, 24));
    expect(four.estimate()).toBeUndefined();
    four.observe(slice(h, 20, 25));
    expect(four.estimate()!.observed[0]!.samples).toBe(5);
  });

  it('skips seconds that are not RUNNING', () => {
    const h = history(30, {
      busyTimeMsPerSecond: () => 500,
      throughput: (i) => (i < 10 ? 5000 : 9000),
      parallelism: () => 10,
      status: (i) => (i < 10 ? JOB_STATUS_CODE.RUNNING : JOB_STATUS_CODE.RESTARTING),
    });
    const learner = new CapacityLearner();
    learner.observe(h);
    expect(learner.estimate()!.observed).toEqual([{ parallelism: 10, samples: 10, meanRate: 10000 }]);
  });

  it('counts every second once when re-reading the same or a sliding window', () => {
    const twin = runTwin(scenario({ twin: { noise: { capacity: 0.03 } } }), constant(6000, 300));
    const full = twin.signals().history;
    const learner = new CapacityLearner();
    learner.observe(slice(full, 0, 100));
    learner.observe(slice(full, 0, 100));
    learner.observe(slice(full, 0, 150)); // extension
    learner.observe(slice(full, 50, 200)); // window moved
    learner.observe(slice(full, 100, 300));
    const est = learner.estimate()!;
    const once = new CapacityLearner();
    once.observe(full);
    expect(est.observed[0]!.samples).toBe(300);
    expect(est.observed[0]!.meanRate).toBeCloseTo(once.estimate()!.observed[0]!.meanRate, 6);
  });
});

describe('fitCapacity uncertainty', () => {
  it('relativeSd grows with the log-distance from the observed parallelism', () => {
    const est = fitCapacity([{ parallelism: 10, samples: 100, meanRate: 10000, sd: 300 }])!;
    expect(est.noise).toBeCloseTo(0.03, 12);
    expect(est.modelSd(10)).toBe(0);
    expect(est.modelSd(20)).toBeCloseTo(EXTRAPOLATION_SD * Math.log(2), 12); // 0.0555
    expect(est.relativeSd(20)).toBeCloseTo(Math.hypot(0.03, EXTRAPOLATION_SD * Math.log(2)), 12);
    // Symmetric in log p: halving is as uncertain as doubling.
    expect(est.relativeSd(5)).toBeCloseTo(est.relativeSd(20), 12);
    const sds = [10, 12, 15, 20, 24].map((p) => est.relativeSd(p));
    for (let i = 1; i < sds.length; i++) expect(sds[i]!).toBeGreaterThan(sds[i - 1]!);
  });

  it('measures the distance from the nearest of several observed parallelisms', () => {
    const est = fitCapacity([
      { parallelism: 4, samples: 100, meanRate: 6000, sd: 0 },
      { parallelism: 16, samples: 100, meanRate: 18000, sd: 0 },
    ])!;
    expect(est.kind).toBe('linear');
    expect(est.modelSd(4)).toBeCloseTo(0, 9);
    expect(est.modelSd(16)).toBeCloseTo(0, 9);
    expect(est.modelSd(8)).toBeCloseTo(EXTRAPOLATION_SD * Math.log(2), 9); // both neighbours at ln 2
    expect(est.modelSd(24)).toBeCloseTo(EXTRAPOLATION_SD * Math.log(1.5), 9);
    expect(est.noise).toBe(0);
  });
});

describe('capacity profile', () => {
  it('seeds a model before any observation', () => {
    const one = new CapacityLearner([{ parallelism: 4, maxRate: 4000 }]).estimate()!;
    expect(one.kind).toBe('profile');
    expect(one.mean(8)).toBeCloseTo(8000, 9);
    expect(one.noise).toBe(0.05); // the default before any per-second sample

    const two = new CapacityLearner([{ parallelism: 4, maxRate: 6000 }, { parallelism: 8, maxRate: 10000 }]).estimate()!;
    expect(two.kind).toBe('profile');
    expect(two.parameters.intercept).toBeCloseTo(2000, 6);
    expect(two.parameters.perSlot).toBeCloseTo(1000, 6);
    expect(new CapacityLearner().estimate()).toBeUndefined();
  });

  it('an observation replaces the profile point at its parallelism', () => {
    // Profile says μ(8) = 10000, the twin shows 12000 (intercept 4000): the line now runs through
    // (4, 6000) and (8, 12000): slope 1500, intercept 0.
    const learner = new CapacityLearner([{ parallelism: 4, maxRate: 6000 }, { parallelism: 8, maxRate: 10000 }]);
    const sc = scenario({ twin: { capacity: { model: 'linear', intercept: 4000, perSlot: 1000 }, initialParallelism: 8 } });
    learner.observe(runTwin(sc, constant(6000, 100)).signals().history);
    const est = learner.estimate()!;
    expect(est.kind).toBe('linear');
    expect(est.parameters.perSlot).toBeCloseTo(1500, 6);
    expect(est.parameters.intercept).toBeCloseTo(0, 6);
    expect(est.mean(12)).toBeCloseTo(18000, 6);
  });
});
