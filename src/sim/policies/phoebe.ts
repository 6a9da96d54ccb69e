import type { Admitted } from '../../act/actuation-gate.js';
import type { RescaleOutcome as ActuatorOutcome } from '../../act/actuator.js';
import { parsePhoebeConfig, type PhoebeConfig } from '../../config/phoebe-config.js';
import { EnsembleForecaster } from '../../forecast/forecaster.js';
import type { Forecaster } from '../../forecast/types.js';
import { Controller, type Step } from '../../loop/controller.js';
import { controllerSettings, type ControllerSettings } from '../../loop/controller-settings.js';
import { DecisionPipeline } from '../../loop/decision-pipeline.js';
import type { Clock } from '../../util/clock.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy.js';
import type { RescaleOutcome } from '../twin.js';

/**
 * The configuration an operator would write for the twin's job: what the scenario tells
 * (bounds, SLOs, checkpoint interval), every other key at the configuration's default, so each
 * default is written once (src/config/phoebe-config.ts) and the twin runs what `phoebe run` would.
 */
export function twinPhoebeConfig(context: PolicyContext): PhoebeConfig {
  const document = {
    // Never contacted: the twin hands the controller its Signals directly.
    prometheus: { url: 'http://prometheus.invalid:9090' },
    job: { name: 'twin', checkpointIntervalSeconds: context.checkpointIntervalSeconds },
    slo: { latencySeconds: context.slo.latencySeconds, recoveryTimeSeconds: context.slo.recoveryTimeSeconds },
    parallelism: { min: context.minParallelism, max: context.maxParallelism },
    // The twin's signals are exact per-second values, as rates over a 1 s window would be.
    queries: { rateWindow: '1s' },
  };
  return parsePhoebeConfig(JSON.stringify(document), 'the twin\'s phoebe configuration', {}, { checkFiles: false });
}

/** The controller's settings for the twin, with the scenario's profile as a prior where it has one. */
export function phoebeSettings(context: PolicyContext): ControllerSettings {
  const settings = controllerSettings(twinPhoebeConfig(context));
  if (context.profile) settings.pipeline.priors.profile = context.profile;
  return settings;
}

/**
 * The forecaster for the twin's runs. MSTL is left out: a twin run starts without history and
 * lasts hours, shorter than the daily season MSTL would find (it changed no figure when on).
 */
export function defaultPhoebeForecaster(settings: ControllerSettings): Forecaster {
  return new EnsembleForecaster({ horizonSteps: settings.pipeline.horizonSteps, validationOrigins: 60, mstl: false });
}

/** The twin's answer to a rescale request, as an actuator would report it. */
const OUTCOME: Readonly<Record<RescaleOutcome, ActuatorOutcome>> = { started: 'completed', rejected: 'failed', unchanged: 'skipped' };

/**
 * phoebe as a twin policy: the production controller step (src/loop/controller.ts) on the
 * twin's Signals and the twin's time. No leadership and no pause; the gate's rate limits and
 * circuit breaker apply as in `phoebe run`. The twin applies a rescale from the next second and
 * answers at once, so the gate sees it end when it was asked for (`phoebe run` sees it end when
 * the actuator returns, after the downtime): the minimum interval starts up to one rescale
 * downtime earlier here.
 */
export function phoebePolicy(
  context: PolicyContext,
  createForecaster: (settings: ControllerSettings) => Forecaster,
  settings: ControllerSettings = phoebeSettings(context),
  /** Receives every controller step, for tests and explanations. */
  onStep?: (step: Step) => void,
): Policy {
  let nowMs = 0;
  // Nothing in the step waits; the clock only tells the twin's time.
  const clock: Clock = { now: () => nowMs, sleep: () => Promise.resolve() };
  const controller = new Controller({ settings, pipeline: new DecisionPipeline(settings.pipeline, createForecaster(settings)), clock });
  let inFlight: Admitted | undefined;
  return {
    name: 'phoebe',
    intervalSeconds: settings.intervalSeconds,
    async decide(signals): Promise<PolicyDecision> {
      // A sample at t covers the second [t, t + 1): the decision after it is made at t + 1.
      nowMs = (signals.latest.t + 1) * 1000;
      const step = await controller.step({ signals });
      onStep?.(step);
      if (step.kind === 'decision' && step.action.kind === 'rescale') inFlight = step.action.admitted;
      return policyDecision(step);
    },
    rescaleOutcome(outcome): void {
      if (!inFlight) return;
      controller.finish(inFlight, { outcome: OUTCOME[outcome], detail: `the twin: ${outcome}`, seconds: 0 });
      inFlight = undefined;
    },
    close: () => controller.close(),
  };
}

/** A controller step as the twin's runner takes it: a parallelism to rescale to, and why. */
function policyDecision(step: Step): PolicyDecision {
  switch (step.kind) {
    case 'hold':
      return { reason: `holding (${step.verdict.reasons.join(', ')})` };
    case 'wait':
      return { reason: step.reason };
    case 'decision': {
      const { decision } = step.plan;
      const { action } = step;
      if (action.kind === 'rescale') return { parallelism: action.admitted.request.parallelism, reason: decision.reason };
      if (action.kind === 'blocked') return { reason: `${decision.reason} (blocked: ${action.blocked.detail})` };
      return { reason: decision.heldBy ? `${decision.reason} (held: ${decision.heldBy})` : decision.reason };
    }
  }
}
