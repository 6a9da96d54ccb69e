import type { Policy, PolicyContext } from '../policy.js';

/**
 * A job sized once for its known peak, as most teams run Flink today: the smallest fixed
 * parallelism that meets both SLOs at every second of the workload (clairvoyant about the peak).
 */
export function staticPolicy(context: PolicyContext): Policy {
  const parallelism = context.peakSizedParallelism ?? context.maxParallelism;
  return {
    name: 'static',
    intervalSeconds: Number.POSITIVE_INFINITY,
    initialParallelism: parallelism,
    decide: () => ({}),
  };
}
