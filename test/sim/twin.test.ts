import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/config/scenario.js';
import { JOB_STATUS_CODE } from '../../src/observe/signals.js';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import { hpaPolicy } from '../../src/sim/policies/hpa.js';
import { staticPolicy } from '../../src/sim/policies/static.js';
import type { Policy } from '../../src/sim/policy.js';
import { runPolicy, scenarioArrivals } from '../../src/sim/runner.js';
import { loadTrace } from '../../src/sim/trace.js';
import { Twin, type TwinRecord } from '../../src/sim/twin.js';
import { constant, scenario, trace } from '../support/fixtures.js';

function runTwin(twin: Twin, rescaleAt: Map<number, number> = new Map()): TwinRecord {
  while (!twin.done) {
    twin.step();
    const request = rescaleAt.get(twin.elapsed - 1);
    if (request !== undefined) twin.requestRescale(request);
  }
  return twin.record;
}

/** A wavy load that saturates p = 10 at its crests, so rescales and backlog both happen. */
function wave(seconds: number): Float64Array {
  return Float64Array.from({ length: seconds }, (_, t) => 8000 + 4000 * Math.sin((2 * Math.PI * t) / 600));
}

describe('Twin', () => {
  it('conserves records: arrivals = processed − rolled back + lag, at every second', async () => {
    const sc = scenario({ twin: { noise: { capacity: 0.05 }, checkpointIntervalSeconds: 7 }, failures: [100, 455, 1203, 1210, 2500] });
    const arrivals = wave(3000);
    const bound = clairvoyantLowerBound(sc, arrivals);
    const { record, scores } = await runPolicy(sc, trace(arrivals), hpaPolicy, { seed: 3, lowerBound: bound });
    expect(scores.rescales).toBeGreaterThan(2);
    let arrived = 0;
    let processed = 0;
    let rolledBack = 0;
    for (let s = 0; s < arrivals.length; s++) {
      arrived += record.arrivalRate[s] as number;
      processed += record.throughput[s] as number;
      rolledBack += record.rolledBack[s] as number;
      expect(Math.abs(arrived - (processed - rolledBack + (record.lag[s] as number)))).toBeLessThan(1e-6 * arrived + 1e-6);
    }
    expect(rolledBack).toBeGreaterThan(0);
  });

  it('a rollback re-adds exactly the records processed since the last completed checkpoint', () => {
    const failures = [95, 333, 1004, 1777];
    const sc = scenario({ twin: { checkpointIntervalSeconds: 13, noise: { capacity: 0.03 } }, failures });
    const twin = new Twin(sc, wave(2000), { seed: 9 });
    const record = runTwin(twin, new Map([[500, 14], [1500, 8]]));
    const ages: number[] = [];
    for (const tf of failures) {
      // checkpointAgeSeconds just before the failure says which seconds the checkpoint missed.
      const age = record.checkpointAgeSeconds[tf - 1] as number;
      let since = 0;
      for (let s = tf - age; s < tf; s++) since += record.throughput[s] as number;
      ages.push(age);
      expect(age).toBeLessThanOrEqual(13);
      expect(record.rolledBack[tf]).toBeCloseTo(since, 6);
      expect(record.lag[tf]).toBeCloseTo((record.lag[tf - 1] as number) + since + (record.arrivalRate[tf] as number), 6);
    }
    expect(ages.filter((a) => a > 0).length).toBeGreaterThanOrEqual(3);
  });

  it('is down for the restart downtime after a failure, then resumes at the same parallelism', () => {
    // Checkpoints complete at the ends of seconds 9, 19, …, 49: a failure at 57 loses 7 s.
    const sc = scenario({ failures: [57] });
    const record = runTwin(new Twin(sc, Float64Array.from(constant(5000, 200)), { seed: 1 }));
    expect(record.rolledBack[57]).toBeCloseTo(7 * 5000, 6);
    for (let s = 57; s < 87; s++) {
      expect(record.status[s]).toBe(JOB_STATUS_CODE.RESTARTING);
      expect(record.throughput[s]).toBe(0);
      // While down: latency = lag / μ(p) + remaining downtime.
      expect(record.latencySeconds[s]).toBeCloseTo((record.lag[s] as number) / 10_000 + (87 - s), 9);
    }
    expect(record.status[87]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(record.parallelism[87]).toBe(10);
    expect(record.numRestarts[87]).toBe(1);
    // 35,000 rolled back plus 30 s of arrivals, worked off at 5,000/s of spare capacity: 37 s.
    expect(record.lag[86]).toBeCloseTo(35_000 + 150_000, 6);
    expect(record.lag[122]).toBeCloseTo(5000, 6);
    expect(record.lag[123]).toBe(0);
  });

  it('rescales with downtime and no rollback; requests while down are rejected and counted', () => {
    const sc = scenario({ failures: [300] });
    const twin = new Twin(sc, Float64Array.from(constant(5000, 400)), { seed: 1 });
    const record = runTwin(twin, new Map([[99, 6], [105, 12], [305, 14]]));
    expect(record.status[99]).toBe(JOB_STATUS_CODE.RUNNING);
    for (let s = 100; s < 110; s++) expect(record.status[s]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(record.parallelism[110]).toBe(6);
    expect(record.rolledBack.slice(100, 110).every((r) => r === 0)).toBe(true);
    expect(record.lag[109]).toBeCloseTo(50_000, 6);
    expect(twin.rescalesCompleted).toBe(1);
    expect(twin.rescalesRejected).toBe(2);
    // A completed savepoint resets the checkpoint age.
    expect(record.checkpointAgeSeconds[100]).toBe(1);
  });

  it('latency and busy time follow the formulas of EVALUATION.md while running', () => {
    const record = runTwin(new Twin(scenario(), Float64Array.from(constant(5000, 20)), { seed: 1 }));
    expect(record.latencySeconds[5]).toBeCloseTo(0.2 / (1 - 0.5), 12);
    expect(record.busyTimeMsPerSecond[5]).toBeCloseTo(500, 9);
    expect(record.backPressuredTimeMsPerSecond[5]).toBe(0);
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const sc = scenario({ twin: { noise: { capacity: 0.1 } }, failures: [500] });
    const run = (seed: number): Float64Array => runTwin(new Twin(sc, wave(1000), { seed })).lag;
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('clips capacity noise at ±3σ', () => {
    const sc = scenario({ twin: { noise: { capacity: 0.1 }, initialParallelism: 2 } });
    // 1e9/s saturates the job: throughput is the real capacity each second.
    const record = runTwin(new Twin(sc, Float64Array.from(constant(1e9, 20_000)), { seed: 5 }));
    const rates = Array.from(record.throughput);
    expect(Math.max(...rates)).toBeLessThanOrEqual(2000 * 1.3 + 1e-6);
    expect(Math.min(...rates)).toBeGreaterThanOrEqual(2000 * 0.7 - 1e-6);
    expect(Math.max(...rates)).toBeGreaterThan(2000 * 1.25);
  });

  it('simulates the 6-hour cars scenario with a cheap policy in well under 5 s', async () => {
    const sc = loadScenario('config/scenarios/cars.yaml');
    const tr = loadTrace(sc.tracePath);
    const bound = clairvoyantLowerBound(sc, scenarioArrivals(sc, tr));
    // CPU time of this process rather than wall time: unit test files run side by side, and the
    // wall clock would also count the time the other files hold the cores. The budget is the same.
    const before = process.cpuUsage();
    const { scores } = await runPolicy(sc, tr, staticPolicy, { seed: 1, lowerBound: bound });
    const cpu = process.cpuUsage(before);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(1500);
    expect(scores.durationSeconds).toBeGreaterThanOrEqual(21_600);
  });

  it('hands a policy signals only up to the current second', async () => {
    const seen: number[] = [];
    const probe: Policy = {
      name: 'probe',
      intervalSeconds: 25,
      decide(signals) {
        seen.push(signals.history.length);
        expect(signals.latest.t).toBe(signals.history.t[signals.history.length - 1]);
        return {};
      },
    };
    const sc = scenario();
    const arrivals = Float64Array.from(constant(1000, 100));
    await runPolicy(sc, trace(arrivals), () => probe, { seed: 1, lowerBound: clairvoyantLowerBound(sc, arrivals) });
    expect(seen).toEqual([25, 50, 75]);
  });
});
