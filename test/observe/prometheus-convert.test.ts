import { describe, expect, it } from 'vitest';
import { observeDowntimes } from '../../src/models/downtime.js';
import {
  alignDown, alignUp, assembleHistory, carryForward, checkpointAge, chunkRange, emptyRawGrid, monotoneCounter,
  newestDataTime, PROMETHEUS_MAX_POINTS, runningSteps, seriesToGrid, statusCodes, toSignals, type SeriesLike,
} from '../../src/observe/prometheus-convert.js';
import type { QueryKey } from '../../src/observe/promql-catalogue.js';
import { JOB_STATUS_CODE } from '../../src/observe/signals.js';

const { RUNNING, RESTARTING, RESCALING } = JOB_STATUS_CODE;
const _ = Number.NaN;
const T0 = 1_700_000_000;

/** A matrix result as prometheus-query returns it (Date times, parsed floats). */
function series(points: Array<[number, number | string]>): SeriesLike {
  return { values: points.map(([t, v]) => ({ time: new Date(t * 1000), value: typeof v === 'string' ? Number.parseFloat(v) : v })) };
}

/** A raw grid at 1 s from per-key columns (missing keys are all NaN). */
function grid(columns: Partial<Record<QueryKey, number[]>>, length?: number) {
  const n = length ?? Math.max(...Object.values(columns).map((c) => c.length));
  const g = emptyRawGrid(T0, 1, n);
  for (const [key, values] of Object.entries(columns) as Array<[QueryKey, number[]]>) g.columns[key].set(values);
  return g;
}

const arr = (a: ArrayLike<number>) => Array.from(a);

describe('chunked range reads', () => {
  it('keeps every chunk within the point limit, contiguous and covering the range', () => {
    const start = T0;
    const end = T0 + 6 * 3600;
    const chunks = chunkRange(start, end, 1);
    expect(chunks).toEqual([
      { start, end: start + 10_999 },
      { start: start + 11_000, end },
    ]);
    for (const step of [1, 2, 5, 15]) {
      for (const maxPoints of [1, 2, 7, 100, PROMETHEUS_MAX_POINTS]) {
        const cs = chunkRange(start, start + 5000 * step + 3 * step, step, maxPoints);
        let expected = start;
        for (const c of cs) {
          expect(c.start).toBe(expected);
          expect((c.end - c.start) / step + 1).toBeLessThanOrEqual(maxPoints);
          expected = c.end + step;
        }
        expect(cs[cs.length - 1]?.end).toBe(start + 5003 * step);
      }
    }
  });

  it('reads a day at 8 s in one chunk, at 1 s in eight', () => {
    expect(chunkRange(T0, T0 + 86_400, 8)).toHaveLength(1);
    expect(chunkRange(T0, T0 + 86_400, 1)).toHaveLength(8);
  });

  it('aligns to the step', () => {
    expect(alignDown(1003.7, 5)).toBe(1000);
    expect(alignUp(1000.2, 5)).toBe(1005);
    expect(alignUp(1000, 5)).toBe(1000);
  });
});

describe('query results on the grid', () => {
  it('places samples on the nearest step and drops NaN, Inf and negative values', () => {
    const g = seriesToGrid([series([[T0, 1], [T0 + 1.0004, 2], [T0 + 2, 'NaN'], [T0 + 3, '+Inf'], [T0 + 4, -1], [T0 + 5, Infinity], [T0 + 6, 7], [T0 + 99, 9]])], T0, 1, 7, 'max');
    expect(arr(g)).toEqual([1, 2, _, _, _, _, 7]);
  });

  it('sums or maxes several series per step', () => {
    const two = [series([[T0, 1], [T0 + 1, 2]]), series([[T0 + 1, 5], [T0 + 2, 3]])];
    expect(arr(seriesToGrid(two, T0, 1, 3, 'sum'))).toEqual([1, 7, 3]);
    expect(arr(seriesToGrid(two, T0, 1, 3, 'max'))).toEqual([1, 5, 3]);
    expect(arr(seriesToGrid([], T0, 1, 2, 'sum'))).toEqual([_, _]);
  });

  it('writes a chunk into its place of a longer column', () => {
    const column = new Float64Array(6).fill(Number.NaN);
    seriesToGrid([series([[T0 + 10, 1], [T0 + 12, 3]])], T0 + 10, 2, 2, 'max', column, 3);
    expect(arr(column)).toEqual([_, _, _, 1, 3, _]);
  });
});

describe('gaps and counters', () => {
  it('carries a value over a short gap, not a long one', () => {
    expect(arr(carryForward([_, 1, _, _, 2, _, _, _, _], 2))).toEqual([_, 1, 1, 1, 2, 2, 2, _, _]);
    expect(arr(carryForward([3, _, _], 0))).toEqual([3, _, _]);
  });

  it('makes counters monotone across resets', () => {
    expect(arr(monotoneCounter([_, 2, 2, 3, _, 0, 1, 1, 0]))).toEqual([2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(arr(monotoneCounter([_, _]))).toEqual([_, _]);
  });

  it('ages the checkpoint from the counter rise plus its duration', () => {
    const t = [0, 1, 2, 3, 4, 5].map((s) => T0 + s);
    expect(arr(checkpointAge(t, [4, 4, 5, 5, 5, 6], [0.5, 0.5, 0.25, 0.25, _, 0.5]))).toEqual([0.5, 1.5, 0.25, 1.25, 2.25, 0.5]);
    expect(arr(checkpointAge(t.slice(0, 2), [_, _], [1, 1]))).toEqual([_, _]);
  });
});

describe('job status', () => {
  it('is RUNNING while uptime > 0; a spell with a restart is RESTARTING, else RESCALING', () => {
    const g = grid({
      uptimeSeconds: [5, 6, 0, 0, 1, 2, 0, 0, 0, 1],
      numRestarts: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
      parallelism: [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    });
    const running = runningSteps(g, 2);
    expect(arr(running)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 1]);
    expect(arr(statusCodes(running, monotoneCounter(g.columns.numRestarts), 2)))
      .toEqual([RUNNING, RUNNING, RESTARTING, RESTARTING, RUNNING, RUNNING, RESCALING, RESCALING, RESCALING, RUNNING]);
  });

  it('sees a restart counted by a late scrape, but not one of a later spell', () => {
    const running = Uint8Array.from([1, 0, 0, 1, 1, 0, 1]);
    expect(arr(statusCodes(running, [3, 3, 3, 4, 4, 4, 4], 2))).toEqual([RUNNING, RESTARTING, RESTARTING, RUNNING, RUNNING, RESCALING, RUNNING]);
    expect(arr(statusCodes(running, [3, 3, 3, 3, 3, 3, 4], 0))).toEqual([RUNNING, RESCALING, RESCALING, RUNNING, RUNNING, RESCALING, RUNNING]);
  });

  it('keeps RUNNING over a short JobManager scrape gap while the tasks report', () => {
    const g = grid({
      uptimeSeconds: [5, _, _, 8, _, _, _, _],
      parallelism: [2, 2, 2, 2, 2, 2, 2, 2],
    });
    expect(arr(runningSteps(g, 2))).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
  });

  it('is not running when the job metrics vanish (a savepoint stop), or when nothing reports for long', () => {
    const stopped = grid({ uptimeSeconds: [5, _, _, _, 1], parallelism: [2, _, _, _, 3], arrivalRate: [9, 9, 9, 9, 9] });
    expect(arr(runningSteps(stopped, 10))).toEqual([1, 0, 0, 0, 1]);
    const silent = grid({ uptimeSeconds: [5, _, _, _, 1], parallelism: [2, _, _, _, 3] });
    expect(arr(runningSteps(silent, 2))).toEqual([1, 1, 1, 0, 1]);
  });
});

describe('assembled history', () => {
  // 0-2 running at p=2; 3-5 restarting (uptime 0, restarts 0→1); 6-7 running; 8-10 stopped for
  // a rescale (every Flink series gone, counters reset on resubmission); 11-12 running at p=3.
  const g = grid({
    arrivalRate: [100, 100, 110, 110, 120, 120, 120, 130, 130, 130, 130, 140, 140],
    throughput: [100, 100, 110, _, _, _, 300, 200, _, _, _, 160, 140],
    lag: [0, 0, 0, 110, 230, 350, 170, 100, _, _, _, 50, 50],
    busyTimeMsPerSecond: [400, 420, 440, 0, 0, 0, 1000, 900, _, _, _, 800, 700],
    backPressuredTimeMsPerSecond: [0, 0, 0, _, _, _, 10, 0, _, _, _, 0, 0],
    latencySeconds: [0.2, 0.2, 0.2, 1, 2, 3, 2, 1, _, _, _, 0.4, 0.3],
    parallelism: [2, 2, 2, 2, 2, 2, 2, 2, _, _, _, 3, 3],
    numRestarts: [0, 0, 0, 1, 1, 1, 1, 1, _, _, _, 0, 0],
    uptimeSeconds: [10, 11, 12, 0, 0, 0, 1, 2, _, _, _, 1, 2],
    completedCheckpoints: [5, 5, 6, 6, 6, 6, 6, 7, _, _, _, 0, 1],
    lastCheckpointDurationSeconds: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1, _, _, _, 1, 0.5],
  });
  const h = assembleHistory(g, { carryForwardSeconds: 5 });

  it('has one aligned sample per step and the derived status', () => {
    expect(h.length).toBe(13);
    expect(arr(h.t)).toEqual(Array.from({ length: 13 }, (_v, i) => T0 + i));
    expect(arr(h.status)).toEqual([RUNNING, RUNNING, RUNNING, RESTARTING, RESTARTING, RESTARTING, RUNNING, RUNNING, RESCALING, RESCALING, RESCALING, RUNNING, RUNNING]);
  });

  it('counts nothing processed while the job is down, carries the rest over the short gap', () => {
    expect(arr(h.throughput)).toEqual([100, 100, 110, 0, 0, 0, 300, 200, 0, 0, 0, 160, 140]);
    expect(arr(h.busyTimeMsPerSecond)).toEqual([400, 420, 440, 0, 0, 0, 1000, 900, 0, 0, 0, 800, 700]);
    expect(arr(h.backPressuredTimeMsPerSecond).slice(3, 6)).toEqual([0, 0, 0]);
    expect(arr(h.lag).slice(7, 11)).toEqual([100, 100, 100, 100]);
    expect(arr(h.parallelism)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3]);
  });

  it('keeps the restart counter monotone across the resubmission', () => {
    expect(arr(h.numRestarts)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('ages the checkpoint across the resubmission', () => {
    expect(h.checkpointAgeSeconds[2]).toBe(0.5);
    expect(h.checkpointAgeSeconds[6]).toBe(4.5);
    expect(h.checkpointAgeSeconds[7]).toBe(1);
    expect(h.checkpointAgeSeconds[12]).toBe(0.5);
  });

  it('shows the models one restart and one rescale, with their lengths', () => {
    expect(observeDowntimes(h)).toEqual({ restarts: [3], rescales: [3] });
  });

  it('gives Signals whose latest sample is the last element', () => {
    const s = toSignals(h);
    expect(s.latest).toEqual({
      t: T0 + 12, arrivalRate: 140, throughput: 140, lag: 50, busyTimeMsPerSecond: 700, backPressuredTimeMsPerSecond: 0,
      latencySeconds: 0.3, parallelism: 3, checkpointAgeSeconds: 0.5, status: 'RUNNING', numRestarts: 1,
    });
    expect(() => toSignals(assembleHistory(emptyRawGrid(T0, 1, 0), { carryForwardSeconds: 5 }))).toThrow(RangeError);
  });

  it('marks what stays unknown after a long gap as NaN, and reports the newest data', () => {
    const long = grid({ arrivalRate: [5, _, _, _, _], uptimeSeconds: [1, 2, 3, 4, 5], parallelism: [1, 1, 1, 1, 1] });
    const lh = assembleHistory(long, { carryForwardSeconds: 2 });
    expect(arr(lh.arrivalRate)).toEqual([5, 5, 5, _, _]);
    expect(arr(lh.numRestarts)).toEqual([0, 0, 0, 0, 0]);
    expect(arr(lh.checkpointAgeSeconds)).toEqual([_, _, _, _, _]);
    expect(newestDataTime(long)).toBe(T0 + 4);
    expect(newestDataTime(emptyRawGrid(T0, 1, 3))).toBeUndefined();
  });
});
