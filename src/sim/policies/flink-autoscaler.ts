import type { Signals } from '../../observe/signals.js';
import { runningWindow, windowMean, windowSlope } from '../../observe/window.js';
import { clamp } from '../../util/numbers.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy.js';

/** The Flink Kubernetes Operator autoscaler's defaults (job.autoscaler.*). */
export const FLINK_AUTOSCALER_DEFAULTS = {
  decisionIntervalSeconds: 10,
  metricsWindowSeconds: 15 * 60,
  stabilisationSeconds: 5 * 60,
  targetUtilisation: 0.7,
  utilisationBoundary: 0.3,
  catchUpSeconds: 30 * 60,
  restartTimeSeconds: 5 * 60,
  scaleDownIntervalSeconds: 60 * 60,
  scaleDownMaxFactor: 0.6,
  /** backlog-processing.lag-threshold: above this much lag (in seconds of target rate) it never scales down. */
  backlogLagThresholdSeconds: 5 * 60,
} as const;

export type FlinkAutoscalerConfig = typeof FLINK_AUTOSCALER_DEFAULTS;

/** One evaluation of the operator's rule over a metrics window (single-vertex job). */
export interface FlinkAutoscalerEvaluation {
  /** r̄: mean records/s consumed by the source (numRecordsInPerSecond). */
  inputRate: number;
  busyRatio: number;
  /** TPR = r̄ / b̄. */
  trueProcessingRate: number;
  /** R = r̄ + d(lag)/dt. */
  targetRate: number;
  lag: number;
  required: number;
  scaleUpThreshold: number;
  scaleDownThreshold: number;
  verdict: 'up' | 'down' | 'in-band';
  /** ceil(p · clamp(required / TPR, 1 − maxFactor, ∞)) clamped to the bounds. */
  parallelism: number;
}

/**
 * The operator's published scaling rule, as a pure function of the window's averages.
 * Outside the utilisation band it scales so the job runs at the target utilisation with
 * capacity to spare for catching up its lag and the lag a restart would cause.
 */
export function evaluateFlinkAutoscaler(
  input: { inputRate: number; busyRatio: number; lagSlope: number; lag: number; parallelism: number },
  bounds: { minParallelism: number; maxParallelism: number },
  cfg: FlinkAutoscalerConfig = FLINK_AUTOSCALER_DEFAULTS,
): FlinkAutoscalerEvaluation {
  const { inputRate, busyRatio, lagSlope, lag, parallelism } = input;
  const trueProcessingRate = inputRate / busyRatio;
  const targetRate = Math.max(0, inputRate + lagSlope);
  const catchUp = lag / cfg.catchUpSeconds;
  const restartReserve = (targetRate * cfg.restartTimeSeconds) / cfg.catchUpSeconds;
  const required = targetRate / cfg.targetUtilisation + catchUp + restartReserve;
  const uMax = cfg.targetUtilisation + cfg.utilisationBoundary;
  const uMin = cfg.targetUtilisation - cfg.utilisationBoundary;
  const processingBacklog = lag > targetRate * cfg.backlogLagThresholdSeconds;
  const scaleUpThreshold = targetRate / uMax + catchUp;
  const scaleDownThreshold = processingBacklog ? Number.POSITIVE_INFINITY : targetRate / uMin + catchUp + restartReserve;
  const verdict = trueProcessingRate < scaleUpThreshold ? 'up' : trueProcessingRate > scaleDownThreshold ? 'down' : 'in-band';
  const factor = Math.max(required / trueProcessingRate, 1 - cfg.scaleDownMaxFactor);
  const target = clamp(Math.ceil(parallelism * factor), bounds.minParallelism, bounds.maxParallelism);
  return { inputRate, busyRatio, trueProcessingRate, targetRate, lag, required, scaleUpThreshold, scaleDownThreshold, verdict, parallelism: target };
}

/**
 * The Flink Kubernetes Operator autoscaler as a policy: decisions every 10 s once a full
 * metrics window has been collected since the last rescale, scale-ups at once, scale-downs
 * deferred over the scale-down interval and applied at the highest recommendation seen.
 */
export function flinkAutoscalerPolicy(context: PolicyContext, cfg: FlinkAutoscalerConfig = FLINK_AUTOSCALER_DEFAULTS): Policy {
  let collectingSince: number | undefined;
  let awaitingParallelism: number | undefined;
  let lastRescaleAt = Number.NEGATIVE_INFINITY;
  let deferred: { since: number; highest: number } | undefined;

  return {
    name: 'flink-autoscaler',
    intervalSeconds: cfg.decisionIntervalSeconds,
    decide(signals: Signals): PolicyDecision {
      const { latest, history } = signals;
      if (latest.status !== 'RUNNING') return {};
      const now = latest.t;
      const p = latest.parallelism;
      // Metric collection restarts once the job runs at the parallelism it was rescaled to
      // (or, if the rescale never happened, once the window it would have waited has passed).
      if (awaitingParallelism !== undefined && (p === awaitingParallelism || now - lastRescaleAt > cfg.metricsWindowSeconds)) {
        awaitingParallelism = undefined;
        collectingSince = now;
      }
      collectingSince ??= history.t[0] as number;
      if (awaitingParallelism !== undefined) return {};
      // A window is full with one sample per second of it.
      if (now - collectingSince + 1 < cfg.metricsWindowSeconds || now - lastRescaleAt < cfg.stabilisationSeconds) return {};

      const window = runningWindow(history, now - cfg.metricsWindowSeconds + 1);
      const inputRate = windowMean(window, 'throughput');
      const busy = windowMean(window, 'busyTimeMsPerSecond');
      if (inputRate === undefined || busy === undefined || busy <= 0 || inputRate <= 0) return {};
      const evaluation = evaluateFlinkAutoscaler(
        { inputRate, busyRatio: busy / 1000, lagSlope: windowSlope(window, 'lag'), lag: latest.lag, parallelism: p },
        context,
        cfg,
      );

      let target = p;
      if (evaluation.verdict === 'up') {
        deferred = undefined;
        target = Math.max(p, evaluation.parallelism);
      } else if (evaluation.verdict === 'down' && evaluation.parallelism < p) {
        deferred = deferred
          ? { since: deferred.since, highest: Math.max(deferred.highest, evaluation.parallelism) }
          : { since: now, highest: evaluation.parallelism };
        if (now - deferred.since < cfg.scaleDownIntervalSeconds) return { reason: `scale-down to ${evaluation.parallelism} deferred` };
        target = deferred.highest;
        deferred = undefined;
      } else {
        deferred = undefined;
      }
      if (target === p) return {};
      lastRescaleAt = now;
      awaitingParallelism = target;
      return {
        parallelism: target,
        reason: `TPR ${evaluation.trueProcessingRate.toFixed(0)}/s vs target rate ${evaluation.targetRate.toFixed(0)}/s (${evaluation.verdict})`,
      };
    },
  };
}
