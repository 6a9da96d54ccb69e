import { leastSquaresLine, leastSquaresThroughOrigin } from '../../util/least-squares.js';

/**
 * The pure decision rules of the original Phoebe prototype (CCGrid 2022), as EVALUATION.md lists
 * them under "The `phoebe-2022` rules"; phoebe-2022.ts applies them as a policy. A baseline to
 * compare against, so its flaws (the truncated recovery iteration, the integer window lengths)
 * are kept on purpose.
 */

/** The quiet-period gate. A sample at t covers the second [t, t + 1), hence the + 1. */
export function quietPeriodOver(now: number, lastChangeAt: number, quietPeriodSeconds: number): boolean {
  return now - lastChangeAt + 1 >= quietPeriodSeconds;
}

/**
 * The highest of `bins` equal-bin means. When the length is not a multiple of `bins`, bin j
 * covers [⌊j·n/bins⌋, ⌊(j+1)·n/bins⌋); empty bins (n < bins) are skipped.
 */
export function maxBinMean(values: readonly number[], bins: number): number {
  const n = values.length;
  let best = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < bins; j++) {
    const from = Math.floor((j * n) / bins);
    const to = Math.floor(((j + 1) * n) / bins);
    if (to <= from) continue;
    let sum = 0;
    for (let k = from; k < to; k++) sum += values[k] as number;
    best = Math.max(best, sum / (to - from));
  }
  return n === 0 ? 0 : best;
}

export interface CapacityObservation {
  parallelism: number;
  /** Maximum throughput at that parallelism: throughput ÷ busy ratio (the true processing rate). */
  maxRate: number;
}

/** maxRate(p) = intercept + slope · p. */
export interface CapacityModel {
  intercept: number;
  slope: number;
}

/**
 * Least-squares line of maximum throughput on parallelism. With a single distinct parallelism
 * a line is undetermined, so it falls back to proportional scaling through the origin (what a
 * job without fixed overheads would do); it does the same if noise makes the slope ≤ 0, since a
 * model where more slots mean less capacity would make every choice absurd.
 */
export function fitCapacityModel(observations: readonly CapacityObservation[]): CapacityModel | undefined {
  if (observations.length === 0) return undefined;
  const points = observations.map((o) => ({ x: o.parallelism, y: o.maxRate }));
  const line = leastSquaresLine(points);
  return line && line.slope > 0 ? line : leastSquaresThroughOrigin(points);
}

export function capacityAt(model: CapacityModel, parallelism: number): number {
  return model.intercept + model.slope * parallelism;
}

/**
 * Arrivals per second over [start, end): the observed past followed by the forecast. Prefix
 * sums make a window's record count O(1), since every candidate iterates many windows.
 */
export interface ArrivalProfile {
  readonly start: number;
  /** Exclusive: the forecast's end. */
  readonly end: number;
  readonly cumulative: Float64Array;
}

export function arrivalProfile(start: number, ratesPerSecond: ArrayLike<number>): ArrivalProfile {
  const cumulative = new Float64Array(ratesPerSecond.length + 1);
  for (let k = 0; k < ratesPerSecond.length; k++) cumulative[k + 1] = (cumulative[k] as number) + (ratesPerSecond[k] as number);
  return { start, end: start + ratesPerSecond.length, cumulative };
}

/** Records arriving in [from, to), clipped to the profile. */
export function recordsBetween(profile: ArrivalProfile, from: number, to: number): number {
  const a = Math.min(profile.end, Math.max(profile.start, from)) - profile.start;
  const b = Math.min(profile.end, Math.max(profile.start, to)) - profile.start;
  return b > a ? (profile.cumulative[b] as number) - (profile.cumulative[a] as number) : 0;
}

export interface RecoveryEstimate {
  /** D + Σ t_k. */
  seconds: number;
  /** The t_k of every window, in order. */
  steps: number[];
  /** Whether the iteration stopped at the forecast's end rather than at t_k < 1 s. */
  truncated: boolean;
}

/**
 * The original's recovery-time iteration for one capacity, with a failure at `now`: the
 * backlog of [now − C, now + D) takes t_1 = records / capacity to process, the records arriving
 * meanwhile, in [now + D, now + D + ⌈t_1⌉), take t_2, and so on until t_k < 1 s. A window
 * reaching past the forecast's end is cut there and ends the iteration: the original truncated
 * the same way, which underestimates recovery when capacity barely exceeds the load. Because
 * windows are whole seconds, a t_k in (1, 2] makes the next window 2 s long, whose t is
 * 2λ/capacity: above ρ = 0.5 the iteration never gets under 1 s and runs to the forecast's end,
 * so the original's rule in effect asks for that much headroom.
 */
export function recoveryTime(
  profile: ArrivalProfile,
  now: number,
  checkpointIntervalSeconds: number,
  downtimeSeconds: number,
  capacity: number,
): RecoveryEstimate {
  if (!(capacity > 0)) return { seconds: Number.POSITIVE_INFINITY, steps: [], truncated: false };
  const steps: number[] = [];
  let from = now - checkpointIntervalSeconds;
  let to = now + downtimeSeconds;
  let truncated = false;
  for (;;) {
    if (to >= profile.end) {
      to = profile.end;
      truncated = true;
    }
    const t = recordsBetween(profile, from, to) / capacity;
    steps.push(t);
    // Each loop advances `to` by ⌈t⌉ ≥ 1 s towards the profile's end, so this terminates.
    if (truncated || t < 1) break;
    from = to;
    to += Math.ceil(t);
  }
  let catchUp = 0;
  for (const t of steps) catchUp += t;
  return { seconds: downtimeSeconds + catchUp, steps, truncated };
}

/**
 * Latency model: latency ≈ a / (1 − ρ), the queueing-delay shape of a single server, where ρ is
 * the utilisation the job would run at. `a` comes from observed seconds without backlog (their
 * latency is then all queueing), so it is the job's latency at zero load.
 */
export function predictLatency(a: number, throughput: number, capacity: number): number {
  if (!(capacity > 0)) return Number.POSITIVE_INFINITY;
  const rho = throughput / capacity;
  return rho < 1 ? a / (1 - rho) : Number.POSITIVE_INFINITY;
}

export interface ValueAtParallelism {
  parallelism: number;
  value: number;
}

/**
 * The original's 5 % hysteresis: a candidate replaces the current pick when it is more than
 * `h` better, or when it is within `h` and uses fewer slots. Candidates are visited in the order
 * given (the policy gives ascending parallelism, so in practice a larger p must be more than 5 %
 * better to win: the smallest p close to the best).
 */
export function pickWithHysteresis(candidates: readonly ValueAtParallelism[], h: number): ValueAtParallelism | undefined {
  let pick: ValueAtParallelism | undefined;
  for (const c of candidates) {
    if (Number.isNaN(c.value)) continue;
    if (pick === undefined) {
      pick = c;
      continue;
    }
    const better = Number.isFinite(pick.value) ? c.value < pick.value * (1 - h) : c.value < pick.value;
    const closeAndSmaller = c.parallelism < pick.parallelism && c.value <= pick.value * (1 + h);
    if (better || closeAndSmaller) pick = c;
  }
  return pick;
}

export interface CandidateEvaluation {
  parallelism: number;
  recoverySeconds: number;
  latencySeconds: number;
}

export interface Choice {
  parallelism: number;
  /** 'valid': the smallest p meeting both; 'fallback': none did. */
  rule: 'valid' | 'fallback';
}

/**
 * The smallest p valid on both (recovery strictly under the target, latency within the SLO);
 * if none is, the larger of the p with the lowest recovery time and the p with the lowest
 * latency, each picked with hysteresis. Candidates in ascending parallelism.
 */
export function chooseParallelism(
  candidates: readonly CandidateEvaluation[],
  slo: { recoveryTimeSeconds: number; latencySeconds: number },
  hysteresis: number,
): Choice | undefined {
  for (const c of candidates) {
    if (c.recoverySeconds < slo.recoveryTimeSeconds && c.latencySeconds <= slo.latencySeconds) return { parallelism: c.parallelism, rule: 'valid' };
  }
  const byRecovery = pickWithHysteresis(candidates.map((c) => ({ parallelism: c.parallelism, value: c.recoverySeconds })), hysteresis);
  const byLatency = pickWithHysteresis(candidates.map((c) => ({ parallelism: c.parallelism, value: c.latencySeconds })), hysteresis);
  if (byRecovery === undefined || byLatency === undefined) return undefined;
  return { parallelism: Math.max(byRecovery.parallelism, byLatency.parallelism), rule: 'fallback' };
}

/** Any scale-up; scale-downs only by at least `minScaleDownStep` slots. */
export function shouldRescale(current: number, choice: number, minScaleDownStep: number): boolean {
  return choice > current || choice <= current - minScaleDownStep;
}
