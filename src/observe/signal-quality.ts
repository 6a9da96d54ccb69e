import { isValidValue, type RawGrid, type SeriesLike } from './prometheus-convert.js';
import { JOB_STATUS_CODE, indexAtOrAfter, type SignalSample, type Signals } from './signals.js';

/**
 * Is the data good enough to act on? A pure check between reading the signals and deciding:
 * bad or missing data must never cause a rescale. Whatever is wrong, phoebe holds the current
 * parallelism, says why (readiness, `phoebe_hold{reason}`, logs) and resumes by itself once
 * the data is good again.
 *
 * Two inputs: the Signals (any source, the twin's too) and, from a Prometheus source, what the
 * raw query results showed before they were turned into Signals (how many series a query
 * returned, NaN answers, whether the job's uptime still advances, counter resets, the clock of
 * Prometheus), which the Signals no longer show.
 */

/** Every reason phoebe may hold for (a bounded label set). */
export const HOLD_REASONS = [
  /** The source could not be read: Prometheus down, refusing, answering errors. */
  'source_unavailable',
  /** The source did not answer in time (a slow or hung Prometheus). */
  'source_timeout',
  /** The source answered without the data needed (empty series, a signal unknown now). */
  'no_data',
  /** NaN, ±Inf or negative values where a number is needed. */
  'invalid_values',
  /** The newest data is old: no recent sample, or the job's uptime stopped advancing. */
  'stale',
  /** A query returned several series where one is expected. */
  'duplicate_series',
  /** The job restarted or was replaced, not by phoebe (numRestarts rose, uptime fell, counters restarted). */
  'job_restarted',
  /** phoebe's clock and the data's disagree (samples in the future, Prometheus's clock off). */
  'clock_skew',
] as const;

export type HoldReason = (typeof HOLD_REASONS)[number];

export interface QualityProblem {
  reason: HoldReason;
  /** What exactly is wrong, for the operator (readiness body, logs, status). */
  detail: string;
}

export interface QualityVerdict {
  ok: boolean;
  /** Distinct reasons, in HOLD_REASONS order. */
  reasons: HoldReason[];
  problems: QualityProblem[];
}

/** A restart or replacement of the job seen in the raw data. */
export interface JobEvent {
  /** Unix s (grid time) at which it shows. */
  t: number;
  /** restart: numRestarts rose; uptime-reset: uptime fell; counter-reset: a counter started again from 0 (a new job). */
  kind: 'restart' | 'uptime-reset' | 'counter-reset';
}

/** What a source knows about its data beyond the Signals; every field optional. */
export interface SourceQuality {
  /** Per query: the most series with a sample at one step in the last read (1 is expected). */
  seriesPerQuery?: Readonly<Record<string, number>>;
  /** Queries whose newest answer in the last read was NaN, ±Inf or negative. */
  invalidQueries?: readonly string[];
  /** The source's clock minus phoebe's (s), measured at the last read. */
  clockSkewSeconds?: number;
  /** Newest time (unix s) at which any query had data. */
  newestSampleTime?: number;
  /** The job's uptime has not advanced for this long up to now (s): the newest scrape is at least that old. */
  frozenSeconds?: number;
  /** How long uptime normally stays unchanged (about the scrape interval, with margin), s. */
  expectedFrozenSeconds?: number;
  /** Restarts and replacements of the job seen in the raw data, oldest first. */
  jobEvents?: readonly JobEvent[];
}

export interface QualityOptions {
  /** Newest data older than this (s) is stale. */
  staleAfterSeconds: number;
  /** Largest tolerated difference between the data's clock and phoebe's (s). */
  maxClockSkewSeconds: number;
  /** After a restart phoebe did not cause, hold this long (s): rates over windows spanning it are wrong. */
  settleSeconds: number;
  /** A restart or counter reset up to this long (s) after phoebe's own rescale ended is that rescale's. */
  ownRescaleGraceSeconds: number;
  /**
   * The same for a rise of numRestarts (or a RESTARTING spell), default ownRescaleGraceSeconds:
   * an in-place rescale restarts the job before phoebe sees it running at the new parallelism,
   * so the rise shows within a scrape or two of the rescale's end, not a minute after.
   */
  ownRestartGraceSeconds?: number;
}

export interface QualityInput {
  /** phoebe's clock, unix s. */
  now: number;
  /** The signals read; undefined when the read failed or returned nothing. */
  signals?: Signals | undefined;
  /** Why the read failed, if it did. */
  readError?: unknown;
  source?: SourceQuality | undefined;
  /** phoebe's own rescales (unix s, phoebe's clock), any order. */
  ownRescales?: readonly { start: number; end: number }[];
}

/** Signals a decision needs as numbers while the job runs. Latency is not among them: missing latency is no violation. */
export const REQUIRED_SIGNALS = ['arrivalRate', 'throughput', 'lag', 'busyTimeMsPerSecond', 'parallelism'] as const satisfies readonly (keyof SignalSample)[];
/** Queries whose newest answer must be a valid number (the raw counterparts of REQUIRED_SIGNALS plus the job's state). */
export const REQUIRED_QUERIES: readonly string[] = [...REQUIRED_SIGNALS, 'uptimeSeconds', 'numRestarts'];

/** A read that succeeded but found no samples of the job (held as no_data, not as an unavailable source). */
export class NoSignalsError extends Error {
  override readonly name = 'NoSignalsError';
  readonly kind = 'no_data';
}

function errorKind(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { kind?: unknown }).kind === 'string' ? (err as { kind: string }).kind : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function seconds(value: number): string {
  return `${Math.abs(value) >= 10 ? value.toFixed(0) : value.toFixed(1)} s`;
}

/** The verdict on one tick's data: ok, or every problem found with its reason. */
export function assessSignalQuality(input: QualityInput, options: QualityOptions): QualityVerdict {
  const problems: QualityProblem[] = [];
  const add = (reason: HoldReason, detail: string): void => { problems.push({ reason, detail }); };
  const { now, signals, source } = input;

  if (input.readError !== undefined) {
    const kind = errorKind(input.readError);
    if (kind === 'no_data') add('no_data', message(input.readError));
    else add(kind === 'timeout' ? 'source_timeout' : 'source_unavailable', `signal source failed: ${message(input.readError)}`);
  } else if (!signals) {
    add('no_data', 'the source returned no samples for the job');
  }

  if (source) {
    for (const [query, count] of Object.entries(source.seriesPerQuery ?? {})) {
      if (count > 1) add('duplicate_series', `query ${query} returned ${count} series at once, one expected`);
    }
    const invalid = (source.invalidQueries ?? []).filter((q) => REQUIRED_QUERIES.includes(q));
    if (invalid.length > 0) add('invalid_values', `newest answer is NaN, ±Inf or negative for ${invalid.join(', ')}`);
    if (source.clockSkewSeconds !== undefined && Math.abs(source.clockSkewSeconds) > options.maxClockSkewSeconds) {
      add('clock_skew', `the source's clock is ${seconds(Math.abs(source.clockSkewSeconds))} ${source.clockSkewSeconds > 0 ? 'ahead of' : 'behind'} phoebe's (limit ${options.maxClockSkewSeconds} s)`);
    }
    if (source.newestSampleTime !== undefined) {
      const age = now - source.newestSampleTime;
      if (age > options.staleAfterSeconds) add('stale', `newest sample is ${age.toFixed(0)} s old (limit ${options.staleAfterSeconds} s)`);
      else if (age < -options.maxClockSkewSeconds) add('clock_skew', `newest sample is ${seconds(-age)} in the future`);
    }
    if (source.frozenSeconds !== undefined && source.frozenSeconds > (source.expectedFrozenSeconds ?? options.staleAfterSeconds)) {
      add('stale', `the job's uptime has not advanced for ${seconds(source.frozenSeconds)}: no fresh scrape since`);
    }
  }

  if (signals) {
    const { latest, history } = signals;
    const age = now - latest.t;
    if (age > options.staleAfterSeconds) add('stale', `newest sample is ${age.toFixed(0)} s old (limit ${options.staleAfterSeconds} s)`);
    if (-age > options.maxClockSkewSeconds) add('clock_skew', `newest sample is ${seconds(-age)} in the future of phoebe's clock`);
    for (let i = Math.max(1, history.length - 600); i < history.length; i++) {
      if (!((history.t[i] as number) > (history.t[i - 1] as number))) {
        add('invalid_values', 'sample times do not increase');
        break;
      }
    }
    if (latest.status === 'RUNNING') {
      const unknown: string[] = [];
      const bad: string[] = [];
      for (const key of REQUIRED_SIGNALS) {
        const v = latest[key];
        if (Number.isNaN(v)) unknown.push(key);
        else if (!isValidValue(v)) bad.push(key);
      }
      if (latest.parallelism < 1 && !bad.includes('parallelism') && !unknown.includes('parallelism')) bad.push('parallelism');
      if (unknown.length > 0) add('no_data', `no current value for ${unknown.join(', ')}`);
      if (bad.length > 0) add('invalid_values', `invalid current value for ${bad.join(', ')}`);
    }
    const restart = unexplainedRestart(input, options);
    if (restart) add('job_restarted', restart);
  } else if (source?.jobEvents?.length) {
    const restart = unexplainedRestart(input, options);
    if (restart) add('job_restarted', restart);
  }

  const reasons = HOLD_REASONS.filter((r) => problems.some((p) => p.reason === r));
  return { ok: problems.length === 0, reasons, problems };
}

/** Grid times are aligned down to the step: an event of phoebe's rescale may show this much before it started. */
const OWN_RESCALE_EARLY_SECONDS = 5;
/** Evidence of one restart from two places arrives this far apart at most (a scrape or two). */
const SAME_RESTART_SECONDS = 10;

/** A restart as one piece of evidence shows it: the raw data, the restart counter, a RESTARTING spell. */
type Evidence = JobEvent & { origin: 'raw' | 'counter' | 'status' };

/**
 * Oldest first, one per restart: the same restart seen by two pieces of evidence (the counter
 * and a RESTARTING spell, or the history and the raw data) within a few seconds counts once;
 * two restarts seen by the same evidence are two.
 */
function distinctEvents(events: readonly Evidence[]): Evidence[] {
  const out: Evidence[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (!out.some((o) => o.kind === e.kind && o.origin !== e.origin && Math.abs(o.t - e.t) <= SAME_RESTART_SECONDS)) out.push(e);
  }
  return out;
}

/** The newest restart of the job within the settle window that phoebe's own rescales do not explain, described; undefined if none. */
function unexplainedRestart(input: QualityInput, options: QualityOptions): string | undefined {
  const since = input.now - options.settleSeconds;
  const events: Evidence[] = (input.source?.jobEvents ?? []).map((e) => ({ ...e, origin: 'raw' }));
  const history = input.signals?.history;
  if (history && history.length > 1) {
    // The Signals' own evidence (any source): the restart counter rose, or a RESTARTING spell.
    for (let i = Math.max(1, indexAtOrAfter(history, since)); i < history.length; i++) {
      const t = history.t[i] as number;
      if ((history.numRestarts[i] as number) > (history.numRestarts[i - 1] as number)) events.push({ t, kind: 'restart', origin: 'counter' });
      else if (history.status[i] === JOB_STATUS_CODE.RESTARTING && history.status[i - 1] !== JOB_STATUS_CODE.RESTARTING) events.push({ t, kind: 'restart', origin: 'status' });
    }
  }
  const own = input.ownRescales ?? [];
  // Scrapes lag behind: an event shows up to a grace period after the rescale that caused it.
  // But one rescale makes one restart of each kind (an in-place rescale raises numRestarts once,
  // a resubmission resets uptime and counters once): a second one in its grace period is a
  // failure — on a real cluster a TaskManager killed 42 s after a resubmission went unseen; and
  // a rise of numRestarts shows soon after the rescale that caused it (ownRestartGraceSeconds).
  const claimed = new Set<string>();
  const explained = (e: JobEvent): boolean => {
    const grace = e.kind === 'restart' ? (options.ownRestartGraceSeconds ?? options.ownRescaleGraceSeconds) : options.ownRescaleGraceSeconds;
    const k = own.findIndex((r, i) => !claimed.has(`${i}:${e.kind}`) && e.t >= r.start - OWN_RESCALE_EARLY_SECONDS && e.t <= r.end + grace);
    if (k < 0) return false;
    claimed.add(`${k}:${e.kind}`);
    return true;
  };
  let newest: JobEvent | undefined;
  for (const e of distinctEvents(events)) {
    if (e.t <= since || explained(e)) continue;
    if (!newest || e.t > newest.t) newest = e;
  }
  if (!newest) return undefined;
  const what = newest.kind === 'restart' ? 'the job restarted (numRestarts rose)' : newest.kind === 'uptime-reset' ? 'the job\'s uptime fell (restarted)' : 'the job\'s counters restarted from zero (a new job)';
  const left = newest.t + options.settleSeconds - input.now;
  return `${what} ${seconds(Math.max(0, input.now - newest.t))} ago, not by phoebe; holding ${seconds(Math.max(0, left))} more until rates settle`;
}

/** How one query's answer looks before it is placed on the grid. */
export interface SeriesStats {
  /** The most series with a sample at one grid step. */
  maxSeries: number;
  /** Grid index of the newest step with any sample (−1 when none). */
  newestIndex: number;
  /** A sample at that newest step was NaN, ±Inf or negative. */
  newestInvalid: boolean;
}

/** Series count and validity of a range query's answer over grid points start, start + step, … (length points). */
export function seriesStats(series: readonly SeriesLike[], start: number, step: number, length: number): SeriesStats {
  let maxSeries = 0;
  let newestIndex = -1;
  let newestInvalid = false;
  if (series.length > 1) {
    const counts = new Uint16Array(length);
    for (const s of series) {
      for (const point of s.values) {
        const i = Math.round(((typeof point.time === 'number' ? point.time : point.time.getTime() / 1000) - start) / step);
        if (i >= 0 && i < length && ++counts[i]! > maxSeries) maxSeries = counts[i]!;
      }
    }
  } else if (series.length === 1 && (series[0]?.values.length ?? 0) > 0) {
    maxSeries = 1;
  }
  for (const s of series) {
    for (const point of s.values) {
      const i = Math.round(((typeof point.time === 'number' ? point.time : point.time.getTime() / 1000) - start) / step);
      if (i < 0 || i >= length) continue;
      if (i > newestIndex) {
        newestIndex = i;
        newestInvalid = !isValidValue(point.value);
      } else if (i === newestIndex && !isValidValue(point.value)) {
        newestInvalid = true;
      }
    }
  }
  return { maxSeries, newestIndex, newestInvalid };
}

const MAX_EVENTS = 32;
const MAX_RUNS = 200;

/**
 * What the raw grid shows about the job beyond the Signals: restarts and counter resets, and
 * whether its uptime still advances (Prometheus fills a step with the last sample for minutes
 * after scrapes stop, e.g. after its own restart, so stale values look current otherwise).
 */
export function rawGridQuality(raw: RawGrid): Pick<SourceQuality, 'frozenSeconds' | 'expectedFrozenSeconds' | 'jobEvents' | 'newestSampleTime'> {
  const { uptimeSeconds: up, numRestarts: restarts, completedCheckpoints: checkpoints } = raw.columns;
  const events: JobEvent[] = [];
  const push = (t: number, kind: JobEvent['kind']): void => {
    const last = events[events.length - 1];
    if (last && last.t === t) {
      // One event per step; a rising restart counter says most (a failure, not a replacement).
      if (kind === 'restart') last.kind = kind;
      return;
    }
    events.push({ t, kind });
    if (events.length > MAX_EVENTS) events.shift();
  };
  const runs: number[] = [];
  let lastUp = Number.NaN;
  let runStart = -1;
  let lastRestarts = Number.NaN;
  let lastCheckpoints = Number.NaN;
  let newest = -1;
  for (let i = 0; i < raw.length; i++) {
    const t = raw.start + i * raw.step;
    const u = up[i] as number;
    if (!Number.isNaN(u)) {
      newest = i;
      if (u < lastUp) push(t, 'uptime-reset');
      if (!(u > 0 && u === lastUp)) {
        // A run of one uptime value ends: its length is how long one scrape stays the newest.
        if (runStart >= 0 && lastUp > 0) {
          runs.push(i - runStart);
          if (runs.length > MAX_RUNS) runs.shift();
        }
        runStart = i;
      }
      lastUp = u;
    }
    const r = restarts[i] as number;
    if (!Number.isNaN(r)) {
      newest = i;
      if (r > lastRestarts) push(t, 'restart');
      else if (r < lastRestarts) push(t, 'counter-reset');
      lastRestarts = r;
    }
    const c = checkpoints[i] as number;
    if (!Number.isNaN(c)) {
      newest = i;
      if (c < lastCheckpoints) push(t, 'counter-reset');
      lastCheckpoints = c;
    }
    if (newest < i) {
      for (const column of Object.values(raw.columns)) {
        if (!Number.isNaN(column[i] as number)) { newest = i; break; }
      }
    }
  }
  const result: ReturnType<typeof rawGridQuality> = { jobEvents: events };
  if (newest >= 0) result.newestSampleTime = raw.start + newest * raw.step;
  if (lastUp > 0 && runStart >= 0) {
    // Up to the newest step: an uptime that vanished while the job ran has not advanced either.
    result.frozenSeconds = (raw.length - 1 - runStart) * raw.step;
    const sorted = [...runs].sort((a, b) => a - b);
    const typical = sorted.length > 0 ? (sorted[Math.floor(sorted.length / 2)] as number) : 0;
    // Scrapes land a step early or late: a few scrape intervals of margin, at least five steps.
    result.expectedFrozenSeconds = Math.max(5, 3 * typical) * raw.step;
  }
  return result;
}
