import { performance } from 'node:perf_hooks';
import type { Actuator, RescaleRequest, RescaleResult } from '../act/actuator.js';
import type { PhoebeMetrics } from '../export/metrics.js';
import type { ServerState } from '../export/server.js';
import { assessSignalQuality, type QualityOptions, type QualityVerdict, type SourceQuality } from '../observe/signal-quality.js';
import type { Signals } from '../observe/signals.js';
import type { Decision } from '../planner/decision.js';
import { ActuationGate, type ActuationLimits, type ActuationSource, type Blocked, type GateOutcome, type Leadership } from '../act/actuation-gate.js';
import type { DecisionPipeline } from './decision-pipeline.js';

/** Where the loop's signals come from (Prometheus in production). */
export interface SignalSource {
  /** The history up to now, backfilled on the first call and extended on every later one. */
  read(): Promise<Signals>;
  /** What the source saw beyond the Signals (raw answers, its clock), for the signal-quality check. */
  quality?(): SourceQuality;
}

export interface LoopEvent {
  event: 'decision' | 'waiting' | 'rescale' | 'source-error' | 'stale' | 'error' | 'hold' | 'resume' | 'blocked' | 'circuit-breaker' | 'admin';
  [key: string]: unknown;
}

export interface ControlLoopOptions {
  source: SignalSource;
  pipeline: DecisionPipeline;
  actuator: Actuator;
  metrics: PhoebeMetrics;
  intervalSeconds: number;
  /** Newest sample older than this (s) means the data is stale: hold and report not ready. */
  staleAfterSeconds: number;
  /**
   * Hold until the history spans this long (s): rates over windows longer than the series
   * (a fresh Prometheus, a new job) read low and would plan a scale-down. Default 0.
   */
  minHistorySeconds?: number;
  /**
   * The signal-quality check before every decision (src/observe/signal-quality.ts). Defaults:
   * clock skew 10 s, settle max(minHistorySeconds, 2 intervals), own-rescale grace max(60 s, 3 intervals).
   */
  quality?: Partial<Omit<QualityOptions, 'staleAfterSeconds'>>;
  log: (event: LoopEvent) => void;
  /** Rate limits and circuit breaker on actuation (src/loop/actuation-limits.ts); without: none. */
  limits?: ActuationLimits;
  /** Leader election: only the leader acts; without: this instance always may. */
  leadership?: Leadership;
  /** Wall clock in ms (injectable for tests). */
  now?: () => number;
}

interface LastDecision {
  time: number;
  decision: Decision;
  forecastSource: string;
  rescale?: RescaleResult;
  /** Why the rescale the decision asked for was not made (not leader, paused, a limit). */
  blocked?: Blocked;
}

/**
 * The control loop of `phoebe run`: every interval it reads the signals, runs the decision
 * pipeline, acts through the actuator when the plan says so (never two rescales at once),
 * and updates what /metrics, /readyz and /api/v1/status show.
 */
export class ControlLoop implements ServerState {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private lastTickAt: number;
  private lastSourceOkAt = Number.NEGATIVE_INFINITY;
  private notReadyReason = 'no decision yet';
  private last: LastDecision | undefined;
  /** Leadership, pause, rate limits, circuit breaker and single flight in front of the actuator. */
  private readonly gate: ActuationGate;
  private forcing: Promise<unknown> | undefined;
  private readonly qualityOptions: QualityOptions;
  /** phoebe's own rescales (unix s), newest last: restarts they cause are no data problem. */
  private readonly ownRescales: { start: number; end: number }[] = [];
  /** The data problems phoebe holds for, since when (unix s); undefined while the data is good. */
  private holding: { verdict: QualityVerdict; since: number } | undefined;

  constructor(private readonly options: ControlLoopOptions) {
    this.now = options.now ?? Date.now;
    this.lastTickAt = this.now();
    this.gate = new ActuationGate({
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.leadership ? { leadership: options.leadership } : {}),
      metrics: options.metrics, log: (event) => options.log(event), now: this.now,
    });
    this.qualityOptions = {
      staleAfterSeconds: options.staleAfterSeconds,
      maxClockSkewSeconds: options.quality?.maxClockSkewSeconds ?? 10,
      settleSeconds: options.quality?.settleSeconds ?? Math.max(options.minHistorySeconds ?? 0, 2 * options.intervalSeconds),
      ownRescaleGraceSeconds: options.quality?.ownRescaleGraceSeconds ?? Math.max(60, 3 * options.intervalSeconds),
    };
  }

  /** One decision; resolves when it (and any rescale it started) is done. Never rejects. */
  async tick(): Promise<void> {
    const { metrics, log } = this.options;
    const started = performance.now();
    this.lastTickAt = this.now();
    let signals: Signals | undefined;
    let readError: unknown;
    try {
      signals = await this.options.source.read();
      this.lastSourceOkAt = this.now();
    } catch (err) {
      readError = err ?? new Error('unknown error');
    }
    // Bad or missing data never causes an action: hold, say why, resume once it is good again.
    const verdict = assessSignalQuality({
      now: this.now() / 1000, signals, readError, source: this.options.source.quality?.(), ownRescales: this.ownRescales,
    }, this.qualityOptions);
    metrics.setHold(verdict.reasons);
    const age = signals ? this.now() / 1000 - signals.latest.t : undefined;
    if (!verdict.ok || !signals) {
      this.holding = { verdict, since: this.holding?.since ?? this.now() / 1000 };
      this.notReadyReason = `holding (${verdict.reasons.join(', ')}): ${verdict.problems.map((p) => p.detail).join('; ')}`;
      metrics.setReadiness(false, age);
      log({ event: readError === undefined ? 'hold' : 'source-error', hold: verdict.reasons, reason: this.notReadyReason });
      return;
    }
    if (this.holding) {
      log({ event: 'resume', after: this.holding.verdict.reasons, heldSeconds: Math.round(this.now() / 1000 - this.holding.since) });
      this.holding = undefined;
    }
    const span = signals.latest.t - (signals.history.t[0] as number);
    const minHistory = this.options.minHistorySeconds ?? 0;
    if (span < minHistory) {
      this.notReadyReason = `warming up: ${span.toFixed(0)} s of history, deciding from ${minHistory} s`;
      metrics.setReadiness(false, age);
      log({ event: 'waiting', reason: this.notReadyReason });
      return;
    }
    try {
      const outcome = await this.options.pipeline.decide(signals);
      const seconds = (performance.now() - started) / 1000;
      if (outcome.kind === 'waiting') {
        this.notReadyReason = outcome.reason;
        metrics.recordWaiting(seconds);
        metrics.setReadiness(false, age);
        log({ event: 'waiting', reason: outcome.reason });
        return;
      }
      const { decision } = outcome;
      this.notReadyReason = 'ready';
      metrics.setReadiness(true, age);
      metrics.recordDecision({
        decision, forecast: outcome.forecast, budget: outcome.budget, forecastErrorRatio: outcome.forecastErrorRatio,
        seconds, time: this.now() / 1000, observedLatencySeconds: signals.latest.latencySeconds,
      });
      this.last = { time: this.now() / 1000, decision, forecastSource: outcome.forecastSource };
      log({
        event: 'decision', action: decision.action, current: decision.currentParallelism, recommended: decision.recommendedParallelism,
        reason: decision.reason, heldBy: decision.heldBy, seconds: Number(seconds.toFixed(3)),
      });
      if (decision.action !== 'hold' && this.options.actuator.mode !== 'recommend') {
        const last = this.last;
        const outcome = await this.actuate({ parallelism: decision.recommendedParallelism, reason: decision.reason, decision }, 'decision', signals.latest.t, decision.currentParallelism);
        if (outcome.kind === 'done') last.rescale = outcome.result;
        else last.blocked = outcome.blocked;
      }
    } catch (err) {
      // A bug in a stage must not kill the sidecar: hold, report, and try again next tick.
      this.notReadyReason = `decision failed: ${err instanceof Error ? err.message : String(err)}`;
      metrics.setReadiness(false, age);
      log({ event: 'error', reason: this.notReadyReason });
    }
  }

  /**
   * Through the gate to the actuator: the pipeline learns of the rescale (its own rate limits)
   * only when it is really made. `time`: the signals' time (s) it is recorded at.
   */
  private async actuate(request: RescaleRequest, source: ActuationSource, time: number, from: number | undefined): Promise<GateOutcome> {
    const { metrics, log, actuator, pipeline } = this.options;
    const outcome = await this.gate.run(request, source, async (r) => {
      pipeline.recordRescale(time);
      const own = { start: this.now() / 1000, end: Number.POSITIVE_INFINITY };
      this.ownRescales.push(own);
      if (this.ownRescales.length > 16) this.ownRescales.shift();
      try {
        return await actuator.rescale(r);
      } finally {
        own.end = this.now() / 1000;
      }
    });
    if (outcome.kind === 'done') {
      const result = outcome.result;
      metrics.recordRescale(result);
      log({ event: 'rescale', source, from, to: request.parallelism, outcome: result.outcome, detail: result.detail, seconds: result.seconds });
    }
    return outcome;
  }

  /** Admin: recommend-only until resume(); true when it was not paused. */
  pause(): boolean {
    return this.gate.pause();
  }

  /** Admin: act on decisions again; true when it was paused. */
  resume(): boolean {
    return this.gate.resume();
  }

  /** Admin: close the circuit breaker; true when it was open. */
  resetCircuitBreaker(): boolean {
    return this.gate.resetCircuitBreaker();
  }

  /**
   * Admin: one rescale to `parallelism` through the same gate as the plan's (leadership, single
   * flight, rate limits, circuit breaker; a pause does not hold it). Starts it and returns at once;
   * the outcome is logged, counted and shown in the status.
   */
  force(parallelism: number): { accepted: true } | { accepted: false; reason: string; detail: string } {
    if (this.options.actuator.mode === 'recommend') {
      return { accepted: false, reason: 'recommend-mode', detail: 'actuation.mode is recommend: phoebe never rescales' };
    }
    const blocked = this.gate.check('force');
    // A held request still goes through the gate, which counts and logs it.
    const from = this.last?.decision.currentParallelism;
    const started = this.actuate({ parallelism, reason: `forced to ${parallelism} by an operator (admin API)` }, 'force', this.now() / 1000, from);
    if (blocked) return { accepted: false, reason: blocked.reason, detail: blocked.detail };
    this.forcing = started.finally(() => { this.forcing = undefined; });
    return { accepted: true };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const schedule = (): void => {
      if (!this.running) return;
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (this.running) this.timer = setTimeout(schedule, this.options.intervalSeconds * 1000);
      });
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await this.forcing;
    await this.options.pipeline.close();
  }

  live(): boolean {
    // A tick may include a rescale (minutes); beyond ten intervals plus that, something is stuck.
    return this.now() - this.lastTickAt < Math.max(600, 10 * this.options.intervalSeconds) * 1000;
  }

  readiness(): { ready: boolean; reason: string } {
    const fresh = this.now() - this.lastSourceOkAt < 3 * this.options.intervalSeconds * 1000;
    if (!fresh && this.notReadyReason === 'ready') return { ready: false, reason: 'no answer from the signal source recently' };
    return { ready: this.notReadyReason === 'ready' && fresh, reason: this.notReadyReason };
  }

  status(): unknown {
    return {
      mode: this.options.actuator.mode,
      readiness: this.readiness(),
      actuation: this.gate.status(),
      dataQuality: this.holding
        ? { ok: false, since: this.holding.since, reasons: this.holding.verdict.reasons, problems: this.holding.verdict.problems }
        : { ok: true },
      lastDecision: this.last ?? null,
    };
  }
}
