import { createPrometheusClient, PrometheusError, type PrometheusClient } from './prometheus-client.js';
import {
  alignDown, assembleHistory, chunkRange, emptyRawGrid, firstDataIndex, newestDataTime, PROMETHEUS_MAX_POINTS, QUERY_AGGREGATION,
  seriesToGrid, sliceRawGrid, toSignals, type RawGrid,
} from './prometheus-convert.js';
import { QUERY_KEYS, type QueryKey, type QuerySet } from './promql-catalogue.js';
import { rawGridQuality, seriesStats, type SourceQuality } from './signal-quality.js';
import type { Signals } from './signals.js';

export { PrometheusError } from './prometheus-client.js';

/**
 * Signals from Prometheus: backfills the configured history at start with chunked range
 * queries, then each decision reads only what is new (plus a short overlap for late scrapes),
 * and assembles a SignalHistory with one sample per step.
 */

export interface PrometheusSourceOptions {
  client: PrometheusClient;
  /** The PromQL of every signal. */
  queries: QuerySet;
  /** Grid step (s), ≥ 1. */
  stepSeconds: number;
  /** History kept and read at start (s). */
  backfillSeconds: number;
  /** Longest gap a value is carried over (s). */
  carryForwardSeconds: number;
  /** Points per range query and series; Prometheus refuses more than 11,000. */
  maxPointsPerQuery?: number;
  /** Each refresh re-reads this much before the newest step, for scrapes that landed late (s). Default max(5, 2 steps). */
  overlapSeconds?: number;
  /** Prometheus "answered recently" when a read succeeded within this (s). Default 120. */
  answeredRecentlySeconds?: number;
  /** Queries in flight at once. Default 4. */
  concurrency?: number;
  /** Unix seconds now; Date.now() by default. */
  now?: () => number;
  /** After each read, ask Prometheus the time (an instant query of time()) to measure clock skew. Default false. */
  clockCheck?: boolean;
}

export interface SourceHealth {
  /** Unix s of the last read attempt / successful read. */
  lastAttemptAt?: number;
  lastSuccessAt?: number;
  /** The error of the last failed read, if the last read failed. */
  lastError?: PrometheusError;
  consecutiveFailures: number;
  /** A read succeeded within answeredRecentlySeconds. */
  answeredRecently: boolean;
  /** Newest step at which any query had data, and its age now (s). */
  newestSampleTime?: number;
  newestSampleAgeSeconds?: number;
}

type Grid = RawGrid & { columns: Record<QueryKey, Float64Array> };

export class PrometheusSource {
  private readonly client: PrometheusClient;
  private readonly step: number;
  private readonly maxPoints: number;
  private readonly overlap: number;
  private readonly now: () => number;
  private grid: Grid | undefined;
  private cached: Signals | undefined;
  private lastAttemptAt: number | undefined;
  private lastSuccessAt: number | undefined;
  private lastError: PrometheusError | undefined;
  private consecutiveFailures = 0;
  /** What the last successful read's answers looked like before they went on the grid. */
  private readStats: { seriesPerQuery: Record<string, number>; invalidQueries: string[] } | undefined;
  /** Prometheus's clock minus ours (s), from the last read. */
  private clockSkew: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PrometheusSourceOptions) {
    if (!(Number.isInteger(options.stepSeconds) && options.stepSeconds >= 1)) throw new RangeError('stepSeconds must be an integer ≥ 1');
    if (!(options.backfillSeconds >= options.stepSeconds)) throw new RangeError('backfillSeconds must be ≥ stepSeconds');
    this.client = options.client;
    this.step = options.stepSeconds;
    this.maxPoints = Math.min(PROMETHEUS_MAX_POINTS, options.maxPointsPerQuery ?? PROMETHEUS_MAX_POINTS);
    if (!(this.maxPoints >= 1)) throw new RangeError('maxPointsPerQuery must be ≥ 1');
    this.overlap = options.overlapSeconds ?? Math.max(5, 2 * this.step);
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** Reads the whole configured history, replacing whatever was read before. */
  backfill(): Promise<Signals | undefined> {
    return this.serialised(() => this.doBackfill());
  }

  /**
   * Reads what is new since the last read (a backfill when there is nothing yet, or when the
   * last read is older than the history kept) and returns the updated signals.
   */
  refresh(): Promise<Signals | undefined> {
    return this.serialised(() => this.doRefresh());
  }

  /** Reads run one after the other, never interleaved. */
  private serialised<T>(read: () => Promise<T>): Promise<T> {
    const next = this.queue.then(read, read);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doBackfill(): Promise<Signals | undefined> {
    const end = alignDown(this.now(), this.step);
    const start = end - alignDown(this.options.backfillSeconds, this.step);
    this.grid = await this.tracked(() => this.readRaw(start, end));
    this.cached = undefined;
    return this.signals();
  }

  private async doRefresh(): Promise<Signals | undefined> {
    const end = alignDown(this.now(), this.step);
    const grid = this.grid;
    const gridEnd = grid ? grid.start + (grid.length - 1) * this.step : Number.NEGATIVE_INFINITY;
    if (!grid || end - gridEnd >= this.options.backfillSeconds) return this.doBackfill();
    const start = Math.max(grid.start, gridEnd + this.step - alignDown(this.overlap, this.step));
    if (end < start) return this.signals();
    const fresh = await this.tracked(() => this.readRaw(start, end));
    this.grid = this.merge(grid, fresh);
    this.cached = undefined;
    return this.signals();
  }

  /**
   * The signals assembled from everything read so far, starting at the first step where
   * Prometheus had any data (before it, nothing is known, not even that the job was down);
   * undefined before the first read or while no query has returned data.
   */
  signals(): Signals | undefined {
    if (this.cached) return this.cached;
    if (!this.grid) return undefined;
    const from = firstDataIndex(this.grid);
    if (from >= this.grid.length) return undefined;
    this.cached = toSignals(assembleHistory(sliceRawGrid(this.grid, from), { carryForwardSeconds: this.options.carryForwardSeconds }));
    return this.cached;
  }

  /** The raw query values read so far (a copy-free view; do not modify). */
  raw(): RawGrid | undefined {
    return this.grid;
  }

  health(): SourceHealth {
    const now = this.now();
    const newest = this.grid ? newestDataTime(this.grid) : undefined;
    const within = this.options.answeredRecentlySeconds ?? 120;
    return {
      ...(this.lastAttemptAt !== undefined ? { lastAttemptAt: this.lastAttemptAt } : {}),
      ...(this.lastSuccessAt !== undefined ? { lastSuccessAt: this.lastSuccessAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      consecutiveFailures: this.consecutiveFailures,
      answeredRecently: this.lastSuccessAt !== undefined && now - this.lastSuccessAt <= within,
      ...(newest !== undefined ? { newestSampleTime: newest, newestSampleAgeSeconds: Math.max(0, now - newest) } : {}),
    };
  }

  /**
   * What the raw answers showed beyond the Signals, for the signal-quality check: series per
   * query and NaN answers in the last read, Prometheus's clock, whether the job's uptime still
   * advances, restarts and counter resets (src/observe/signal-quality.ts).
   */
  quality(): SourceQuality {
    return {
      ...(this.grid ? rawGridQuality(this.grid) : {}),
      ...(this.readStats ?? {}),
      ...(this.clockSkew !== undefined ? { clockSkewSeconds: this.clockSkew } : {}),
    };
  }

  /**
   * Every query over the grid times in [start, end] (aligned to the step), in range queries of
   * at most maxPointsPerQuery points. All or nothing: the first failure rejects.
   */
  async readRaw(start: number, end: number): Promise<Grid> {
    const step = this.step;
    const gridStart = Math.ceil(start / step) * step;
    const gridEnd = alignDown(end, step);
    const length = Math.max(0, Math.round((gridEnd - gridStart) / step) + 1);
    const grid = emptyRawGrid(gridStart, step, length);
    if (length === 0) return grid;
    const chunks = chunkRange(gridStart, gridEnd, step, this.maxPoints);
    const tasks = QUERY_KEYS.flatMap((key) => chunks.map((chunk) => ({ key, chunk })));
    const seriesPerQuery: Record<string, number> = {};
    const newest: Record<string, { index: number; invalid: boolean }> = {};
    await runLimited(tasks, this.options.concurrency ?? 4, async ({ key, chunk }) => {
      let series;
      try {
        series = await this.client.rangeQuery(this.options.queries[key], chunk.start, chunk.end, step);
      } catch (err) {
        if (err instanceof PrometheusError) throw new PrometheusError(err.kind, `query ${key}: ${err.message}`, err.httpStatus);
        throw err;
      }
      const points = Math.round((chunk.end - chunk.start) / step) + 1;
      const offset = Math.round((chunk.start - gridStart) / step);
      const stats = seriesStats(series, chunk.start, step, points);
      seriesPerQuery[key] = Math.max(seriesPerQuery[key] ?? 0, stats.maxSeries);
      if (stats.newestIndex >= 0 && offset + stats.newestIndex >= (newest[key]?.index ?? -1)) newest[key] = { index: offset + stats.newestIndex, invalid: stats.newestInvalid };
      seriesToGrid(series, chunk.start, step, points, QUERY_AGGREGATION[key], grid.columns[key], Math.round((chunk.start - gridStart) / step));
    });
    this.readStats = { seriesPerQuery, invalidQueries: Object.keys(newest).filter((k) => newest[k]?.invalid) };
    return grid;
  }

  private async tracked<T>(read: () => Promise<T>): Promise<T> {
    this.lastAttemptAt = this.now();
    try {
      const result = await read();
      this.lastSuccessAt = this.now();
      this.lastError = undefined;
      this.consecutiveFailures = 0;
      if (this.options.clockCheck) await this.measureClock();
      return result;
    } catch (err) {
      this.consecutiveFailures++;
      this.lastError = err instanceof PrometheusError ? err : new PrometheusError('response', 'unexpected error reading Prometheus');
      throw err;
    }
  }

  /** Prometheus's clock against ours: its time() halfway through the request. Unknown when the request fails. */
  private async measureClock(): Promise<void> {
    try {
      const before = this.now();
      const [answer] = await this.client.instantQuery('time()');
      const after = this.now();
      this.clockSkew = answer && Number.isFinite(answer.value) ? answer.value - (before + after) / 2 : undefined;
    } catch {
      this.clockSkew = undefined;
    }
  }

  /** The old grid extended by the fresh read (which wins where both have a step), trimmed to the history kept. */
  private merge(old: Grid, fresh: Grid): Grid {
    if (fresh.length === 0) return old;
    const step = this.step;
    const end = Math.max(old.start + (old.length - 1) * step, fresh.start + (fresh.length - 1) * step);
    const start = Math.max(old.start, end - alignDown(this.options.backfillSeconds, step));
    const length = Math.round((end - start) / step) + 1;
    const merged = emptyRawGrid(start, step, length);
    for (const key of QUERY_KEYS) {
      const target = merged.columns[key];
      const copy = (from: Grid) => {
        const skip = Math.max(0, Math.round((start - from.start) / step));
        const at = Math.round((from.start + skip * step - start) / step);
        const count = Math.min(from.length - skip, length - at);
        if (count > 0) target.set(from.columns[key].subarray(skip, skip + count), at);
      };
      copy(old);
      copy(fresh);
    }
    return merged;
  }
}

async function runLimited<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await worker(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const results = await Promise.allSettled(lanes);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
