import type { Scenario } from '../../config/scenario.js';
import type { LowerBound } from '../lower-bound.js';
import type { RunResult } from '../runner.js';
import type { RunScores } from '../scores.js';

/** What `phoebe simulate --report` knows after its runs. */
export interface ReportInput {
  scenario: Pick<Scenario, 'name' | 'slo' | 'failures'>;
  seed: number;
  /** Arrival rates of the run, per second (the trace × scale). */
  arrivals: Float64Array;
  lowerBound: LowerBound;
  results: readonly RunResult[];
  /** When the report was made; now by default. */
  generatedAt?: Date;
}

export interface ReportOptions {
  /** The page gets at most this many points per series; longer runs are aggregated into buckets. */
  maxPoints?: number;
}

export interface PolicySeries {
  name: string;
  color: string;
  scores: RunScores;
  /** Per bucket: the highest parallelism, latency (s) and lag (records) within it. */
  parallelism: number[];
  latencySeconds: number[];
  lag: number[];
}

/** Everything the page shows, embedded in it as JSON. */
export interface ReportData {
  scenario: string;
  seed: number;
  generatedAt: string;
  durationSeconds: number;
  /** Seconds per plotted point (1 when the run is short enough to plot every second). */
  bucketSeconds: number;
  slo: { latencySeconds: number; recoveryTimeSeconds: number };
  /** Failure times (run seconds) inside the run. */
  failures: number[];
  lowerBoundMeanParallelism: number;
  lowerBoundInfeasibleSeconds: number;
  /** Start (run seconds) of every bucket: the x values of every series. */
  x: number[];
  /** Mean arrival rate per bucket (records/s). */
  arrivalRate: number[];
  /** Highest p*(t) per bucket. */
  lowerBound: number[];
  policies: PolicySeries[];
  colors: { arrivalRate: string; lowerBound: string; slo: string; failure: string };
}

/** Bucket widths the page may use, seconds: each divides the next few, and minutes read well. */
const BUCKET_WIDTHS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];

export const DEFAULT_MAX_POINTS = 1500;

/** The smallest bucket width from the list above that keeps `seconds` within `maxPoints` points. */
export function bucketWidth(seconds: number, maxPoints: number = DEFAULT_MAX_POINTS): number {
  if (!(maxPoints >= 1)) throw new RangeError(`maxPoints must be ≥ 1, got ${maxPoints}`);
  for (const width of BUCKET_WIDTHS) if (Math.ceil(seconds / width) <= maxPoints) return width;
  return Math.max(1, Math.ceil(seconds / maxPoints));
}

export type Aggregate = 'max' | 'mean';

/** One value per bucket of `width` seconds (the last bucket may be shorter), rounded for the page. */
export function downsample(values: ArrayLike<number>, width: number, aggregate: Aggregate): number[] {
  const out: number[] = [];
  for (let start = 0; start < values.length; start += width) {
    const end = Math.min(values.length, start + width);
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    for (let s = start; s < end; s++) {
      const v = values[s] as number;
      if (v > max) max = v;
      sum += v;
    }
    out.push(roundForPage(aggregate === 'max' ? max : sum / (end - start)));
  }
  return out;
}

/** Four significant digits: far finer than a pixel, and it keeps the page small. */
export function roundForPage(value: number): number {
  if (!Number.isFinite(value) || value === 0) return Number.isFinite(value) ? 0 : value;
  const digits = 3 - Math.floor(Math.log10(Math.abs(value)));
  if (digits >= 0) {
    const factor = 10 ** digits;
    return Math.round(value * factor) / factor;
  }
  const step = 10 ** -digits;
  return Math.round(value / step) * step;
}

/** Fixed colours for the policies `phoebe simulate` knows, so every report reads the same. */
const POLICY_COLORS: Readonly<Record<string, string>> = {
  static: '#8c564b',
  hpa: '#ff7f0e',
  'flink-autoscaler': '#9467bd',
  'phoebe-2022': '#1f77b4',
  phoebe: '#2ca02c',
};
const SPARE_COLORS = ['#e377c2', '#17becf', '#bcbd22', '#393b79', '#637939', '#7f7f7f'];

export function policyColors(names: readonly string[]): string[] {
  let spare = 0;
  return names.map((name) => POLICY_COLORS[name] ?? (SPARE_COLORS[spare++ % SPARE_COLORS.length] as string));
}

export const REPORT_COLORS = { arrivalRate: '#1f3b73', lowerBound: '#111111', slo: '#111111', failure: '#d62728' } as const;

export function buildReportData(input: ReportInput, options: ReportOptions = {}): ReportData {
  const n = input.arrivals.length;
  const width = bucketWidth(n, options.maxPoints);
  const x: number[] = [];
  for (let start = 0; start < n; start += width) x.push(start);
  const colors = policyColors(input.results.map((r) => r.scores.policy));
  return {
    scenario: input.scenario.name,
    seed: input.seed,
    generatedAt: (input.generatedAt ?? new Date()).toISOString(),
    durationSeconds: n,
    bucketSeconds: width,
    slo: { latencySeconds: input.scenario.slo.latencySeconds, recoveryTimeSeconds: input.scenario.slo.recoveryTimeSeconds },
    failures: input.scenario.failures.atSeconds.filter((t) => t >= 0 && t < n),
    lowerBoundMeanParallelism: input.lowerBound.meanParallelism,
    lowerBoundInfeasibleSeconds: input.lowerBound.infeasibleSeconds,
    x,
    arrivalRate: downsample(input.arrivals, width, 'mean'),
    lowerBound: downsample(input.lowerBound.perSecond, width, 'max'),
    policies: input.results.map((result, k) => ({
      name: result.scores.policy,
      color: colors[k] as string,
      scores: result.scores,
      parallelism: downsample(result.record.parallelism, width, 'max'),
      latencySeconds: downsample(result.record.latencySeconds, width, 'max'),
      lag: downsample(result.record.lag, width, 'max'),
    })),
    colors: { ...REPORT_COLORS },
  };
}
