import { describe, expect, it } from 'vitest';
import { JOB_STATUS_CODE } from '../../../src/observe/signals.js';
import { Twin } from '../../../src/sim/twin.js';
import { constant, scenario } from '../../support/fixtures.js';

/** The Twin methods the live twin drives rescales with: stopWithSavepoint, resumeAt, retarget. */

function stepTo(twin: Twin, second: number): void {
  while (twin.elapsed < second) twin.step();
}

describe('Twin control for the live twin', () => {
  it('stopWithSavepoint holds the job down with no rollback until resumeAt, then runs at the new parallelism', () => {
    const sc = scenario();
    const twin = new Twin(sc, Float64Array.from(constant(6000, 200)), { seed: 1 });
    stepTo(twin, 50);
    expect(twin.stopWithSavepoint(8)).toBe(true);
    expect(twin.stopped).toBe(true);
    expect(twin.status).toBe('RESCALING');
    expect(twin.stopWithSavepoint()).toBe(false);
    expect(twin.requestRescale(12)).toBe('rejected');
    stepTo(twin, 80);
    const r = twin.record;
    for (let s = 50; s < 80; s++) {
      expect(r.status[s]).toBe(JOB_STATUS_CODE.RESCALING);
      expect(r.throughput[s]).toBe(0);
      expect(r.rolledBack[s]).toBe(0);
      expect(Number.isFinite(r.latencySeconds[s] as number)).toBe(true);
    }
    expect(r.lag[79]).toBe(30 * 6000);
    // Waiting latency: lag / μ(p) + the downtime left if resubmitted now (restore 8 s).
    expect(r.latencySeconds[79]).toBeCloseTo((30 * 6000) / 10_000 + Math.max(60 - 79, 8), 9);
    expect(r.latencySeconds[52]).toBeCloseTo((3 * 6000) / 10_000 + 8, 9);
    expect(twin.resumeAt(14, 85)).toBe(true);
    expect(twin.resumeAt(14, 85)).toBe(false);
    expect(twin.stopped).toBe(false);
    expect(twin.targetParallelism).toBe(14);
    stepTo(twin, 86);
    expect(r.status[84]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(r.status[85]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(r.parallelism[85]).toBe(14);
    expect(twin.rescalesStarted).toBe(1);
    expect(twin.rescalesCompleted).toBe(1);
    // The savepoint is the last completed checkpoint: its age counts from the stop.
    expect(r.checkpointAgeSeconds[50]).toBe(1);
  });

  it('scenario failures while the job is stopped are skipped; after resumeAt they hit the restoring job', () => {
    const sc = scenario({ failures: [20, 40] });
    const twin = new Twin(sc, Float64Array.from(constant(6000, 100)), { seed: 1 });
    stepTo(twin, 10);
    twin.stopWithSavepoint();
    stepTo(twin, 30);
    expect(twin.failuresSkipped).toBe(1);
    expect(twin.record.numRestarts[29]).toBe(0);
    expect(twin.resumeAt(8, 45)).toBe(true);
    stepTo(twin, 71);
    const r = twin.record;
    expect(r.status[40]).toBe(JOB_STATUS_CODE.RESTARTING);
    expect(r.numRestarts[40]).toBe(1);
    expect(r.status[69]).toBe(JOB_STATUS_CODE.RESTARTING);
    expect(r.status[70]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(r.parallelism[70]).toBe(8);
    expect(twin.failsAt(40)).toBe(true);
    expect(twin.failsAt(41)).toBe(false);
  });

  it('retarget changes the parallelism of a rescale or restart under way, and does nothing otherwise', () => {
    const sc = scenario({ failures: [30] });
    const twin = new Twin(sc, Float64Array.from(constant(6000, 100)), { seed: 1 });
    stepTo(twin, 10);
    expect(twin.retarget(12)).toBe(false);
    expect(twin.requestRescale(12)).toBe('started');
    expect(twin.rescalePending).toBe(true);
    expect(twin.retarget(16)).toBe(true);
    expect(twin.targetParallelism).toBe(16);
    stepTo(twin, 21);
    expect(twin.record.parallelism[20]).toBe(16);
    stepTo(twin, 35);
    expect(twin.status).toBe('RESTARTING');
    expect(twin.retarget(99)).toBe(true); // clamped to maxParallelism
    stepTo(twin, 61);
    expect(twin.record.parallelism[60]).toBe(24);
    expect(twin.record.status[60]).toBe(JOB_STATUS_CODE.RUNNING);
  });

  it('conserves records through stop, wait and resume', () => {
    const sc = scenario({ failures: [33, 140], twin: { noise: { capacity: 0.05 }, checkpointIntervalSeconds: 7 } });
    const arrivals = Float64Array.from({ length: 300 }, (_, t) => 9000 + 3000 * Math.sin(t / 20));
    const twin = new Twin(sc, arrivals, { seed: 5 });
    stepTo(twin, 60);
    twin.stopWithSavepoint(6);
    stepTo(twin, 90);
    twin.resumeAt(13, 96);
    stepTo(twin, 300);
    const r = twin.record;
    let arrived = 0;
    let processed = 0;
    let rolledBack = 0;
    for (let s = 0; s < 300; s++) {
      arrived += r.arrivalRate[s] as number;
      processed += r.throughput[s] as number;
      rolledBack += r.rolledBack[s] as number;
      expect(Math.abs(arrived - (processed - rolledBack + (r.lag[s] as number)))).toBeLessThan(1e-6 * arrived);
    }
  });
});
