import { QUERY_KEYS, type QueryKey } from './promql-catalogue.js';
import { JOB_STATUS_BY_CODE, JOB_STATUS_CODE, type SignalHistory, type SignalSample, type Signals } from './signals.js';

/**
 * Pure conversion from Prometheus query results to phoebe's SignalHistory: chunking of range
 * reads, alignment onto a step grid, gap handling, counter resets and the job status. No I/O.
 */

/** Prometheus refuses range queries with more points than this per series. */
export const PROMETHEUS_MAX_POINTS = 11_000;

/** One sample as a query result gives it: time as a Date or unix seconds. */
export interface SamplePoint {
  time: Date | number;
  value: number;
}
export interface SeriesLike {
  values: readonly SamplePoint[];
}

/** An inclusive range of grid times, unix seconds. */
export interface TimeRange {
  start: number;
  end: number;
}

export function alignDown(t: number, step: number): number {
  return Math.floor(t / step) * step;
}

export function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

/**
 * Splits [start, end] (grid times, inclusive) into consecutive ranges of at most maxPoints
 * points each, so every range query stays under Prometheus's per-series point limit.
 */
export function chunkRange(start: number, end: number, step: number, maxPoints = PROMETHEUS_MAX_POINTS): TimeRange[] {
  if (!(step > 0)) throw new RangeError('step must be positive');
  if (!(maxPoints >= 1)) throw new RangeError('maxPoints must be ≥ 1');
  const chunks: TimeRange[] = [];
  const span = (Math.floor(maxPoints) - 1) * step;
  for (let s = start; s <= end; s += span + step) chunks.push({ start: s, end: Math.min(end, s + span) });
  return chunks;
}

/** How several series of one query are combined per step (a query should return one). */
export const QUERY_AGGREGATION: Readonly<Record<QueryKey, 'sum' | 'max'>> = {
  arrivalRate: 'sum', throughput: 'sum', lag: 'sum',
  busyTimeMsPerSecond: 'max', backPressuredTimeMsPerSecond: 'max', latencySeconds: 'max',
  parallelism: 'max', numRestarts: 'max', uptimeSeconds: 'max', completedCheckpoints: 'max',
  lastCheckpointDurationSeconds: 'max',
};

function seconds(time: Date | number): number {
  return typeof time === 'number' ? time : time.getTime() / 1000;
}

/** NaN, ±Inf and negative values are not observations: they become gaps. */
export function isValidValue(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * Places the samples of a query result on the grid start, start + step, … (length points):
 * NaN where no series has a valid value. Samples off the grid go to the nearest point.
 */
export function seriesToGrid(
  series: readonly SeriesLike[], start: number, step: number, length: number, aggregation: 'sum' | 'max',
  into: Float64Array = new Float64Array(length).fill(Number.NaN), offset = 0,
): Float64Array {
  for (const s of series) {
    for (const point of s.values) {
      const value = point.value;
      if (!isValidValue(value)) continue;
      const i = Math.round((seconds(point.time) - start) / step);
      if (i < 0 || i >= length) continue;
      const k = offset + i;
      const old = into[k] as number;
      if (Number.isNaN(old)) into[k] = value;
      else into[k] = aggregation === 'sum' ? old + value : Math.max(old, value);
    }
  }
  return into;
}

/** Raw query values on a step grid, NaN where a query had no valid value. */
export interface RawGrid {
  /** Time of the first point, unix seconds (a multiple of step). */
  start: number;
  step: number;
  length: number;
  columns: Readonly<Record<QueryKey, ArrayLike<number>>>;
}

export function emptyRawGrid(start: number, step: number, length: number): RawGrid & { columns: Record<QueryKey, Float64Array> } {
  const columns = Object.fromEntries(QUERY_KEYS.map((k) => [k, new Float64Array(length).fill(Number.NaN)])) as Record<QueryKey, Float64Array>;
  return { start, step, length, columns };
}

export interface AssembleOptions {
  /** A value is carried forward over a gap for at most this long (s); beyond, the column is NaN. */
  carryForwardSeconds: number;
}

export interface AssembledHistory extends SignalHistory {
  readonly t: Float64Array;
  readonly arrivalRate: Float64Array;
  readonly throughput: Float64Array;
  readonly lag: Float64Array;
  readonly busyTimeMsPerSecond: Float64Array;
  readonly backPressuredTimeMsPerSecond: Float64Array;
  readonly latencySeconds: Float64Array;
  readonly parallelism: Float64Array;
  readonly checkpointAgeSeconds: Float64Array;
  readonly numRestarts: Float64Array;
  readonly status: Float64Array;
}

/** Fills gaps of at most maxSteps with the last valid value; longer gaps stay NaN from there on. */
export function carryForward(values: ArrayLike<number>, maxSteps: number): Float64Array {
  const out = new Float64Array(values.length);
  let last = Number.NaN;
  let lastIndex = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) {
      out[i] = v;
      last = v;
      lastIndex = i;
    } else {
      out[i] = i - lastIndex <= maxSteps ? last : Number.NaN;
    }
  }
  return out;
}

/**
 * A counter made monotone across resets (a resubmitted job counts from 0 again): each drop adds
 * the value before it to an offset, as Prometheus's increase() does. Gaps carry the last value
 * forward indefinitely (a counter's value stays true); before the first value, the first value.
 */
export function monotoneCounter(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  let first = Number.NaN;
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(values[i] as number)) { first = values[i] as number; break; }
  }
  if (Number.isNaN(first)) return out.fill(Number.NaN);
  let offset = 0;
  let lastRaw = first;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) {
      if (v < lastRaw) offset += lastRaw;
      lastRaw = v;
    }
    out[i] = lastRaw + offset;
  }
  return out;
}

/**
 * Whether the job runs at each step. Uptime > 0 means RUNNING, a valid 0 means not. Where uptime
 * is missing (a failed JobManager scrape, a cancelled job), the last state is kept for a short
 * gap while the source tasks still report (or nothing reports at all: a scrape gap); otherwise
 * the job is not running — its metrics vanished because it was stopped.
 */
export function runningSteps(raw: RawGrid, carrySteps: number): Uint8Array {
  const { uptimeSeconds: uptime, parallelism } = raw.columns;
  const running = new Uint8Array(raw.length);
  let lastKnown = Number.NEGATIVE_INFINITY;
  let lastState = 0;
  for (let i = 0; i < raw.length; i++) {
    const u = uptime[i] as number;
    if (!Number.isNaN(u)) {
      lastState = u > 0 ? 1 : 0;
      lastKnown = i;
      running[i] = lastState;
      continue;
    }
    const tasksReport = !Number.isNaN(parallelism[i] as number);
    const silent = QUERY_KEYS.every((k) => Number.isNaN(raw.columns[k][i] as number));
    running[i] = i - lastKnown <= carrySteps && (tasksReport || silent) ? lastState : 0;
  }
  return running;
}

/**
 * Status per step: RUNNING, else a not-running spell is RESTARTING when the restart counter rose
 * from just before the spell to (shortly after) its end, RESCALING otherwise.
 */
export function statusCodes(running: Uint8Array, restarts: ArrayLike<number>, lateSteps: number): Float64Array {
  const n = running.length;
  const status = new Float64Array(n).fill(JOB_STATUS_CODE.RUNNING);
  let i = 0;
  while (i < n) {
    if (running[i]) { i++; continue; }
    const a = i;
    while (i < n && !running[i]) i++;
    const b = i - 1;
    const before = restarts[Math.max(0, a - 1)] as number;
    // Late scrapes of the counter: look a little past the end, but not into the next spell.
    let limit = Math.min(n - 1, b + lateSteps);
    for (let k = b + 1; k <= limit; k++) {
      if (!running[k]) { limit = k - 1; break; }
    }
    let restarted = false;
    for (let k = a; k <= limit; k++) {
      if ((restarts[k] as number) > before) { restarted = true; break; }
    }
    status.fill(restarted ? JOB_STATUS_CODE.RESTARTING : JOB_STATUS_CODE.RESCALING, a, b + 1);
  }
  return status;
}

/**
 * Seconds since the state of the last completed checkpoint: time since the completed-checkpoint
 * counter last rose, plus that checkpoint's duration (its barrier was injected that much
 * earlier). Before the first rise seen, a lower bound: time since the history starts. NaN
 * without any checkpoint counter.
 */
export function checkpointAge(t: ArrayLike<number>, completed: ArrayLike<number>, durationSeconds: ArrayLike<number>): Float64Array {
  const n = t.length;
  const age = new Float64Array(n);
  let lastCompletion = n > 0 ? (t[0] as number) : 0;
  let duration = 0;
  for (let i = 0; i < n; i++) {
    const c = completed[i] as number;
    if (Number.isNaN(c)) { age[i] = Number.NaN; continue; }
    if (i > 0 && c > (completed[i - 1] as number)) lastCompletion = t[i] as number;
    const d = durationSeconds[i] as number;
    if (!Number.isNaN(d)) duration = d;
    age[i] = (t[i] as number) - lastCompletion + duration;
  }
  return age;
}

/**
 * The SignalHistory of a raw grid: one sample per step. Values are carried over short gaps;
 * while the job is not running, missing throughput, busy and back-pressure are 0 (nothing is
 * processed); the counters are monotone across resets; NaN marks what is unknown.
 */
export function assembleHistory(raw: RawGrid, options: AssembleOptions): AssembledHistory {
  const n = raw.length;
  const carrySteps = Math.floor(options.carryForwardSeconds / raw.step);
  const c = raw.columns;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = raw.start + i * raw.step;

  const running = runningSteps(raw, carrySteps);
  const numRestarts = monotoneCounter(c.numRestarts);
  const status = statusCodes(running, numRestarts, carrySteps);

  const carried = (key: QueryKey) => carryForward(c[key], carrySteps);
  const idleWhenDown = (key: QueryKey) => {
    const out = carried(key);
    for (let i = 0; i < n; i++) {
      if (!running[i] && Number.isNaN(c[key][i] as number)) out[i] = 0;
    }
    return out;
  };

  const completed = monotoneCounter(c.completedCheckpoints);
  return {
    length: n,
    t,
    arrivalRate: carried('arrivalRate'),
    throughput: idleWhenDown('throughput'),
    lag: carried('lag'),
    busyTimeMsPerSecond: idleWhenDown('busyTimeMsPerSecond'),
    backPressuredTimeMsPerSecond: idleWhenDown('backPressuredTimeMsPerSecond'),
    latencySeconds: carried('latencySeconds'),
    parallelism: carried('parallelism'),
    checkpointAgeSeconds: checkpointAge(t, completed, carried('lastCheckpointDurationSeconds')),
    numRestarts: Number.isNaN(numRestarts[0] as number) ? new Float64Array(n) : numRestarts,
    status,
  };
}

/** The sample at index i of a history. */
export function sampleAt(history: SignalHistory, i: number): SignalSample {
  const at = (column: ArrayLike<number>) => column[i] as number;
  return {
    t: at(history.t),
    arrivalRate: at(history.arrivalRate),
    throughput: at(history.throughput),
    lag: at(history.lag),
    busyTimeMsPerSecond: at(history.busyTimeMsPerSecond),
    backPressuredTimeMsPerSecond: at(history.backPressuredTimeMsPerSecond),
    latencySeconds: at(history.latencySeconds),
    parallelism: at(history.parallelism),
    checkpointAgeSeconds: at(history.checkpointAgeSeconds),
    status: JOB_STATUS_BY_CODE[at(history.status)] ?? 'RUNNING',
    numRestarts: at(history.numRestarts),
  };
}

/** Signals of a non-empty history: the newest sample and the history. */
export function toSignals(history: SignalHistory): Signals {
  if (history.length === 0) throw new RangeError('empty history');
  return { latest: sampleAt(history, history.length - 1), history };
}

/** Index of the first grid point at which any query had a valid value; raw.length if none. */
export function firstDataIndex(raw: RawGrid): number {
  for (let i = 0; i < raw.length; i++) {
    if (QUERY_KEYS.some((k) => !Number.isNaN(raw.columns[k][i] as number))) return i;
  }
  return raw.length;
}

/** The grid from index `from` on (views, no copies). */
export function sliceRawGrid(raw: RawGrid & { columns: Record<QueryKey, Float64Array> }, from: number): RawGrid {
  const columns = Object.fromEntries(QUERY_KEYS.map((k) => [k, raw.columns[k].subarray(from)])) as Record<QueryKey, Float64Array>;
  return { start: raw.start + from * raw.step, step: raw.step, length: Math.max(0, raw.length - from), columns };
}

/** Unix time of the newest grid point at which any query had a valid value; undefined if none. */
export function newestDataTime(raw: RawGrid): number | undefined {
  for (let i = raw.length - 1; i >= 0; i--) {
    if (QUERY_KEYS.some((k) => !Number.isNaN(raw.columns[k][i] as number))) return raw.start + i * raw.step;
  }
  return undefined;
}
