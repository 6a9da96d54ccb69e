import { expect } from 'vitest';
import type { Scenario } from '../../src/config/scenario.js';
import { JOB_STATUS_CODE, NUMERIC_SIGNAL_KEYS, type SignalHistory } from '../../src/observe/signals.js';
import { Twin } from '../../src/sim/twin.js';

/**
 * Runs the real twin over `arrivals` (one value per second). `rescaleAt` maps a second s to a
 * parallelism requested right after that second was simulated (the rescale starts at s + 1).
 */
export function runTwin(
  sc: Scenario,
  arrivals: ArrayLike<number>,
  options: { seed?: number; startTime?: number; initialParallelism?: number; rescaleAt?: ReadonlyMap<number, number> } = {},
): Twin {
  const twin = new Twin(sc, Float64Array.from(arrivals), {
    seed: options.seed ?? 1,
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    ...(options.initialParallelism !== undefined ? { initialParallelism: options.initialParallelism } : {}),
  });
  while (!twin.done) {
    twin.step();
    const request = options.rescaleAt?.get(twin.elapsed - 1);
    if (request !== undefined) expect(twin.requestRescale(request)).toBe('started');
  }
  return twin;
}

/** A hand-made history: every column from per-second functions (status RUNNING unless given). */
export function history(
  length: number,
  columns: Partial<Record<(typeof NUMERIC_SIGNAL_KEYS)[number] | 'status', (i: number) => number>>,
): SignalHistory {
  const column = (f: ((i: number) => number) | undefined, fallback: (i: number) => number): Float64Array =>
    Float64Array.from({ length }, (_, i) => (f ?? fallback)(i));
  return {
    length,
    t: column(columns.t, (i) => i),
    arrivalRate: column(columns.arrivalRate, () => 0),
    throughput: column(columns.throughput, () => 0),
    lag: column(columns.lag, () => 0),
    busyTimeMsPerSecond: column(columns.busyTimeMsPerSecond, () => 0),
    backPressuredTimeMsPerSecond: column(columns.backPressuredTimeMsPerSecond, () => 0),
    latencySeconds: column(columns.latencySeconds, () => 0),
    parallelism: column(columns.parallelism, () => 1),
    checkpointAgeSeconds: column(columns.checkpointAgeSeconds, () => 0),
    numRestarts: column(columns.numRestarts, () => 0),
    status: column(columns.status, () => JOB_STATUS_CODE.RUNNING),
  };
}

/** The same history restricted to [from, to). */
export function slice(h: SignalHistory, from: number, to: number): SignalHistory {
  const cut = (a: ArrayLike<number>): Float64Array => Float64Array.from(Array.prototype.slice.call(a, from, to) as number[]);
  return {
    length: to - from,
    t: cut(h.t), arrivalRate: cut(h.arrivalRate), throughput: cut(h.throughput), lag: cut(h.lag),
    busyTimeMsPerSecond: cut(h.busyTimeMsPerSecond), backPressuredTimeMsPerSecond: cut(h.backPressuredTimeMsPerSecond),
    latencySeconds: cut(h.latencySeconds), parallelism: cut(h.parallelism), checkpointAgeSeconds: cut(h.checkpointAgeSeconds),
    numRestarts: cut(h.numRestarts), status: cut(h.status),
  };
}
