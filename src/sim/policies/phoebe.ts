import { EnsembleForecaster } from '../../forecast/forecaster.js';
import type { Forecaster } from '../../forecast/types.js';
import { DecisionPipeline, DEFAULT_PIPELINE, type PipelineConfig } from '../../loop/decision-pipeline.js';
import { DEFAULT_PLANNER } from '../../planner/planner.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy.js';

/**
 * Priors an operator can give without measuring anything: used until the first restart and
 * rescale have been observed. A minute of restart is a typical Flink restart with a
 * fixed-delay strategy and state restore; a stop-with-savepoint rescale is usually quicker.
 */
export const PRIOR_RESTART_SECONDS = 60;
export const PRIOR_RESCALE_SECONDS = 30;

export function phoebePipelineConfig(context: PolicyContext): PipelineConfig {
  return {
    ...DEFAULT_PIPELINE,
    planner: { ...DEFAULT_PLANNER, minParallelism: context.minParallelism, maxParallelism: context.maxParallelism, slo: context.slo },
    priors: {
      checkpointIntervalSeconds: context.checkpointIntervalSeconds,
      restartDowntimeSeconds: PRIOR_RESTART_SECONDS,
      rescaleDowntimeSeconds: PRIOR_RESCALE_SECONDS,
      ...(context.profile ? { profile: context.profile } : {}),
    },
  };
}

/**
 * The forecaster for the twin's runs. MSTL is left out: a twin run starts without history and
 * lasts hours, shorter than the daily season MSTL would find (it changed no figure when on).
 */
export function defaultPhoebeForecaster(): Forecaster {
  return new EnsembleForecaster({ horizonSteps: DEFAULT_PIPELINE.horizonSteps, validationOrigins: 60, mstl: false });
}

/** phoebe's own planner as a twin policy: exactly the pipeline `phoebe run` uses. */
export function phoebePolicy(context: PolicyContext, createForecaster: () => Forecaster, config: PipelineConfig = phoebePipelineConfig(context)): Policy {
  const pipeline = new DecisionPipeline(config, createForecaster());
  return {
    name: 'phoebe',
    intervalSeconds: config.bucketSeconds,
    async decide(signals): Promise<PolicyDecision> {
      const outcome = await pipeline.decide(signals);
      if (outcome.kind === 'waiting') return { reason: outcome.reason };
      const { decision } = outcome;
      if (decision.action === 'hold') return { reason: decision.heldBy ? `${decision.reason} (held: ${decision.heldBy})` : decision.reason };
      pipeline.recordRescale(signals.latest.t);
      return { parallelism: decision.recommendedParallelism, reason: decision.reason };
    },
    close: () => pipeline.close(),
  };
}
