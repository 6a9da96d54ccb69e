import type { Signals } from '../../observe/signals.js';
import { runningWindow, windowMean } from '../../observe/window.js';
import { clamp } from '../../util/numbers.js';
import type { Policy, PolicyContext, PolicyDecision } from '../policy.js';

/** Kubernetes HorizontalPodAutoscaler defaults (autoscaling/v2), with busy time as the utilisation metric. */
export const HPA_DEFAULTS = {
  targetUtilisation: 0.7,
  tolerance: 0.1,
  syncPeriodSeconds: 15,
  scaleDownStabilisationSeconds: 300,
  /** Default scale-up policies: +100 % or +4 pods per 15 s, whichever is more. */
  scaleUpPercent: 100,
  scaleUpPods: 4,
} as const;

/**
 * HPA (or KEDA) scaling a reactive-mode TaskManager deployment on utilisation:
 * desired = ceil(p · util / target) outside the tolerance, scale-downs held to the highest
 * recommendation of the stabilisation window.
 */
export function hpaPolicy(context: PolicyContext): Policy {
  const cfg = HPA_DEFAULTS;
  const recommendations: { t: number; desired: number }[] = [];
  return {
    name: 'hpa',
    intervalSeconds: cfg.syncPeriodSeconds,
    decide(signals: Signals): PolicyDecision {
      const { latest, history } = signals;
      // Pods that are restarting report no metrics; the HPA skips them.
      if (latest.status !== 'RUNNING') return {};
      const utilisation = windowMean(runningWindow(history, latest.t - cfg.syncPeriodSeconds + 1), 'busyTimeMsPerSecond');
      if (utilisation === undefined) return {};
      const p = latest.parallelism;
      const ratio = utilisation / 1000 / cfg.targetUtilisation;
      let desired = Math.abs(ratio - 1) <= cfg.tolerance ? p : Math.ceil(p * ratio);
      desired = clamp(desired, context.minParallelism, context.maxParallelism);

      recommendations.push({ t: latest.t, desired });
      while (recommendations.length > 0 && (recommendations[0] as { t: number }).t <= latest.t - cfg.scaleDownStabilisationSeconds) recommendations.shift();
      if (desired < p) {
        desired = Math.min(p, Math.max(...recommendations.map((r) => r.desired)));
      } else if (desired > p) {
        const limit = Math.max(Math.ceil(p * (1 + cfg.scaleUpPercent / 100)), p + cfg.scaleUpPods);
        desired = Math.min(desired, limit);
      }
      if (desired === p) return {};
      return { parallelism: desired, reason: `utilisation ${(utilisation / 10).toFixed(0)} % vs target ${cfg.targetUtilisation * 100} %` };
    },
  };
}
