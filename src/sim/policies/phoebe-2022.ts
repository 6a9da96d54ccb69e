import { EnsembleForecaster } from '../../forecast/forecaster.js';
import type { Forecaster } from '../../forecast/types.js';
import { JOB_STATUS_CODE, indexAtOrAfter, type SignalHistory, type Signals } from '../../observe/signals.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy.js';

/**
 * The decision rules of the original Phoebe prototype (CCGrid 2022), as EVALUATION.md lists
 * them under "The `phoebe-2022` rules". This is a baseline to compare against, so its flaws
 * (the truncated recovery iteration, the integer window lengths) are kept on purpose.
 */

export const PHOEBE_2022_DEFAULTS = {
  decisionIntervalSeconds: 60,
  /** Seconds since the last rescale or failure before the rules evaluate at all. */
  quietPeriodSeconds: 600,
  forecastHorizonSeconds: 600,
  /** Predicted throughput is the highest of this many equal-bin means of the forecast. */
  forecastBins: 5,
  /**
   * The forecaster sees bucket means of the arrival rate, not 1 s points: forecasting 600
   * one-second steps from hours of history every minute would be slow. 10 s divides the 60 s
   * cadence, so consecutive decisions extend the same bucket grid and can `update` instead of
   * refitting; the original subsampled at 30…600 s, 10 s keeps the recovery windows (tens of
   * seconds) resolved.
   */
  bucketSeconds: 10,
  /**
   * Restart downtime assumed until a RESTARTING spell has been observed. The original used its
   * measured restart time of about 30 s (Flink restarting a job of this size in place). It is
   * not read from any scenario; it matches the twin's restartDowntimeSeconds in the shipped
   * scenarios, which only helps the evaluations before the first failure.
   */
  downtimePriorSeconds: 30,
  hysteresis: 0.05,
  /** Scale-downs smaller than this many slots are not worth a restart (original: no −1, −2). */
  minScaleDownStep: 3,
  /** Samples whose lag is under this many seconds of throughput count as "no backlog" for the latency fit. */
  lowLagSeconds: 0.1,
  /** Fewer RUNNING samples at one parallelism in a scan make no capacity observation (noise). */
  minSamplesPerObservation: 10,
} as const;

export type Phoebe2022Config = { -readonly [K in keyof typeof PHOEBE_2022_DEFAULTS]: number };

// ---------------------------------------------------------------------------------------------
// Pure rules.

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
  const n = observations.length;
  if (n === 0) return undefined;
  let pMean = 0;
  let yMean = 0;
  for (const o of observations) {
    pMean += o.parallelism;
    yMean += o.maxRate;
  }
  pMean /= n;
  yMean /= n;
  let sxx = 0;
  let sxy = 0;
  let spp = 0;
  let spy = 0;
  for (const o of observations) {
    sxx += (o.parallelism - pMean) ** 2;
    sxy += (o.parallelism - pMean) * (o.maxRate - yMean);
    spp += o.parallelism ** 2;
    spy += o.parallelism * o.maxRate;
  }
  if (sxx > 0 && sxy > 0) {
    const slope = sxy / sxx;
    return { intercept: yMean - slope * pMean, slope };
  }
  return { intercept: 0, slope: spp > 0 ? spy / spp : 0 };
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

/**
 * Means of `column` over consecutive buckets [from + kB, from + (k+1)B) up to `to` (exclusive).
 * A bucket without samples (a scrape gap) repeats the previous mean.
 */
export function bucketMeans(history: SignalHistory, column: 'arrivalRate', from: number, to: number, bucketSeconds: number): { t: number[]; y: number[] } {
  const t: number[] = [];
  const y: number[] = [];
  const values = history[column];
  let previous = 0;
  let i = indexAtOrAfter(history, from);
  for (let start = from; start + bucketSeconds <= to; start += bucketSeconds) {
    const end = start + bucketSeconds;
    let sum = 0;
    let n = 0;
    while (i < history.length && (history.t[i] as number) < end) {
      sum += values[i] as number;
      n++;
      i++;
    }
    previous = n > 0 ? sum / n : previous;
    t.push(start);
    y.push(previous);
  }
  return { t, y };
}

// ---------------------------------------------------------------------------------------------
// What the policy learns from the signals it has seen.

/**
 * Scans each new stretch of history once: changes (failures, rescales), RESTARTING spells,
 * capacity observations and the latency model's evidence. Keyed by time, not index, so a
 * history that drops old samples (a Prometheus range) works too.
 */
class Observations {
  lastChangeAt: number | undefined;
  readonly capacity: CapacityObservation[] = [];
  readonly restartSpells: number[] = [];
  private seeded = false;
  private scannedUntil = Number.NEGATIVE_INFINITY;
  private prevStatus: number | undefined;
  private prevRestarts: number | undefined;
  private restartingSince: number | undefined;
  private latencySum = 0;
  private latencyCount = 0;
  private latencyFloor = Number.POSITIVE_INFINITY;

  constructor(
    private readonly initialParallelism: number,
    private readonly cfg: Phoebe2022Config,
  ) {}

  scan(history: SignalHistory): void {
    if (history.length === 0) return;
    const first = indexAtOrAfter(history, this.scannedUntil);
    this.lastChangeAt ??= history.t[0] as number;
    const groups = new Map<number, { throughput: number; busy: number; n: number }>();
    for (let i = first; i < history.length; i++) {
      const t = history.t[i] as number;
      const status = history.status[i] as number;
      const restarts = history.numRestarts[i] as number;
      const running = status === JOB_STATUS_CODE.RUNNING;
      // A failure shows as numRestarts going up; any stop of the job (restart or rescale, ours
      // or anyone's) starts a new quiet period too.
      if ((this.prevRestarts !== undefined && restarts > this.prevRestarts) || (!running && this.prevStatus === JOB_STATUS_CODE.RUNNING)) {
        this.lastChangeAt = Math.max(this.lastChangeAt, t);
      }
      if (status === JOB_STATUS_CODE.RESTARTING && this.prevStatus !== JOB_STATUS_CODE.RESTARTING) this.restartingSince = t;
      if (status !== JOB_STATUS_CODE.RESTARTING && this.restartingSince !== undefined) {
        this.restartSpells.push(t - this.restartingSince);
        this.restartingSince = undefined;
      }
      if (running) this.observeRunning(history, i, groups);
      this.prevStatus = status;
      this.prevRestarts = restarts;
    }
    this.scannedUntil = (history.t[history.length - 1] as number) + 1;
    for (const [parallelism, g] of [...groups].sort((a, b) => a[0] - b[0])) {
      if (g.n < this.cfg.minSamplesPerObservation || !(g.busy > 0)) continue;
      const observation = { parallelism, maxRate: g.throughput / g.busy };
      this.capacity.push(observation);
      // The original's regression started from two points at the initial parallelism.
      if (!this.seeded && parallelism === this.initialParallelism) {
        this.capacity.push({ ...observation });
        this.seeded = true;
      }
    }
  }

  private observeRunning(history: SignalHistory, i: number, groups: Map<number, { throughput: number; busy: number; n: number }>): void {
    const busy = (history.busyTimeMsPerSecond[i] as number) / 1000;
    if (!(busy > 0)) return;
    const throughput = history.throughput[i] as number;
    const p = history.parallelism[i] as number;
    const g = groups.get(p) ?? { throughput: 0, busy: 0, n: 0 };
    g.throughput += throughput;
    g.busy += busy;
    g.n++;
    groups.set(p, g);
    if (busy < 0.99) {
      const a = (history.latencySeconds[i] as number) * (1 - busy);
      this.latencyFloor = Math.min(this.latencyFloor, a);
      if ((history.lag[i] as number) <= this.cfg.lowLagSeconds * throughput) {
        this.latencySum += a;
        this.latencyCount++;
      }
    }
  }

  /** Mean length of the completed RESTARTING spells, or the prior before any. */
  downtimeSeconds(): number {
    if (this.restartSpells.length === 0) return this.cfg.downtimePriorSeconds;
    let sum = 0;
    for (const d of this.restartSpells) sum += d;
    return sum / this.restartSpells.length;
  }

  /**
   * `a` of the latency model: the mean over backlog-free seconds; without any, the smallest
   * latency·(1 − ρ) seen, which includes some backlog delay and so errs on the safe side;
   * before any RUNNING second, 0, so that only ρ < 1 counts.
   */
  latencyBase(): number {
    if (this.latencyCount > 0) return this.latencySum / this.latencyCount;
    return Number.isFinite(this.latencyFloor) ? this.latencyFloor : 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The policy.

export interface Phoebe2022Options {
  /** Builds the workload forecaster; called once, the instance is refitted after each change. */
  forecaster: () => Forecaster;
  config?: Partial<Phoebe2022Config>;
  /** Receives every evaluation, for tests and explanations. */
  onEvaluation?: (evaluation: Phoebe2022Evaluation) => void;
}

export interface Phoebe2022Evaluation {
  now: number;
  predictedThroughput: number;
  capacity: CapacityModel;
  /** The points behind `capacity`, the seed included. */
  observations: CapacityObservation[];
  downtimeSeconds: number;
  latencyBase: number;
  candidates: CandidateEvaluation[];
  choice: Choice | undefined;
}

/** Forecaster state: what it was fitted on and up to where it has been fed. */
interface FeedState {
  changeAt: number;
  /** End (exclusive) of the last bucket fed. */
  fedUntil: number;
}

/**
 * phoebe's forecaster set up for these rules: the horizon it is judged on is the 600 s forecast.
 * No MSTL: the series since the last change is far shorter than a day, so there is no season
 * for it to decompose (and its WebAssembly would have to be loaded by whoever runs the policy).
 */
export function defaultPhoebe2022Forecaster(): Forecaster {
  const cfg = PHOEBE_2022_DEFAULTS;
  return new EnsembleForecaster({ horizonSteps: Math.ceil(cfg.forecastHorizonSeconds / cfg.bucketSeconds), mstl: false });
}

/**
 * The rules as a policy. Interpretations where EVALUATION.md leaves room:
 * - a change (restarting the quiet period and the forecast history) is the first second of any
 *   stop of the job (RESTARTING or RESCALING), a rise of numRestarts, or our own rescale request;
 * - capacity observations are one per parallelism per decision interval, Σthroughput ÷ Σbusy
 *   over its RUNNING seconds; the first one at the initial parallelism counts twice (the seed);
 * - D is the mean length of the RESTARTING spells seen so far (the prior before the first);
 * - the recovery windows use the history's arrival rates up to now and the forecast (each
 *   10 s step held for its 10 s) after, and end where the forecast ends.
 */
export function phoebe2022Policy(context: PolicyContext, options: Phoebe2022Options): Policy {
  const cfg: Phoebe2022Config = { ...PHOEBE_2022_DEFAULTS, ...options.config };
  const seen = new Observations(context.initialParallelism, cfg);
  const horizonSteps = Math.ceil(cfg.forecastHorizonSeconds / cfg.bucketSeconds);
  let forecaster: Forecaster | undefined;
  let feed: FeedState | undefined;
  let requestedAt = Number.NEGATIVE_INFINITY;

  /** Fits on the buckets since the change, or feeds the buckets completed since last time. */
  async function forecastFrom(history: SignalHistory, changeAt: number, now: number): Promise<number[]> {
    forecaster ??= options.forecaster();
    const end = now + 1;
    const sinceFed = feed === undefined ? Number.NaN : end - feed.fedUntil;
    if (feed !== undefined && feed.changeAt === changeAt && sinceFed % cfg.bucketSeconds === 0) {
      if (sinceFed > 0) {
        const fresh = bucketMeans(history, 'arrivalRate', feed.fedUntil, end, cfg.bucketSeconds);
        await forecaster.update(fresh.t, fresh.y);
      }
    } else {
      // Buckets end at `now`, so the forecast's first step is the next second.
      const count = Math.floor((end - changeAt) / cfg.bucketSeconds);
      const series = bucketMeans(history, 'arrivalRate', end - count * cfg.bucketSeconds, end, cfg.bucketSeconds);
      feed = undefined;
      await forecaster.fit(series.t, series.y);
    }
    feed = { changeAt, fedUntil: end };
    const forecast = await forecaster.forecast(horizonSteps);
    return forecast.mean;
  }

  // Typed with close() spelled out so this compiles whether or not Policy declares it yet.
  const policy: Policy & { close(): Promise<void> } = {
    name: 'phoebe-2022',
    intervalSeconds: cfg.decisionIntervalSeconds,
    async decide(signals: Signals): Promise<PolicyDecision> {
      const { latest, history } = signals;
      seen.scan(history);
      if (latest.status !== 'RUNNING') return {};
      const now = latest.t;
      const changeAt = Math.max(seen.lastChangeAt ?? now, requestedAt);
      if (!quietPeriodOver(now, changeAt, cfg.quietPeriodSeconds)) return {};
      const capacity = fitCapacityModel(seen.capacity);
      if (capacity === undefined) return { reason: 'no capacity observation yet' };

      let mean: number[];
      try {
        mean = await forecastFrom(history, changeAt, now);
      } catch (err) {
        feed = undefined;
        return { reason: `forecast failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      const predictedThroughput = maxBinMean(mean, cfg.forecastBins);

      // Seconds [now − C, now] from history, then each forecast step held for its bucket.
      const C = context.checkpointIntervalSeconds;
      const rates = new Float64Array(C + 1 + mean.length * cfg.bucketSeconds);
      let i = indexAtOrAfter(history, now - C);
      let carried = history.arrivalRate[i] as number;
      for (let s = 0; s <= C; s++) {
        if (i < history.length && (history.t[i] as number) === now - C + s) carried = history.arrivalRate[i++] as number;
        rates[s] = carried;
      }
      for (let k = 0; k < mean.length; k++) rates.fill(mean[k] as number, C + 1 + k * cfg.bucketSeconds, C + 1 + (k + 1) * cfg.bucketSeconds);
      const profile = arrivalProfile(now - C, rates);

      const downtime = seen.downtimeSeconds();
      const a = seen.latencyBase();
      const candidates: CandidateEvaluation[] = [];
      for (let p = context.minParallelism; p <= context.maxParallelism; p++) {
        const mu = capacityAt(capacity, p);
        candidates.push({
          parallelism: p,
          recoverySeconds: recoveryTime(profile, now, C, downtime, mu).seconds,
          latencySeconds: predictLatency(a, predictedThroughput, mu),
        });
      }
      const choice = chooseParallelism(candidates, context.slo, cfg.hysteresis);
      options.onEvaluation?.({ now, predictedThroughput, capacity, observations: [...seen.capacity], downtimeSeconds: downtime, latencyBase: a, candidates, choice });
      const p = latest.parallelism;
      if (choice === undefined || !shouldRescale(p, choice.parallelism, cfg.minScaleDownStep)) return {};
      // The rescale takes effect from the next second: the quiet period counts from there.
      requestedAt = now + 1;
      const chosen = candidates.find((c) => c.parallelism === choice.parallelism);
      return {
        parallelism: choice.parallelism,
        reason: `${choice.rule}: predicted ${predictedThroughput.toFixed(0)}/s, recovery ${chosen?.recoverySeconds.toFixed(0)} s, latency ${chosen?.latencySeconds.toFixed(2)} s`,
      };
    },
    async close(): Promise<void> {
      await forecaster?.close();
      forecaster = undefined;
      feed = undefined;
    },
  };
  return policy;
}
