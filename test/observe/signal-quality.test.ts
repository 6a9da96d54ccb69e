import { describe, expect, it } from 'vitest';
import { PrometheusError } from '../../src/observe/prometheus-client.js';
import { assembleHistory, emptyRawGrid, toSignals } from '../../src/observe/prometheus-convert.js';
import type { QueryKey } from '../../src/observe/promql-catalogue.js';
import {
  assessSignalQuality, HOLD_REASONS, NoSignalsError, rawGridQuality, seriesStats,
  type QualityInput, type QualityOptions, type SourceQuality,
} from '../../src/observe/signal-quality.js';
import { JOB_STATUS_CODE, type SignalHistory } from '../../src/observe/signals.js';
import { history } from '../support/twin-history.js';

const T0 = 1_700_000_000;
const N = 600;
const NOW = T0 + N - 1;
const _ = Number.NaN;

const options: QualityOptions = { staleAfterSeconds: 90, maxClockSkewSeconds: 10, settleSeconds: 120, ownRescaleGraceSeconds: 60 };

type Columns = Parameters<typeof history>[1];

/** Ten minutes of a healthy job at p = 4, one sample per second ending at NOW; columns overridable per second. */
function healthy(overrides: Columns = {}): SignalHistory {
  return history(N, {
    t: (i) => T0 + i,
    arrivalRate: () => 3000, throughput: () => 3000, lag: () => 100, busyTimeMsPerSecond: () => 700,
    latencySeconds: () => 0.3, parallelism: () => 4, numRestarts: () => 2,
    ...overrides,
  });
}

function check(input: Partial<QualityInput> & { h?: SignalHistory } = {}) {
  const { h, ...rest } = input;
  const signals = 'signals' in input ? input.signals : toSignals(h ?? healthy());
  return assessSignalQuality({ now: NOW, signals, ...rest }, options);
}

const last = (value: number, otherwise: number) => (i: number) => (i === N - 1 ? value : otherwise);

describe('assessSignalQuality', () => {
  it('passes good data', () => {
    expect(check()).toEqual({ ok: true, reasons: [], problems: [] });
    // A healthy Prometheus source too.
    const source: SourceQuality = {
      seriesPerQuery: { arrivalRate: 1, lag: 1 }, invalidQueries: [], clockSkewSeconds: 0.2, newestSampleTime: NOW,
      frozenSeconds: 1, expectedFrozenSeconds: 5, jobEvents: [{ t: T0 - 3600, kind: 'restart' }],
    };
    expect(check({ source }).ok).toBe(true);
  });

  it('holds when the source is down or slow', () => {
    const down = check({ signals: undefined, readError: new PrometheusError('network', 'cannot reach Prometheus at http://127.0.0.1:9090 (ECONNREFUSED)') });
    expect(down.reasons).toEqual(['source_unavailable']);
    expect(down.problems[0]?.detail).toContain('ECONNREFUSED');
    expect(check({ signals: undefined, readError: new PrometheusError('http', 'answered HTTP 503', 503) }).reasons).toEqual(['source_unavailable']);
    expect(check({ signals: undefined, readError: new Error('socket hang up') }).reasons).toEqual(['source_unavailable']);
    const slow = check({ signals: undefined, readError: new PrometheusError('timeout', 'Prometheus did not answer within 5 s') });
    expect(slow.reasons).toEqual(['source_timeout']);
  });

  it('holds on empty answers: no samples at all, or a required signal unknown now', () => {
    expect(check({ signals: undefined }).reasons).toEqual(['no_data']);
    expect(check({ signals: undefined, readError: new NoSignalsError('Prometheus returned no samples for the job yet') }).reasons).toEqual(['no_data']);
    for (const column of ['arrivalRate', 'throughput', 'lag', 'busyTimeMsPerSecond', 'parallelism'] as const) {
      const verdict = check({ h: healthy({ [column]: last(_, column === 'parallelism' ? 4 : 100) }) });
      expect(verdict.reasons, column).toEqual(['no_data']);
      expect(verdict.problems[0]?.detail).toContain(column);
    }
  });

  it('does not hold for a missing latency (missing data is no violation) nor for unknown values while the job is down', () => {
    expect(check({ h: healthy({ latencySeconds: () => _ }) }).ok).toBe(true);
    const down = healthy({ status: last(JOB_STATUS_CODE.RESCALING, JOB_STATUS_CODE.RUNNING), throughput: last(_, 3000), parallelism: last(_, 4) });
    expect(check({ h: down }).ok).toBe(true);
  });

  it('holds on NaN, ±Inf and negative values', () => {
    expect(check({ h: healthy({ arrivalRate: last(Number.POSITIVE_INFINITY, 3000) }) }).reasons).toEqual(['invalid_values']);
    expect(check({ h: healthy({ lag: last(Number.NEGATIVE_INFINITY, 100) }) }).reasons).toEqual(['invalid_values']);
    expect(check({ h: healthy({ throughput: last(-5, 3000) }) }).reasons).toEqual(['invalid_values']);
    expect(check({ h: healthy({ parallelism: last(0, 4) }) }).reasons).toEqual(['invalid_values']);
    // Prometheus answered NaN for a required query (the Signals carry the last good value over it).
    const nan = check({ source: { invalidQueries: ['arrivalRate', 'busyTimeMsPerSecond'] } });
    expect(nan.reasons).toEqual(['invalid_values']);
    expect(nan.problems[0]?.detail).toContain('arrivalRate, busyTimeMsPerSecond');
    // Not for a query a decision does not need.
    expect(check({ source: { invalidQueries: ['latencySeconds', 'lastCheckpointDurationSeconds'] } }).ok).toBe(true);
    // Sample times that do not increase.
    expect(check({ h: healthy({ t: (i) => (i === N - 2 ? T0 + N : T0 + i) }) }).reasons).toContain('invalid_values');
  });

  it('holds on stale samples: old newest sample, or an uptime that stopped advancing', () => {
    const old = check({ h: healthy({ t: (i) => T0 - 300 + i }) });
    expect(old.reasons).toEqual(['stale']);
    expect(old.problems[0]?.detail).toBe('newest sample is 300 s old (limit 90 s)');
    expect(check({ source: { newestSampleTime: NOW - 200 } }).reasons).toEqual(['stale']);
    // Prometheus repeats the last sample for minutes after scrapes stop: uptime frozen for 25 s.
    const frozen = check({ source: { frozenSeconds: 25, expectedFrozenSeconds: 5 } });
    expect(frozen.reasons).toEqual(['stale']);
    expect(frozen.problems[0]?.detail).toContain('uptime has not advanced for 25 s');
    expect(check({ source: { frozenSeconds: 4, expectedFrozenSeconds: 5 } }).ok).toBe(true);
  });

  it('holds on clock skew: samples in the future, or Prometheus\'s clock off', () => {
    const future = check({ h: healthy({ t: (i) => T0 + 60 + i }) });
    expect(future.reasons).toEqual(['clock_skew']);
    expect(future.problems[0]?.detail).toContain('60 s in the future');
    expect(check({ h: healthy({ t: (i) => T0 + 5 + i }) }).ok).toBe(true);
    expect(check({ source: { clockSkewSeconds: -45 } }).problems[0]?.detail).toContain('45 s behind');
    expect(check({ source: { clockSkewSeconds: 30 } }).reasons).toEqual(['clock_skew']);
    expect(check({ source: { newestSampleTime: NOW + 30 } }).reasons).toEqual(['clock_skew']);
  });

  it('holds when a query returns several series where one is expected', () => {
    const verdict = check({ source: { seriesPerQuery: { arrivalRate: 1, parallelism: 2 } } });
    expect(verdict.reasons).toEqual(['duplicate_series']);
    expect(verdict.problems[0]?.detail).toBe('query parallelism returned 2 series at once, one expected');
  });

  it('holds for a settle time after a restart phoebe did not cause, and not after its own', () => {
    // numRestarts rose 60 s ago (a failure): hold until 120 s after it.
    const failed = healthy({ numRestarts: (i) => (i >= N - 60 ? 3 : 2) });
    const verdict = check({ h: failed });
    expect(verdict.reasons).toEqual(['job_restarted']);
    expect(verdict.problems[0]?.detail).toBe('the job restarted (numRestarts rose) 59 s ago, not by phoebe; holding 61 s more until rates settle');
    expect(assessSignalQuality({ now: NOW + 61, signals: toSignals(failed) }, options).ok).toBe(true);
    // Long ago: settled.
    expect(check({ h: healthy({ numRestarts: (i) => (i >= 100 ? 3 : 2) }) }).ok).toBe(true);
    // A RESTARTING spell on its own (the counter not scraped yet) counts too.
    const restarting = healthy({ status: (i) => (i >= N - 30 && i < N - 20 ? JOB_STATUS_CODE.RESTARTING : JOB_STATUS_CODE.RUNNING) });
    expect(check({ h: restarting }).reasons).toEqual(['job_restarted']);
    // Uptime reset and counters restarted from 0 (a new job id): from the raw data.
    expect(check({ source: { jobEvents: [{ t: NOW - 10, kind: 'uptime-reset' }] } }).reasons).toEqual(['job_restarted']);
    const replaced = check({ source: { jobEvents: [{ t: NOW - 10, kind: 'counter-reset' }] } });
    expect(replaced.problems[0]?.detail).toContain('a new job');
    // phoebe's own rescale (a resubmission resets every counter): expected, up to the grace period after it ended.
    const own = [{ start: NOW - 40, end: NOW - 30 }];
    expect(check({ source: { jobEvents: [{ t: NOW - 35, kind: 'counter-reset' }, { t: NOW - 5, kind: 'uptime-reset' }] }, ownRescales: own }).ok).toBe(true);
    expect(check({ h: healthy({ numRestarts: (i) => (i >= N - 35 ? 3 : 2) }), ownRescales: own }).ok).toBe(true);
    expect(check({ source: { jobEvents: [{ t: NOW - 50, kind: 'uptime-reset' }] }, ownRescales: own }).reasons).toEqual(['job_restarted']);
    // One rescale explains one restart of each kind: a failure in its grace period still holds
    // (an in-place rescale raised numRestarts at NOW − 35; a TaskManager died at NOW − 15).
    const twice = healthy({ numRestarts: (i) => (i >= N - 15 ? 4 : i >= N - 35 ? 3 : 2) });
    expect(check({ h: twice, ownRescales: own }).reasons).toEqual(['job_restarted']);
    // A resubmission (counters and uptime reset, no rise of numRestarts) does not explain a rise
    // of numRestarts 42 s after it ended: the rise of an in-place rescale shows within a scrape.
    const resubmitted = [{ start: NOW - 60, end: NOW - 50 }];
    const killed = healthy({ numRestarts: (i) => (i >= N - 8 ? 3 : 2) });
    expect(check({ h: killed, ownRescales: resubmitted }).ok).toBe(true);
    expect(assessSignalQuality({ now: NOW, signals: toSignals(killed), ownRescales: resubmitted }, { ...options, ownRestartGraceSeconds: 15 }).reasons).toEqual(['job_restarted']);
    // The same restart seen as the counter and as a RESTARTING spell is one restart.
    const seenTwice = healthy({
      numRestarts: (i) => (i >= N - 35 ? 3 : 2),
      status: (i) => (i >= N - 37 && i < N - 33 ? JOB_STATUS_CODE.RESTARTING : JOB_STATUS_CODE.RUNNING),
    });
    expect(check({ h: seenTwice, ownRescales: own }).ok).toBe(true);
    // Also while the read fails.
    expect(check({ signals: undefined, readError: new Error('down'), source: { jobEvents: [{ t: NOW - 5, kind: 'restart' }] } }).reasons)
      .toEqual(['source_unavailable', 'job_restarted']);
  });

  it('reports every problem at once, reasons in a fixed order from a bounded set', () => {
    const verdict = check({
      h: healthy({ arrivalRate: last(_, 3000), numRestarts: (i) => (i >= N - 10 ? 3 : 2) }),
      source: { seriesPerQuery: { lag: 3 }, clockSkewSeconds: 100 },
    });
    expect(verdict.reasons).toEqual(['no_data', 'duplicate_series', 'job_restarted', 'clock_skew']);
    expect(verdict.reasons.every((r) => HOLD_REASONS.includes(r))).toBe(true);
    expect(HOLD_REASONS.length).toBe(8);
  });
});

describe('seriesStats', () => {
  it('counts series that answer at the same step; a series replaced by another is one', () => {
    const a = { values: [0, 1, 2].map((k) => ({ time: T0 + k, value: 1 })) };
    const b = { values: [2, 3].map((k) => ({ time: T0 + k, value: 1 })) };
    expect(seriesStats([a, b], T0, 1, 4).maxSeries).toBe(2);
    const c = { values: [3].map((k) => ({ time: T0 + k, value: 1 })) };
    expect(seriesStats([a, c], T0, 1, 4).maxSeries).toBe(1);
    expect(seriesStats([], T0, 1, 4)).toEqual({ maxSeries: 0, newestIndex: -1, newestInvalid: false });
  });

  it('tells whether the newest answer is NaN, ±Inf or negative', () => {
    const series = (values: number[]) => [{ values: values.map((value, k) => ({ time: new Date((T0 + k) * 1000), value })) }];
    expect(seriesStats(series([1, Number.NaN, 2]), T0, 1, 3)).toEqual({ maxSeries: 1, newestIndex: 2, newestInvalid: false });
    expect(seriesStats(series([1, 2, Number.NaN]), T0, 1, 3).newestInvalid).toBe(true);
    expect(seriesStats(series([1, 2, Number.POSITIVE_INFINITY]), T0, 1, 3).newestInvalid).toBe(true);
    expect(seriesStats(series([1, 2, -1]), T0, 1, 3).newestInvalid).toBe(true);
  });
});

/** A raw grid at 1 s from per-key columns (missing keys all NaN). */
function grid(columns: Partial<Record<QueryKey, number[]>>) {
  const length = Math.max(...Object.values(columns).map((c) => c.length));
  const g = emptyRawGrid(T0, 1, length);
  for (const [key, values] of Object.entries(columns)) g.columns[key as QueryKey].set(values);
  return g;
}

describe('rawGridQuality', () => {
  it('finds restarts, uptime resets and counters restarting from zero (a new job)', () => {
    const g = grid({
      uptimeSeconds: [10, 11, 12, 0, 0, 1, 2, 3, _, _, 1, 2],
      numRestarts: [1, 1, 1, 2, 2, 2, 2, 2, _, _, 0, 0],
      completedCheckpoints: [5, 5, 6, 6, 6, 6, 7, 7, _, _, 0, 1],
    });
    expect(rawGridQuality(g).jobEvents).toEqual([
      { t: T0 + 3, kind: 'restart' },
      { t: T0 + 10, kind: 'uptime-reset' },
    ]);
    const restartsOnly = grid({ numRestarts: [1, 1, 2, 2, 0], completedCheckpoints: [5, 6, 6, 3, 3] });
    expect(rawGridQuality(restartsOnly).jobEvents).toEqual([
      { t: T0 + 2, kind: 'restart' }, { t: T0 + 3, kind: 'counter-reset' }, { t: T0 + 4, kind: 'counter-reset' },
    ]);
  });

  it('measures how long the uptime has not advanced against how long one scrape usually lasts', () => {
    // Scraped every 2 s, then nothing new for 9 s (Prometheus repeating the last sample).
    const g = grid({ uptimeSeconds: [1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9], arrivalRate: new Array(18).fill(5) });
    const q = rawGridQuality(g);
    expect(q.frozenSeconds).toBe(9);
    expect(q.expectedFrozenSeconds).toBe(6);
    expect(q.newestSampleTime).toBe(T0 + 17);
    // Advancing every step: nothing frozen; a job that is down (uptime 0) is never frozen.
    expect(rawGridQuality(grid({ uptimeSeconds: [1, 2, 3, 4] })).frozenSeconds).toBe(0);
    // Vanished while the job ran (nothing scraped since): frozen up to the newest step.
    expect(rawGridQuality(grid({ uptimeSeconds: [1, 2, 3, _, _, _, _, _], arrivalRate: new Array(8).fill(1) })).frozenSeconds).toBe(5);
    expect(rawGridQuality(grid({ uptimeSeconds: [1, 2, 0, 0, 0, 0, 0, 0, 0, 0] })).frozenSeconds).toBeUndefined();
    expect(rawGridQuality(emptyRawGrid(T0, 1, 3))).toEqual({ jobEvents: [] });
  });

  it('sees no event in a job whose counters only rise, and the Signals hide a reset (monotone counters)', () => {
    const g = grid({ uptimeSeconds: [1, 2, 3, 4, 5, 6], numRestarts: [0, 0, 0, 0, 0, 0], completedCheckpoints: [1, 1, 2, 2, 3, 3], parallelism: [2, 2, 2, 2, 2, 2] });
    expect(rawGridQuality(g).jobEvents).toEqual([]);
    const reset = grid({ uptimeSeconds: [5, 6, 7, 1, 2, 3], numRestarts: [4, 4, 4, 0, 0, 0], parallelism: [2, 2, 2, 2, 2, 2] });
    const h = assembleHistory(reset, { carryForwardSeconds: 5 });
    expect(Array.from(h.numRestarts)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(rawGridQuality(reset).jobEvents).toEqual([{ t: T0 + 3, kind: 'uptime-reset' }]);
  });
});
