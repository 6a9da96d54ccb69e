import { performance } from 'node:perf_hooks';
import type { Actuator, RescaleRequest, RescaleResult } from '../act/actuator.js';
import type { ActuationSource, Admitted, Blocked, Leadership } from '../act/actuation-gate.js';
import type { ServerState } from '../export/server.js';
import type { SourceQuality } from '../observe/signal-quality.js';
import type { Signals } from '../observe/signals.js';
import type { Decision } from '../planner/decision.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Controller, type Reading, type Step } from './controller.js';
import type { ControllerSettings } from './controller-settings.js';
import type { DecisionPipeline } from './decision-pipeline.js';
import type { LoopMetrics } from './loop-metrics.js';

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
  /** The controller step's settings (src/loop/controller-settings.ts builds them from the configuration). */
  settings: ControllerSettings;
  pipeline: DecisionPipeline;
  actuator: Actuator;
  metrics: LoopMetrics;
  log: (event: LoopEvent) => void;
  /** Leader election: only the leader acts; without: this instance always may. */
  leadership?: Leadership;
  /** Default: the system clock; tests run the loop on a FakeClock. */
  clock?: Clock;
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
 * The control loop of `phoebe run` around the controller step (src/loop/controller.ts): every
 * interval it reads the signals, runs the step, performs the rescale the step asks for (never two
 * at once), and updates what /metrics, /readyz and /api/v1/status show. Admin actions go to the
 * same gate.
 */
export class ControlLoop implements ServerState {
  private readonly clock: Clock;
  private readonly controller: Controller;
  private running = false;
  /** Aborts the wait for the next tick on stop(). */
  private stopping: AbortController | undefined;
  private looping: Promise<void> | undefined;
  private lastTickAt: number;
  private lastSourceOkAt = Number.NEGATIVE_INFINITY;
  private notReadyReason = 'no decision yet';
  private last: LastDecision | undefined;
  private forcing: Promise<unknown> | undefined;
  /** The gate's events during a step, logged after the decision they are about. */
  private gateEvents: LoopEvent[] | undefined;

  constructor(private readonly options: ControlLoopOptions) {
    this.clock = options.clock ?? systemClock;
    this.lastTickAt = this.clock.now();
    this.controller = new Controller({
      settings: options.settings, pipeline: options.pipeline, clock: this.clock, recommendOnly: options.actuator.mode === 'recommend',
      ...(options.leadership ? { leadership: options.leadership } : {}),
      metrics: options.metrics, log: (event) => (this.gateEvents ? this.gateEvents.push(event) : options.log(event)),
    });
  }

  /** One decision; resolves when it (and any rescale it started) is done. Never rejects. */
  async tick(): Promise<void> {
    const { log } = this.options;
    const started = performance.now();
    this.lastTickAt = this.clock.now();
    let reading: Reading;
    try {
      const signals = await this.options.source.read();
      this.lastSourceOkAt = this.clock.now();
      reading = { signals, source: this.options.source.quality?.() };
    } catch (err) {
      reading = { readError: err ?? new Error('unknown error'), source: this.options.source.quality?.() };
    }
    const age = 'signals' in reading ? this.clock.now() / 1000 - reading.signals.latest.t : undefined;
    let step: Step;
    this.gateEvents = [];
    try {
      step = await this.controller.step(reading);
    } catch (err) {
      // A bug in a stage must not kill the sidecar: hold, report, and try again next tick.
      this.notReady(`decision failed: ${err instanceof Error ? err.message : String(err)}`, age);
      log({ event: 'error', reason: this.notReadyReason });
      this.flushGateEvents();
      return;
    }
    this.options.metrics.setHold(step.kind === 'hold' ? step.verdict.reasons : []);
    if (step.kind !== 'hold' && step.resumed) log({ event: 'resume', ...step.resumed });
    await this.perform(step, (performance.now() - started) / 1000, age, reading);
  }

  /** Reports a step and makes the rescale it asks for. */
  private async perform(step: Step, seconds: number, age: number | undefined, reading: Reading): Promise<void> {
    const { metrics, log } = this.options;
    if (step.kind !== 'decision') this.flushGateEvents();
    if (step.kind === 'hold') {
      const { verdict } = step;
      this.notReady(`holding (${verdict.reasons.join(', ')}): ${verdict.problems.map((p) => p.detail).join('; ')}`, age);
      log({ event: step.sourceFailed ? 'source-error' : 'hold', hold: verdict.reasons, reason: this.notReadyReason });
      return;
    }
    if (step.kind === 'wait') {
      // The warm-up is decided before any model runs: only the pipeline's waiting counts as a decision.
      if (!step.warmingUp) metrics.recordWaiting(seconds);
      this.notReady(step.reason, age);
      log({ event: 'waiting', reason: step.reason });
      return;
    }
    const { plan, action } = step;
    const { decision } = plan;
    this.notReadyReason = 'ready';
    metrics.setReadiness(true, age);
    metrics.recordDecision({
      decision, forecast: plan.forecast, budget: plan.budget, forecastErrorRatio: plan.forecastErrorRatio, seconds, time: step.time,
      ...('signals' in reading ? { observedLatencySeconds: reading.signals.latest.latencySeconds } : {}),
    });
    const last: LastDecision = { time: step.time, decision, forecastSource: plan.forecastSource };
    this.last = last;
    log({
      event: 'decision', action: decision.action, current: decision.currentParallelism, recommended: decision.recommendedParallelism,
      reason: decision.reason, heldBy: decision.heldBy, seconds: Number(seconds.toFixed(3)),
    });
    this.flushGateEvents();
    if (action.kind === 'blocked') last.blocked = action.blocked;
    if (action.kind === 'rescale') last.rescale = await this.rescale(action.admitted, decision.currentParallelism);
  }

  private flushGateEvents(): void {
    const events = this.gateEvents ?? [];
    this.gateEvents = undefined;
    for (const event of events) this.options.log(event);
  }

  private notReady(reason: string, age: number | undefined): void {
    this.notReadyReason = reason;
    this.options.metrics.setReadiness(false, age);
  }

  /** Makes an admitted rescale and reports its outcome back to the controller. */
  private async rescale(admitted: Admitted, from: number | undefined): Promise<RescaleResult> {
    const { metrics, log, actuator } = this.options;
    let result: RescaleResult = { outcome: 'failed', detail: 'the actuator threw', seconds: 0 };
    try {
      result = await actuator.rescale(admitted.request);
    } finally {
      this.controller.finish(admitted, result);
    }
    metrics.recordRescale(result);
    const source: ActuationSource = admitted.source;
    log({ event: 'rescale', source, from, to: admitted.request.parallelism, outcome: result.outcome, detail: result.detail, seconds: result.seconds });
    return result;
  }

  /** Admin: recommend-only until resume(); true when it was not paused. */
  pause(): boolean {
    return this.controller.gate.pause();
  }

  /** Admin: act on decisions again; true when it was paused. */
  resume(): boolean {
    return this.controller.gate.resume();
  }

  /** Admin: close the circuit breaker; true when it was open. */
  resetCircuitBreaker(): boolean {
    return this.controller.gate.resetCircuitBreaker();
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
    const request: RescaleRequest = { parallelism, reason: `forced to ${parallelism} by an operator (admin API)` };
    // A held request still goes through the gate, which counts and logs it.
    const admission = this.controller.force(request);
    if (admission.kind === 'blocked') return { accepted: false, reason: admission.blocked.reason, detail: admission.blocked.detail };
    this.forcing = this.rescale(admission, this.last?.decision.currentParallelism).finally(() => { this.forcing = undefined; });
    return { accepted: true };
  }

  /** Ticks now and then every interval after the previous tick ended, until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const stopping = new AbortController();
    this.stopping = stopping;
    this.looping = (async () => {
      while (this.running) {
        await this.tick();
        if (this.running) await this.clock.sleep(this.options.settings.intervalSeconds * 1000, stopping.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping?.abort();
    await this.looping;
    await this.forcing;
    await this.controller.close();
  }

  live(): boolean {
    // A tick may include a rescale (minutes); beyond ten intervals plus that, something is stuck.
    return this.clock.now() - this.lastTickAt < Math.max(600, 10 * this.options.settings.intervalSeconds) * 1000;
  }

  readiness(): { ready: boolean; reason: string } {
    const fresh = this.clock.now() - this.lastSourceOkAt < 3 * this.options.settings.intervalSeconds * 1000;
    if (!fresh && this.notReadyReason === 'ready') return { ready: false, reason: 'no answer from the signal source recently' };
    return { ready: this.notReadyReason === 'ready' && fresh, reason: this.notReadyReason };
  }

  status(): unknown {
    return {
      mode: this.options.actuator.mode,
      readiness: this.readiness(),
      actuation: this.controller.gate.status(),
      dataQuality: this.controller.dataQuality(),
      lastDecision: this.last ?? null,
    };
  }
}
