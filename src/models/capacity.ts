import { leastSquaresLine, leastSquaresThroughOrigin, type Line } from '../util/least-squares.js';
import { minimize } from '../util/nelder-mead.js';
import { JOB_STATUS_CODE, type SignalHistory } from '../observe/signals.js';

/**
 * Maximum throughput as a function of parallelism, learned online from what Prometheus shows:
 * the true processing rate (throughput ÷ busy ratio, as DS2 and the Flink operator measure it)
 * at every parallelism the job has run at.
 */
export interface CapacityEstimate {
  /** 'profile' (only the seed), 'proportional' (one parallelism seen), 'linear' or 'usl'. */
  readonly kind: 'profile' | 'proportional' | 'linear' | 'usl';
  /** Expected maximum records/s at p. */
  mean(p: number): number;
  /**
   * Relative uncertainty at p: the per-second capacity noise seen at fixed parallelism combined
   * with the model's error there, growing with the distance from the nearest observed p.
   */
  relativeSd(p: number): number;
  /** The model's own relative error at p (without the per-second noise): what an average over minutes keeps. */
  modelSd(p: number): number;
  /** Per-second capacity noise at fixed parallelism (relative standard deviation). */
  readonly noise: number;
  readonly parameters: Readonly<Record<string, number>>;
  /** Parallelisms with observations, with their sample counts. */
  readonly observed: ReadonlyArray<{ parallelism: number; samples: number; meanRate: number }>;
}

/** Busy ratios below this give a true processing rate dominated by measurement noise. */
const MIN_BUSY_MS = 50;
/** Relative model error per unit of log-distance from the nearest observed parallelism. */
const EXTRAPOLATION_SD = 0.08;

interface RunningStats {
  n: number;
  mean: number;
  m2: number;
}

/**
 * Accumulates true-processing-rate samples per parallelism. Stateful so each decision only
 * reads the samples that are new since the last one.
 */
export class CapacityLearner {
  private readonly stats = new Map<number, RunningStats>();
  private consumed = 0;
  private lastT = Number.NEGATIVE_INFINITY;

  constructor(private readonly profile: ReadonlyArray<{ parallelism: number; maxRate: number }> = []) {}

  /** Reads the samples of the history newer than any seen before. */
  observe(history: SignalHistory): void {
    let i = this.consumed;
    // A history that is not an extension of the last one (a window moved): locate by time.
    if (i > history.length || (i > 0 && (history.t[i - 1] as number) !== this.lastT)) {
      i = 0;
      while (i < history.length && (history.t[i] as number) <= this.lastT) i++;
    }
    for (; i < history.length; i++) {
      if (history.status[i] !== JOB_STATUS_CODE.RUNNING) continue;
      const busy = history.busyTimeMsPerSecond[i] as number;
      const throughput = history.throughput[i] as number;
      const p = history.parallelism[i] as number;
      if (!(busy >= MIN_BUSY_MS) || !Number.isFinite(throughput) || throughput <= 0 || !(p >= 1)) continue;
      this.add(p, (throughput * 1000) / Math.min(busy, 1000));
    }
    this.consumed = history.length;
    if (history.length > 0) this.lastT = history.t[history.length - 1] as number;
  }

  add(parallelism: number, rate: number): void {
    const s = this.stats.get(parallelism) ?? { n: 0, mean: 0, m2: 0 };
    s.n++;
    const delta = rate - s.mean;
    s.mean += delta / s.n;
    s.m2 += delta * (rate - s.mean);
    this.stats.set(parallelism, s);
  }

  estimate(): CapacityEstimate | undefined {
    const observed = [...this.stats.entries()]
      .filter(([, s]) => s.n >= 5)
      .map(([parallelism, s]) => ({ parallelism, samples: s.n, meanRate: s.mean, sd: s.n > 1 ? Math.sqrt(s.m2 / (s.n - 1)) : 0 }))
      .sort((a, b) => a.parallelism - b.parallelism);
    return fitCapacity(observed, this.profile);
  }
}

/** Fits the capacity curve to per-parallelism means (optionally seeded by a profile). */
export function fitCapacity(
  observed: ReadonlyArray<{ parallelism: number; samples: number; meanRate: number; sd: number }>,
  profile: ReadonlyArray<{ parallelism: number; maxRate: number }> = [],
): CapacityEstimate | undefined {
  const points = [
    ...observed.map((o) => ({ p: o.parallelism, rate: o.meanRate, weight: Math.sqrt(o.samples) })),
    // A profile counts like a short observation: live data soon outweighs it.
    ...profile.filter((q) => !observed.some((o) => o.parallelism === q.parallelism)).map((q) => ({ p: q.parallelism, rate: q.maxRate, weight: 3 })),
  ];
  if (points.length === 0) return undefined;
  const pooledNoise = pooledRelativeSd(observed);
  const distinct = points.map((x) => x.p);
  const distanceSd = (p: number): number => {
    const nearest = Math.min(...distinct.map((q) => Math.abs(Math.log(p / q))));
    return EXTRAPOLATION_SD * nearest;
  };
  const publicObserved = observed.map(({ parallelism, samples, meanRate }) => ({ parallelism, samples, meanRate }));

  if (points.length === 1) {
    const only = points[0] as { p: number; rate: number };
    const perSlot = only.rate / only.p;
    return {
      kind: observed.length > 0 ? 'proportional' : 'profile',
      mean: (p) => perSlot * p,
      // Proportional scaling ignores fixed costs and contention: more doubt the further away.
      relativeSd: (p) => Math.hypot(pooledNoise, distanceSd(p)),
      modelSd: distanceSd,
      noise: pooledNoise,
      parameters: { perSlot },
      observed: publicObserved,
    };
  }

  const linear = weightedLine(points);
  const linearMean = (p: number): number => Math.max(0, linear.intercept + linear.slope * p);
  const linearError = relativeRms(points, linearMean);
  let kind: CapacityEstimate['kind'] = observed.length > 0 ? 'linear' : 'profile';
  let mean = linearMean;
  let modelError = linearError;
  let parameters: Record<string, number> = { intercept: linear.intercept, perSlot: linear.slope };
  if (points.length >= 3) {
    const usl = fitUsl(points);
    // Prefer USL only when it explains clearly more than a line (it has one more parameter).
    if (usl && usl.error < 0.8 * linearError) {
      kind = 'usl';
      mean = usl.mean;
      modelError = usl.error;
      parameters = { lambda1: usl.lambda1, sigma: usl.sigma, kappa: usl.kappa };
    }
  }
  return {
    kind,
    mean,
    relativeSd: (p) => Math.hypot(pooledNoise, modelError, distanceSd(p)),
    modelSd: (p) => Math.hypot(modelError, distanceSd(p)),
    noise: pooledNoise,
    parameters,
    observed: publicObserved,
  };
}

function pooledRelativeSd(observed: ReadonlyArray<{ samples: number; meanRate: number; sd: number }>): number {
  let num = 0;
  let den = 0;
  for (const o of observed) {
    if (o.samples < 2 || o.meanRate <= 0) continue;
    num += (o.samples - 1) * (o.sd / o.meanRate) ** 2;
    den += o.samples - 1;
  }
  return den > 0 ? Math.sqrt(num / den) : 0.05;
}

/** The weighted line of rate on parallelism; with one parallelism only, proportional scaling through it. */
function weightedLine(points: ReadonlyArray<{ p: number; rate: number; weight: number }>): Line {
  const fit = points.map(({ p, rate, weight }) => ({ x: p, y: rate, weight }));
  return leastSquaresLine(fit) ?? leastSquaresThroughOrigin(fit);
}

function relativeRms(points: ReadonlyArray<{ p: number; rate: number; weight: number }>, f: (p: number) => number): number {
  let num = 0, den = 0;
  for (const { p, rate, weight } of points) { num += weight * ((f(p) - rate) / rate) ** 2; den += weight; }
  return Math.sqrt(num / den);
}

/** Universal Scalability Law μ(p) = λ1·p / (1 + σ(p−1) + κp(p−1)), fitted in relative error. */
function fitUsl(points: ReadonlyArray<{ p: number; rate: number; weight: number }>):
  { lambda1: number; sigma: number; kappa: number; error: number; mean: (p: number) => number } | undefined {
  const smallest = points.reduce((a, b) => (b.p < a.p ? b : a));
  const lambda0 = smallest.rate / smallest.p;
  const usl = (x: readonly number[], p: number): number => {
    const [l, s, k] = x.map(Math.exp) as [number, number, number];
    return (l * p) / (1 + s * (p - 1) + k * p * (p - 1));
  };
  // Log-parameters keep all three positive without constraints.
  const result = minimize((x) => relativeRms(points, (p) => usl(x, p)), [Math.log(lambda0), Math.log(0.01), Math.log(0.0001)], { maxEvaluations: 600, step: 1 });
  const [lambda1, sigma, kappa] = result.x.map(Math.exp) as [number, number, number];
  if (![lambda1, sigma, kappa].every(Number.isFinite)) return undefined;
  return { lambda1, sigma, kappa, error: result.value, mean: (p) => usl(result.x, p) };
}
