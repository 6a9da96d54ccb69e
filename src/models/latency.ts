import { JOB_STATUS_CODE, type SignalHistory } from '../observe/signals.js';

/**
 * End-to-end latency as queueing delay plus backlog drain time:
 *   latency = a + b / (1 − ρ) + lag / μ,   ρ = arrival rate / capacity.
 * Fitted on (utilisation, latency) observations; because it is a function of utilisation and
 * not of the parallelism itself, it extrapolates to parallelisms the job never ran at.
 */
export interface LatencyModel {
  /** Fixed latency (s). */
  readonly a: number;
  /** Queueing coefficient (s): the latency at zero load above a. */
  readonly b: number;
  readonly samples: number;
  /** Root-mean-square error of the fit (s). */
  readonly rmse: number;
}

/** Predicted latency (s); Infinity when the load reaches the capacity. */
export function predictLatency(model: LatencyModel, arrivalRate: number, capacity: number, lag = 0): number {
  if (!(capacity > 0) || arrivalRate >= capacity) return Number.POSITIVE_INFINITY;
  return model.a + model.b / (1 - arrivalRate / capacity) + lag / capacity;
}

/** Highest utilisation at which the predicted latency (without backlog) stays within `target`. */
export function maxUtilisationFor(model: LatencyModel, target: number): number {
  if (target <= model.a) return 0;
  return Math.max(0, 1 - model.b / (target - model.a));
}

/** Utilisations above this are saturation, where the queueing term says nothing. */
const MAX_RHO = 0.99;
const MIN_BUSY_MS = 50;

/** Least-squares fit of latency − lag/μ on 1/(1 − ρ), accumulated sample by sample. */
export class LatencyLearner {
  private n = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private syy = 0;
  private lastT = Number.NEGATIVE_INFINITY;

  constructor(private readonly prior: Pick<LatencyModel, 'a' | 'b'> = { a: 0, b: 0.2 }) {}

  observe(history: SignalHistory): void {
    let i = history.length;
    while (i > 0 && (history.t[i - 1] as number) > this.lastT) i--;
    for (; i < history.length; i++) {
      if (history.status[i] !== JOB_STATUS_CODE.RUNNING) continue;
      const busy = history.busyTimeMsPerSecond[i] as number;
      const throughput = history.throughput[i] as number;
      const latency = history.latencySeconds[i] as number;
      if (!(busy >= MIN_BUSY_MS) || !(throughput > 0) || !Number.isFinite(latency)) continue;
      const capacity = (throughput * 1000) / Math.min(busy, 1000);
      const rho = Math.min(MAX_RHO, (history.arrivalRate[i] as number) / capacity);
      if (!(rho >= 0)) continue;
      this.add(1 / (1 - rho), latency - (history.lag[i] as number) / capacity);
    }
    if (history.length > 0) this.lastT = Math.max(this.lastT, history.t[history.length - 1] as number);
  }

  add(x: number, y: number): void {
    this.n++;
    this.sx += x;
    this.sy += y;
    this.sxx += x * x;
    this.sxy += x * y;
    this.syy += y * y;
  }

  model(): LatencyModel {
    const { n } = this;
    if (n < 10) return { ...this.prior, samples: n, rmse: Number.NaN };
    const mx = this.sx / n;
    const my = this.sy / n;
    const vxx = this.sxx / n - mx * mx;
    const vxy = this.sxy / n - mx * my;
    // With a single utilisation level the slope is unidentifiable: attribute it all to queueing,
    // which is the conservative reading when extrapolating to higher utilisation.
    let b = vxx > 1e-12 ? vxy / vxx : my / mx;
    let a = my - b * mx;
    if (a < 0) { a = 0; b = this.sxy / this.sxx; }
    if (b < 0) { b = 0; a = my; }
    const sse = this.syy - 2 * a * this.sy - 2 * b * this.sxy + a * a * n + 2 * a * b * this.sx + b * b * this.sxx;
    return { a, b, samples: n, rmse: Math.sqrt(Math.max(0, sse) / n) };
  }
}
