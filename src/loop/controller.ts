import {
  ActuationGate, ActuationLimits, type Admission, type Admitted, type Blocked, type GateLogEvent, type GateMetrics, type Leadership,
} from '../act/actuation-gate.js';
import type { RescaleRequest, RescaleResult } from '../act/actuator.js';
import { madeRescales } from '../act/rescale-history.js';
import { assessSignalQuality, type HoldReason, type QualityVerdict, type SourceQuality } from '../observe/signal-quality.js';
import type { Signals } from '../observe/signals.js';
import type { Clock } from '../util/clock.js';
import type { ControllerSettings } from './controller-settings.js';
import type { DecisionPipeline, PipelineDecision } from './decision-pipeline.js';

/** What the driver read for this step: the signals, or why there are none; and what the source saw. */
export type Reading =
  | { signals: Signals; source?: SourceQuality | undefined }
  | { readError: unknown; source?: SourceQuality | undefined };

/** What to do about a plan. */
export type Action =
  /** Nothing: the plan keeps the parallelism, or phoebe only recommends. */
  | { kind: 'none' }
  /** Rescale as `admitted.request` says, then hand the result to finish(). */
  | { kind: 'rescale'; admitted: Admitted }
  /** The plan wants a rescale the gate holds (leadership, pause, a limit, the breaker, one in flight). */
  | { kind: 'blocked'; blocked: Blocked };

/** The data became good again after a hold. */
export interface Resumed {
  after: HoldReason[];
  heldSeconds: number;
}

export type Step =
  /** The data is not good enough to act on: hold the parallelism. */
  | { kind: 'hold'; verdict: QualityVerdict; since: number; sourceFailed: boolean }
  /** Not ready to decide yet (warm-up, the job not running, models without data). */
  | { kind: 'wait'; reason: string; warmingUp: boolean; resumed?: Resumed }
  | { kind: 'decision'; time: number; plan: PipelineDecision; action: Action; resumed?: Resumed };

export interface ControllerOptions {
  settings: ControllerSettings;
  pipeline: DecisionPipeline;
  /** The driver's time: the system's in `phoebe run`, the simulated one in the twin. */
  clock: Clock;
  /** Decide and report but never ask for a rescale (actuation.mode recommend). */
  recommendOnly?: boolean;
  /** Without: this instance always may act. */
  leadership?: Leadership;
  metrics?: GateMetrics;
  log?: (event: GateLogEvent) => void;
}

/**
 * phoebe's controller step, the same in `phoebe run` (ControlLoop) and in the twin (the `phoebe`
 * policy): signals in → quality check → warm-up → models, forecast, plan → actuation gate → what
 * to do. No I/O: the driver reads, performs the rescale it is told to and reports the outcome
 * back (finish()). It carries what outlives a step: the hold, the pipeline's models and
 * forecaster, and — in the gate — phoebe's one rescale history, handed to the quality check and
 * the planner as data.
 */
export class Controller {
  readonly gate: ActuationGate;
  private readonly settings: ControllerSettings;
  /** The data problems phoebe holds for, since when (unix s); undefined while the data is good. */
  private holding: { verdict: QualityVerdict; since: number } | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.settings = options.settings;
    this.gate = new ActuationGate({
      limits: new ActuationLimits(options.settings.limits, options.clock),
      clock: options.clock,
      ...(options.leadership ? { leadership: options.leadership } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** The driver's time now, unix s. */
  get now(): number {
    return this.options.clock.now() / 1000;
  }

  async step(reading: Reading): Promise<Step> {
    const now = this.now;
    const signals = 'signals' in reading ? reading.signals : undefined;
    const readError = 'readError' in reading ? (reading.readError ?? new Error('unknown error')) : undefined;
    // Bad or missing data never causes an action: hold, say why, resume once it is good again.
    const verdict = assessSignalQuality({
      now, signals, readError, source: reading.source, ownRescales: this.gate.history.records,
    }, this.settings.quality);
    if (!verdict.ok || !signals) {
      this.holding = { verdict, since: this.holding?.since ?? now };
      return { kind: 'hold', verdict, since: this.holding.since, sourceFailed: readError !== undefined };
    }
    const resumed = this.holding ? { resumed: { after: this.holding.verdict.reasons, heldSeconds: Math.round(now - this.holding.since) } } : {};
    this.holding = undefined;

    const span = signals.latest.t - (signals.history.t[0] as number);
    const minHistory = this.settings.minHistorySeconds;
    if (span < minHistory) return { kind: 'wait', reason: `warming up: ${span.toFixed(0)} s of history, deciding from ${minHistory} s`, warmingUp: true, ...resumed };

    const rescaleTimes = madeRescales(this.gate.history.records).map((r) => r.start);
    const outcome = await this.options.pipeline.decide(signals, rescaleTimes, now);
    if (outcome.kind === 'waiting') return { kind: 'wait', reason: outcome.reason, warmingUp: false, ...resumed };
    const { decision } = outcome;
    let action: Action = { kind: 'none' };
    if (decision.action !== 'hold' && !this.options.recommendOnly) {
      const admission = this.gate.admit({ parallelism: decision.recommendedParallelism, reason: decision.reason, decision }, 'decision');
      action = admission.kind === 'admitted' ? { kind: 'rescale', admitted: admission } : admission;
    }
    return { kind: 'decision', time: now, plan: outcome, action, ...resumed };
  }

  /**
   * An operator's rescale (the admin API) through the same gate as the plan's: leadership,
   * single flight, rate limits, circuit breaker (a pause does not hold it).
   */
  force(request: RescaleRequest): Admission {
    return this.gate.admit(request, 'force');
  }

  /** How an admitted rescale ended: the history, the rate limits and the breaker learn of it. */
  finish(admitted: Admitted, result: RescaleResult): void {
    this.gate.finish(admitted, result);
  }

  /** For the status document. */
  dataQuality(): { ok: true } | { ok: false; since: number; reasons: HoldReason[]; problems: QualityVerdict['problems'] } {
    const h = this.holding;
    return h ? { ok: false, since: h.since, reasons: h.verdict.reasons, problems: h.verdict.problems } : { ok: true };
  }

  async close(): Promise<void> {
    await this.options.pipeline.close();
  }
}
