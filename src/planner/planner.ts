import { predictLatency, type LatencyModel } from '../models/latency.js';
import type { QosModel } from '../models/qos-model.js';
import { recoverySeconds } from '../models/recovery.js';
import type { CandidateAssessment, Decision } from './decision.js';
import type { ErrorBudgetConfig } from './error-budget.js';
import { cheapestSchedule } from './schedule.js';

export interface PlannerConfig {
  minParallelism: number;
  maxParallelism: number;
  slo: { latencySeconds: number; recoveryTimeSeconds: number };
  /** Fraction of each SLO kept in reserve: plan for latency ≤ (1 − m)·target. */
  latencyMargin: number;
  recoveryMargin: number;
  /**
   * Latency holds second by second, so its capacity is mean · (1 − z · (per-second noise ⊕
   * model error)); recovery integrates minutes of processing, where the noise averages out and
   * only the model's own error remains.
   */
  latencyCapacityZ: number;
  recoveryCapacityZ: number;
  /**
   * The latency error budget whose state sets the exchange rate between cost and QoS: how many
   * slot-seconds phoebe pays to avoid one second over the latency SLO (see error-budget.ts).
   */
  errorBudget: Pick<ErrorBudgetConfig, 'objective' | 'windowSeconds' | 'targetSpend' | 'basePrice'>;
  /**
   * The planner's own limits hold scale-downs only (a scale-up is never held by the plan; the
   * actuation gate's minSecondsBetweenRescales / maxRescalesPerHour apply to every rescale):
   * no scale-down sooner than this after the last rescale started (s); a scale-up target also
   * covers this long, since it is what the job runs at until it may come down again.
   */
  scaleDownDwellSeconds: number;
  /** No scale-down once this many rescales (of any kind) started in the last hour. */
  scaleDownMaxRescalesPerHour: number;
  /** A backlog must be drainable within this at the chosen parallelism (s). */
  backlogDrainSeconds: number;
  /**
   * How far ahead the upper prediction bound is planned for: long enough to see a rise coming
   * and rescale before it. Beyond it phoebe plans on the central forecast, because it re-plans
   * every decision and only the near term is ever acted on.
   */
  safetyHorizonSeconds: number;
  /**
   * How long the schedule's final level is expected to last beyond the forecast horizon (s):
   * a scale-down saves until the next change, not just until the horizon ends.
   */
  tailSeconds: number;
}

export const DEFAULT_PLANNER: Omit<PlannerConfig, 'minParallelism' | 'maxParallelism' | 'slo'> = {
  latencyMargin: 0.05,
  recoveryMargin: 0.1,
  latencyCapacityZ: 1.5,
  recoveryCapacityZ: 2,
  errorBudget: { objective: 0.98, windowSeconds: 6 * 3600, targetSpend: 0.5, basePrice: 120 },
  scaleDownDwellSeconds: 600,
  scaleDownMaxRescalesPerHour: 4,
  backlogDrainSeconds: 120,
  safetyHorizonSeconds: 300,
  tailSeconds: 600,
};

/** The workload ahead: arrival rates per step, the first step starting now. */
export interface WorkloadForecast {
  stepSeconds: number;
  mean: ArrayLike<number>;
  /** Upper prediction bound: uncertainty buys headroom. */
  upper: ArrayLike<number>;
}

export interface PlanInput {
  time: number;
  currentParallelism: number;
  arrivalRate: number;
  lag: number;
  model: QosModel;
  forecast: WorkloadForecast;
  /** Start times (s) of phoebe's rescales, newest last (from the one rescale history). */
  rescaleTimes: readonly number[];
  /** Slot-seconds one second over the latency SLO is worth now (from the error budget). */
  violationPrice: number;
}

/** Violation seconds charged to a rescale whose target cannot meet the latency SLO. */
const OVERLOADED_CATCH_UP_SECONDS = 600;

/**
 * Seconds over the latency SLO that a rescale to capacity μ at arrival rate λ causes: the
 * downtime, then the catch-up until the backlog of the downtime no longer shows in the latency.
 */
export function rescaleViolationSeconds(latency: LatencyModel, latencySlo: number, capacity: number, rate: number, downtime: number): number {
  const queueing = predictLatency(latency, rate, capacity);
  // A target that misses the SLO anyway is late for the whole downtime plus a long catch-up;
  // the cost stays finite so that an overload can still be met with the most capacity there is.
  if (!Number.isFinite(queueing) || queueing >= latencySlo) return downtime + OVERLOADED_CATCH_UP_SECONDS;
  const tolerableLag = capacity * (latencySlo - queueing);
  const backlog = rate * downtime;
  return downtime + Math.max(0, backlog - tolerableLag) / (capacity - rate);
}

/**
 * Chooses the cheapest parallelism that keeps both SLOs — latency, and recovery within the
 * target after a failure at any moment — over the forecast horizon, and whether a rescale
 * pays for itself now. Pure: the same input always gives the same decision.
 */
export function plan(input: PlanInput, config: PlannerConfig): Decision {
  const { model, forecast, currentParallelism: current } = input;
  const { minParallelism: min, maxParallelism: max } = config;
  const steps = forecast.upper.length;
  const latencyTarget = config.slo.latencySeconds * (1 - config.latencyMargin);
  const recoveryTarget = config.slo.recoveryTimeSeconds * (1 - config.recoveryMargin);
  const lost = model.checkpointIntervalSeconds;

  const safetySteps = Math.ceil(config.safetyHorizonSeconds / forecast.stepSeconds);
  const planning = Float64Array.from({ length: steps }, (_, k) => (k < safetySteps ? forecast.upper[k] : forecast.mean[k]) as number);
  const candidates: CandidateAssessment[] = [];
  const latencyCapacity = new Float64Array(max + 1);
  const required = new Array<number>(steps).fill(max);
  const requiredSet = new Array<boolean>(steps).fill(false);
  // What the upper bound alone would need: a scale-up must hold until a scale-down is allowed.
  const dwellSteps = Math.min(steps, Math.max(1, Math.ceil(config.scaleDownDwellSeconds / forecast.stepSeconds)));
  const upperRequired = new Array<number>(dwellSteps).fill(max);
  const upperSet = new Array<boolean>(dwellSteps).fill(false);
  for (let p = min; p <= max; p++) {
    const expected = model.capacity.mean(p);
    const forLatency = expected * Math.max(0, 1 - config.latencyCapacityZ * model.capacity.relativeSd(p));
    const forRecovery = expected * Math.max(0, 1 - config.recoveryCapacityZ * model.capacity.modelSd(p));
    latencyCapacity[p] = forLatency;
    let worstLatency = 0;
    let worstRecovery = 0;
    let recoveryNow = 0;
    for (let k = 0; k < steps; k++) {
      const rate = planning[k] as number;
      const latency = predictLatency(model.latency, rate, forLatency);
      const recovery = recoverySeconds({
        capacity: forRecovery,
        arrivals: planning.subarray(k),
        stepSeconds: forecast.stepSeconds,
        // A checkpoint interval of input is replayed. Today's backlog is left out on purpose:
        // after every rescale there is one, and counting it would make each rescale demand the
        // next; the drain constraint below keeps it short instead.
        replayRecords: rate * lost,
        downtimeSeconds: model.restartDowntimeSeconds,
      });
      if (k === 0) recoveryNow = recovery;
      worstLatency = Math.max(worstLatency, latency);
      worstRecovery = Math.max(worstRecovery, recovery);
      let ok = latency <= latencyTarget && recovery <= recoveryTarget;
      if (k === 0 && input.lag > 0) ok &&= input.lag <= (forRecovery - rate) * config.backlogDrainSeconds;
      if (ok && !requiredSet[k]) { required[k] = p; requiredSet[k] = true; }
      if (k < dwellSteps && !upperSet[k] && k >= safetySteps) {
        const u = forecast.upper[k] as number;
        const uOk = predictLatency(model.latency, u, forLatency) <= latencyTarget && recoverySeconds({
          capacity: forRecovery, arrivals: tail(forecast.upper, k), stepSeconds: forecast.stepSeconds,
          replayRecords: u * lost, downtimeSeconds: model.restartDowntimeSeconds,
        }) <= recoveryTarget;
        if (uOk) { upperRequired[k] = p; upperSet[k] = true; }
      } else if (k < dwellSteps && ok && !upperSet[k]) { upperRequired[k] = p; upperSet[k] = true; }
    }
    candidates.push({
      parallelism: p, capacity: forLatency, expectedCapacity: expected,
      worstLatencySeconds: worstLatency, worstRecoverySeconds: worstRecovery, recoveryNowSeconds: recoveryNow,
      meetsSlos: worstLatency <= latencyTarget && worstRecovery <= recoveryTarget,
    });
  }

  // A rescale takes effect only after its downtime: a step's need applies from the step before.
  const lead = Math.max(1, Math.ceil(model.rescaleDowntimeSeconds / forecast.stepSeconds));
  const need = required.map((_, k) => Math.max(...required.slice(k, Math.min(steps, k + lead + 1))));
  const { path: schedule } = cheapestSchedule({
    required: need, current, min, max, stepSeconds: forecast.stepSeconds, tailSeconds: config.tailSeconds,
    switchCost: (_from, to, k) => input.violationPrice *
      rescaleViolationSeconds(model.latency, config.slo.latencySeconds, latencyCapacity[to] as number, planning[k] as number, model.rescaleDowntimeSeconds),
  });

  const planned = schedule[0] ?? current;
  const sinceLast = input.time - (input.rescaleTimes[input.rescaleTimes.length - 1] ?? Number.NEGATIVE_INFINITY);
  const lastHour = input.rescaleTimes.filter((t) => t > input.time - 3600).length;
  const unchangedFor = schedule.findIndex((p) => p !== planned);
  const holdsFor = (unchangedFor < 0 ? steps : unchangedFor) * forecast.stepSeconds;
  const base = {
    currentParallelism: current,
    inputs: {
      time: input.time, arrivalRate: input.arrivalRate, lag: input.lag, forecastStepSeconds: forecast.stepSeconds,
      forecastPeakUpper: Math.max(...Array.from(forecast.upper)), restartDowntimeSeconds: model.restartDowntimeSeconds,
      rescaleDowntimeSeconds: model.rescaleDowntimeSeconds, capacityModel: model.capacity.kind,
      violationPrice: input.violationPrice,
    },
    candidates, requiredPerStep: required, schedule,
  };
  const hold = (reason: string, heldBy?: string): Decision => ({ ...base, action: 'hold', recommendedParallelism: current, reason, ...(heldBy ? { heldBy } : {}) });

  const neededWithinSafety = Math.max(...need.slice(0, Math.max(1, safetySteps)));
  if (planned > current && neededWithinSafety <= current) {
    // Re-planned every decision: a rise beyond the safety horizon is met when it comes into it,
    // with what is known then, instead of ratcheting p up on every forecast revision.
    return hold(`scale-up to ${planned} planned; p=${current} is enough for the next ${config.safetyHorizonSeconds} s`);
  }
  if (planned > current) {
    // Scale-ups are never held: the schedule only raises p when an SLO needs it soon. One
    // rescale covers the whole safety horizon, so a rising load does not ratchet p up slot by slot.
    const atRisk = (need[0] as number) > current;
    const target = Math.max(planned, ...upperRequired);
    return {
      ...base, action: 'scale-up', recommendedParallelism: target,
      reason: atRisk
        ? `p=${current} misses an SLO within ${lead * forecast.stepSeconds} s; ${target} meets both for at least ${Math.max(holdsFor, config.safetyHorizonSeconds)} s`
        : `the forecast needs ${target} soon; scaling before the load arrives`,
    };
  }
  if (planned < current) {
    if (sinceLast < config.scaleDownDwellSeconds) return hold(`scale-down to ${planned} pays off`, `last rescale ${Math.round(sinceLast)} s ago (scale-down dwell ${config.scaleDownDwellSeconds} s)`);
    if (lastHour >= config.scaleDownMaxRescalesPerHour) return hold(`scale-down to ${planned} pays off`, `${lastHour} rescales in the last hour (no scale-down from ${config.scaleDownMaxRescalesPerHour})`);
    return { ...base, action: 'scale-down', recommendedParallelism: planned, reason: `${planned} meets both SLOs for ${holdsFor} s and saves more than the rescale costs` };
  }
  return hold(`p=${current} is the cheapest schedule's choice`);
}

function tail(values: ArrayLike<number>, from: number): ArrayLike<number> {
  return values instanceof Float64Array ? values.subarray(from) : Array.prototype.slice.call(values, from) as number[];
}
