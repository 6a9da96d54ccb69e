import { EnsembleForecaster } from '../../forecast/forecaster.js';
import type { Forecaster } from '../../forecast/types.js';
import { observeDowntimes } from '../../models/downtime.js';
import { JOB_STATUS_CODE, indexAtOrAfter, type SignalHistory, type Signals } from '../../observe/signals.js';
import { bucketMeans } from '../../observe/window.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy.js';
import {
  arrivalProfile, capacityAt, chooseParallelism, fitCapacityModel, maxBinMean, predictLatency, quietPeriodOver, recoveryTime, shouldRescale,
  type CandidateEvaluation, type CapacityModel, type CapacityObservation, type Choice,
} from './phoebe-2022-rules.js';

/**
 * The original Phoebe prototype (CCGrid 2022) as a twin policy: what it learns from the signals
 * and when it applies its rules (phoebe-2022-rules.ts).
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
// What the policy learns from the signals it has seen.

/**
 * Scans each new stretch of history once: changes (failures, rescales), capacity observations
 * and the latency model's evidence. Keyed by time, not index, so a
 * history that drops old samples (a Prometheus range) works too.
 */
class Observations {
  lastChangeAt: number | undefined;
  readonly capacity: CapacityObservation[] = [];
  private seeded = false;
  private scannedUntil = Number.NEGATIVE_INFINITY;
  private prevStatus: number | undefined;
  private prevRestarts: number | undefined;
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

  /** Mean length of the completed RESTARTING spells in the history, or the prior before any. */
  downtimeSeconds(history: SignalHistory): number {
    const spells = observeDowntimes(history).restarts;
    if (spells.length === 0) return this.cfg.downtimePriorSeconds;
    return spells.reduce((a, d) => a + d, 0) / spells.length;
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
 * - D is the mean length of the RESTARTING spells in the history (the prior before the first);
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

      const downtime = seen.downtimeSeconds(history);
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
