import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorBudgetState } from '../planner/error-budget.js';
import type { Decision } from '../planner/decision.js';
import type { WorkloadForecast } from '../planner/planner.js';
import type { RescaleResult } from '../act/actuator.js';
import { HOLD_REASONS } from '../observe/signal-quality.js';
import { BLOCK_REASONS, type BlockReason } from '../act/actuation-gate.js';

/** Forecast horizons (s) published as series; bounded so the label set stays small. */
export const FORECAST_HORIZONS_SECONDS = [60, 300, 600] as const;

/** One decision as /metrics shows it. */
export interface DecisionRecord {
  decision: Decision;
  forecast: WorkloadForecast;
  budget: ErrorBudgetState;
  forecastErrorRatio: number | null;
  /** Wall seconds the decision took. */
  seconds: number;
  /** Unix s it was made at. */
  time: number;
  observedLatencySeconds?: number;
}

/**
 * phoebe's own metrics, named by Prometheus conventions: `phoebe_` prefix, base units
 * (seconds, records), `_total` counters, and labels with small fixed value sets (a
 * parallelism label only ranges over the configured bounds).
 */
export class PhoebeMetrics {
  readonly registry = new Registry();
  private readonly current: Gauge;
  private readonly recommended: Gauge;
  private readonly required: Gauge;
  private readonly bounds: Gauge;
  private readonly arrival: Gauge;
  private readonly lag: Gauge;
  private readonly forecast: Gauge;
  private readonly predictedRecovery: Gauge;
  private readonly predictedLatency: Gauge;
  private readonly capacity: Gauge;
  private readonly slo: Gauge;
  private readonly forecastError: Gauge;
  private readonly budgetSpent: Gauge;
  private readonly violationPrice: Gauge;
  private readonly decisionDuration: Histogram;
  private readonly decisions: Counter;
  private readonly rescales: Counter;
  private readonly metricAge: Gauge;
  private readonly ready: Gauge;
  private readonly lastDecision: Gauge;
  private readonly downtime: Gauge;
  private readonly recoveryAtCurrent: Gauge;
  private readonly latencyAtCurrent: Gauge;
  private readonly observedLatency: Gauge;
  private readonly mode: Gauge;
  private readonly hold: Gauge;
  private readonly unhandledRejections: Counter;
  private readonly leader: Gauge;
  private readonly actuationBlocked: Counter;
  private readonly circuitBreakerOpen: Gauge;
  private readonly actuationPaused: Gauge;

  constructor(options: { defaultMetrics?: boolean; mode?: string; leaderElection?: boolean; slo: { latencySeconds: number; latencyObjective: number; recoveryTimeSeconds: number }; minParallelism: number; maxParallelism: number }) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, labelNames: string[] = []): Gauge => new Gauge({ name, help, labelNames, registers });
    this.current = gauge('phoebe_parallelism', 'Parallelism the job runs at, as last observed.');
    this.recommended = gauge('phoebe_parallelism_recommended', 'Parallelism phoebe recommends now.');
    this.required = gauge('phoebe_parallelism_required', 'Smallest parallelism meeting both SLOs at the next forecast step.');
    this.bounds = gauge('phoebe_parallelism_bound', 'Configured parallelism bounds.', ['bound']);
    this.arrival = gauge('phoebe_arrival_rate_records_per_second', 'Observed arrival rate at the source topic.');
    this.lag = gauge('phoebe_lag_records', 'Observed backlog of the source.');
    this.forecast = gauge('phoebe_forecast_arrival_rate_records_per_second', 'Forecast arrival rate at a horizon, central and upper bound.', ['horizon_seconds', 'bound']);
    this.predictedRecovery = gauge('phoebe_predicted_recovery_seconds', 'Worst predicted recovery time after a failure over the horizon, per candidate parallelism (+Inf: never).', ['parallelism']);
    this.predictedLatency = gauge('phoebe_predicted_latency_seconds', 'Worst predicted latency over the horizon, per candidate parallelism (+Inf: overloaded).', ['parallelism']);
    this.capacity = gauge('phoebe_capacity_records_per_second', 'Estimated maximum throughput per candidate parallelism: expected and the pessimistic value planned with.', ['parallelism', 'estimate']);
    this.slo = gauge('phoebe_slo_target', 'SLO targets: latency_seconds, recovery_seconds, latency_objective_ratio.', ['slo']);
    this.forecastError = gauge('phoebe_forecast_error_ratio', 'Rolling forecast mean absolute error relative to the series level.');
    this.budgetSpent = gauge('phoebe_latency_error_budget_spent_ratio', 'Share of the latency error budget spent in the budget window.');
    this.violationPrice = gauge('phoebe_violation_price_slot_seconds', 'Slot-seconds one second over the latency SLO is worth now (rescale economics).');
    this.decisionDuration = new Histogram({ name: 'phoebe_decision_duration_seconds', help: 'Wall time of one decision (read, models, forecast, plan).', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
    this.decisions = new Counter({ name: 'phoebe_decisions_total', help: 'Decisions by action.', labelNames: ['action'], registers });
    this.rescales = new Counter({ name: 'phoebe_rescales_total', help: 'Rescales phoebe requested, by result.', labelNames: ['result'], registers });
    this.metricAge = gauge('phoebe_metric_age_seconds', 'Age of the newest sample phoebe read from Prometheus.');
    this.ready = gauge('phoebe_ready', '1 when phoebe has fresh data and models, 0 otherwise.');
    this.lastDecision = gauge('phoebe_last_decision_timestamp_seconds', 'Unix time of the last decision.');
    this.downtime = gauge('phoebe_downtime_estimate_seconds', 'Learned downtime of a restart and of a rescale.', ['kind']);
    // The current parallelism's predictions on their own, so alerts need no label arithmetic.
    this.recoveryAtCurrent = gauge('phoebe_predicted_recovery_current_seconds', 'Worst predicted recovery time over the horizon at the current parallelism (+Inf: never).');
    this.latencyAtCurrent = gauge('phoebe_predicted_latency_current_seconds', 'Worst predicted latency over the horizon at the current parallelism (+Inf: overloaded).');
    this.observedLatency = gauge('phoebe_latency_seconds', 'End-to-end latency of the job as phoebe last read it.');
    this.mode = gauge('phoebe_actuation_mode', 'The actuation mode phoebe runs in (1 for the active one).', ['mode']);
    if (options.mode) this.mode.set({ mode: options.mode }, 1);
    this.hold = gauge('phoebe_hold', '1 while phoebe holds the parallelism because of bad or missing data, by reason (see src/observe/signal-quality.ts).', ['reason']);
    for (const reason of HOLD_REASONS) this.hold.set({ reason }, 0);
    this.unhandledRejections = new Counter({ name: 'phoebe_unhandled_rejections_total', help: 'Promise rejections nothing handled (each is logged; 0 expected).', registers });
    this.leader = gauge('phoebe_leader', '1 when this instance holds the leader lease and may act (always 1 without leader election), 0 when it only recommends.');
    this.actuationBlocked = new Counter({ name: 'phoebe_actuation_blocked_total', help: 'Rescales phoebe wanted but did not make, by reason (not-leader, paused, circuit-open, min-interval, max-per-hour, in-progress).', labelNames: ['reason'], registers });
    this.circuitBreakerOpen = gauge('phoebe_circuit_breaker_open', '1 while the circuit breaker is open after consecutive failed rescales (recommend-only until an operator resets it).');
    this.actuationPaused = gauge('phoebe_actuation_paused', '1 while an operator has paused actuation (recommend-only until resumed).');
    this.leader.set(options.leaderElection ? 0 : 1);
    for (const reason of BLOCK_REASONS) this.actuationBlocked.inc({ reason }, 0);
    this.circuitBreakerOpen.set(0);
    this.actuationPaused.set(0);

    this.slo.set({ slo: 'latency_seconds' }, options.slo.latencySeconds);
    this.slo.set({ slo: 'recovery_seconds' }, options.slo.recoveryTimeSeconds);
    this.slo.set({ slo: 'latency_objective_ratio' }, options.slo.latencyObjective);
    this.bounds.set({ bound: 'min' }, options.minParallelism);
    this.bounds.set({ bound: 'max' }, options.maxParallelism);
    for (const result of ['completed', 'failed', 'skipped']) this.rescales.inc({ result }, 0);
    for (const action of ['hold', 'scale-up', 'scale-down', 'waiting']) this.decisions.inc({ action }, 0);
  }

  recordDecision(input: DecisionRecord): void {
    const { decision, forecast } = input;
    this.decisions.inc({ action: decision.action });
    this.decisionDuration.observe(input.seconds);
    this.lastDecision.set(input.time);
    this.current.set(decision.currentParallelism);
    this.recommended.set(decision.recommendedParallelism);
    this.required.set(decision.requiredPerStep[0] ?? decision.currentParallelism);
    this.arrival.set(decision.inputs.arrivalRate);
    this.lag.set(decision.inputs.lag);
    for (const horizon of FORECAST_HORIZONS_SECONDS) {
      const k = Math.min(forecast.mean.length - 1, Math.max(0, Math.round(horizon / forecast.stepSeconds) - 1));
      this.forecast.set({ horizon_seconds: String(horizon), bound: 'mean' }, forecast.mean[k] as number);
      this.forecast.set({ horizon_seconds: String(horizon), bound: 'upper' }, forecast.upper[k] as number);
    }
    const atCurrent = decision.candidates.find((c) => c.parallelism === decision.currentParallelism);
    if (atCurrent) {
      this.recoveryAtCurrent.set(atCurrent.worstRecoverySeconds);
      this.latencyAtCurrent.set(atCurrent.worstLatencySeconds);
    }
    if (input.observedLatencySeconds !== undefined) this.observedLatency.set(input.observedLatencySeconds);
    for (const c of decision.candidates) {
      const p = String(c.parallelism);
      this.predictedRecovery.set({ parallelism: p }, c.worstRecoverySeconds);
      this.predictedLatency.set({ parallelism: p }, c.worstLatencySeconds);
      this.capacity.set({ parallelism: p, estimate: 'expected' }, c.expectedCapacity);
      this.capacity.set({ parallelism: p, estimate: 'planning' }, c.capacity);
    }
    if (input.forecastErrorRatio !== null) this.forecastError.set(input.forecastErrorRatio);
    this.budgetSpent.set(input.budget.spent);
    this.violationPrice.set(input.budget.price);
    this.downtime.set({ kind: 'restart' }, decision.inputs.restartDowntimeSeconds);
    this.downtime.set({ kind: 'rescale' }, decision.inputs.rescaleDowntimeSeconds);
  }

  recordWaiting(seconds: number): void {
    this.decisions.inc({ action: 'waiting' });
    this.decisionDuration.observe(seconds);
  }

  recordRescale(result: RescaleResult): void {
    this.rescales.inc({ result: result.outcome });
  }

  setLeader(leader: boolean): void {
    this.leader.set(leader ? 1 : 0);
  }

  recordActuationBlocked(reason: BlockReason): void {
    this.actuationBlocked.inc({ reason });
  }

  setCircuitBreakerOpen(open: boolean): void {
    this.circuitBreakerOpen.set(open ? 1 : 0);
  }

  setActuationPaused(paused: boolean): void {
    this.actuationPaused.set(paused ? 1 : 0);
  }

  /** The reasons phoebe holds for now (none: it does not hold for data). */
  setHold(reasons: readonly string[]): void {
    for (const reason of HOLD_REASONS) this.hold.set({ reason }, reasons.includes(reason) ? 1 : 0);
  }

  recordUnhandledRejection(): void {
    this.unhandledRejections.inc();
  }

  setReadiness(ready: boolean, metricAgeSeconds: number | undefined): void {
    this.ready.set(ready ? 1 : 0);
    if (metricAgeSeconds !== undefined) this.metricAge.set(metricAgeSeconds);
  }
}
