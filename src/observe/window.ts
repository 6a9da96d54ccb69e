import { leastSquaresLine } from '../util/least-squares.js';
import { JOB_STATUS_CODE, indexAtOrAfter, type SignalColumn, type SignalHistory } from './signals.js';

/** The samples of a history taken while the job was RUNNING, from `since` (inclusive) on. */
export interface RunningWindow {
  readonly history: SignalHistory;
  /** History indices of the RUNNING samples in the window, oldest first. */
  readonly indices: readonly number[];
}

export function runningWindow(history: SignalHistory, since: number): RunningWindow {
  const indices: number[] = [];
  for (let i = indexAtOrAfter(history, since); i < history.length; i++) {
    if (history.status[i] === JOB_STATUS_CODE.RUNNING) indices.push(i);
  }
  return { history, indices };
}

/** Mean of a column over the window; undefined when the window is empty. */
export function windowMean(window: RunningWindow, column: SignalColumn): number | undefined {
  if (window.indices.length === 0) return undefined;
  const values = window.history[column];
  let sum = 0;
  for (const i of window.indices) sum += values[i] as number;
  return sum / window.indices.length;
}

/** Least-squares slope of a column against time (units per second); 0 with fewer than two samples. */
export function windowSlope(window: RunningWindow, column: SignalColumn): number {
  const { t, [column]: y } = window.history;
  return leastSquaresLine(window.indices.map((i) => ({ x: t[i] as number, y: y[i] as number })))?.slope ?? 0;
}

/**
 * Means of a column over consecutive buckets [from + k·width, from + (k+1)·width), every bucket
 * that ends by `to` (exclusive). NaN, ±Inf and negative samples are no observation (a scrape
 * gap, a counter reset); a bucket without any repeats the previous mean (`previous` before the
 * first), so the series stays regular for a forecaster.
 */
export function bucketMeans(history: SignalHistory, column: SignalColumn, from: number, to: number, width: number, previous = 0): { t: number[]; y: number[] } {
  const t: number[] = [];
  const y: number[] = [];
  const values = history[column];
  let last = previous;
  let i = indexAtOrAfter(history, from);
  for (let start = from; start + width <= to; start += width) {
    const end = start + width;
    let sum = 0;
    let n = 0;
    for (; i < history.length && (history.t[i] as number) < end; i++) {
      const v = values[i] as number;
      if (Number.isFinite(v) && v >= 0) { sum += v; n++; }
    }
    if (n > 0) last = sum / n;
    t.push(start);
    y.push(last);
  }
  return { t, y };
}
