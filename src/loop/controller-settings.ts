import type { ActuationLimitsConfig } from '../act/actuation-gate.js';
import type { PhoebeConfig } from '../config/phoebe-config.js';
import type { QualityOptions } from '../observe/signal-quality.js';
import { DEFAULT_PLANNER } from '../planner/planner.js';
import { DEFAULT_PIPELINE, FORECAST_HORIZON_SECONDS, type PipelineConfig } from './decision-pipeline.js';

/** Everything the controller step needs to know up front; built from a PhoebeConfig by controllerSettings(). */
export interface ControllerSettings {
  /** Seconds between decisions (also the forecaster's step). */
  intervalSeconds: number;
  /**
   * Hold until the history spans this long (s): rates over windows longer than the series
   * (a fresh Prometheus, a new job) read low and would plan a scale-down.
   */
  minHistorySeconds: number;
  /** The signal-quality check before every decision (src/observe/signal-quality.ts). */
  quality: QualityOptions;
  /** The actuation gate's rate limits and circuit breaker (every rescale). */
  limits: ActuationLimitsConfig;
  /** Models, forecast and plan (the planner's own limits hold scale-downs only). */
  pipeline: PipelineConfig;
}

/** The configuration's fields the controller reads: the same for `phoebe run` and the twin's `phoebe`. */
export type ControllerConfig = Pick<PhoebeConfig, 'slo' | 'parallelism' | 'decision' | 'priors'> & {
  job: Pick<PhoebeConfig['job'], 'checkpointIntervalSeconds'>;
  actuation: Pick<PhoebeConfig['actuation'], 'limits'>;
  queries: Pick<PhoebeConfig['queries'], 'rateWindow'>;
};

/** Seconds of a Prometheus duration such as 30s, 1m, 1h30m. */
export function durationSeconds(duration: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  let total = 0;
  for (const [, value, unit] of duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(value) * (units[unit as string] as number);
  return total;
}

/** The decision pipeline's settings from the configuration. */
export function pipelineConfig(config: ControllerConfig): PipelineConfig {
  // One forecast step per decision, and the same horizon whatever the interval.
  const bucketSeconds = config.decision.intervalSeconds;
  return {
    ...DEFAULT_PIPELINE,
    bucketSeconds,
    horizonSteps: Math.max(2, Math.round(FORECAST_HORIZON_SECONDS / bucketSeconds)),
    planner: {
      ...DEFAULT_PLANNER,
      scaleDownDwellSeconds: config.decision.scaleDownDwellSeconds,
      minParallelism: config.parallelism.min,
      maxParallelism: config.parallelism.max,
      slo: { latencySeconds: config.slo.latencySeconds, recoveryTimeSeconds: config.slo.recoveryTimeSeconds },
      errorBudget: { ...DEFAULT_PLANNER.errorBudget, objective: config.slo.latencyObjective },
    },
    priors: {
      checkpointIntervalSeconds: config.job.checkpointIntervalSeconds,
      restartDowntimeSeconds: config.priors.restartSeconds,
      rescaleDowntimeSeconds: config.priors.rescaleSeconds,
    },
  };
}

/** The controller step's settings from the configuration: the one translation, for both drivers. */
export function controllerSettings(config: ControllerConfig): ControllerSettings {
  const interval = config.decision.intervalSeconds;
  // Rates over a window spanning the start of the series (or a restart) read wrong until the
  // window has passed twice.
  const minHistorySeconds = 2 * durationSeconds(config.queries.rateWindow);
  return {
    intervalSeconds: interval,
    minHistorySeconds,
    quality: {
      staleAfterSeconds: Math.max(120, 3 * interval),
      maxClockSkewSeconds: 10,
      settleSeconds: Math.max(minHistorySeconds, 2 * interval),
      ownRescaleGraceSeconds: Math.max(60, 3 * interval),
      // Two decisions: at the default interval the same minute, at 5 s (the real-cluster test) 15 s.
      ownRestartGraceSeconds: Math.max(15, 2 * interval),
    },
    limits: { ...config.actuation.limits },
    pipeline: pipelineConfig(config),
  };
}
