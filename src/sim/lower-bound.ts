import type { Scenario } from '../config/scenario.js';
import { capacityTable } from './capacity.js';

export interface LowerBound {
  /** p*(t) for every second of the trace. */
  perSecond: Int32Array;
  meanParallelism: number;
  /** Seconds at which no parallelism in range meets both SLOs (p* = max there). */
  infeasibleSeconds: number;
}

type BoundInputs = Pick<Scenario, 'twin' | 'slo'>;

/**
 * The clairvoyant lower bound of EVALUATION.md: for each second the smallest parallelism that
 * keeps latency without backlog and recovers a failure at that second (with a checkpoint one
 * interval old) within the target, knowing the future workload and the nominal capacity.
 * Seconds outside the trace (before its start, after its end) take its first or last value.
 */
export function clairvoyantLowerBound(scenario: BoundInputs, arrivals: Float64Array): LowerBound {
  const { twin, slo } = scenario;
  const n = arrivals.length;
  const C = twin.checkpointIntervalSeconds;
  const D = twin.restartDowntimeSeconds;
  const target = slo.recoveryTimeSeconds;
  const capacity = capacityTable(twin.capacity, twin.minParallelism, twin.maxParallelism);
  const prefix = arrivalPrefixSums(arrivals, C, n + D + Math.ceil(target) + 1);
  // prefix[k] = Σ arrivals over seconds [-C, k - C): shift indices by C.
  const sum = (from: number, toExclusive: number): number => (prefix[toExclusive + C] as number) - (prefix[from + C] as number);

  const perSecond = new Int32Array(n);
  let total = 0;
  let infeasibleSeconds = 0;
  for (let t = 0; t < n; t++) {
    const lambda = arrivals[t] as number;
    const backlog = sum(t - C, t + D);
    let chosen = -1;
    for (let p = twin.minParallelism; p <= twin.maxParallelism; p++) {
      const mu = capacity[p] as number;
      // The literal latency formula, so the bound and the twin agree to the last bit.
      if (!(lambda < mu) || twin.baseLatencySeconds / (1 - lambda / mu) > slo.latencySeconds) continue;
      if (recoversInTime(mu, backlog, t + D, target - D, sum)) {
        chosen = p;
        break;
      }
    }
    if (chosen < 0) {
      chosen = twin.maxParallelism;
      infeasibleSeconds++;
    }
    perSecond[t] = chosen;
    total += chosen;
  }
  return { perSecond, meanParallelism: n > 0 ? total / n : 0, infeasibleSeconds };
}

/** Whether some T ≤ budget has Σ_{s=start}^{start+T} (μ − λ(s)) ≥ backlog. */
function recoversInTime(
  mu: number,
  backlog: number,
  start: number,
  budget: number,
  sum: (from: number, toExclusive: number) => number,
): boolean {
  for (let T = 0; T <= budget; T++) {
    if (mu * (T + 1) - sum(start, start + T + 1) >= backlog) return true;
  }
  return false;
}

/** Prefix sums over seconds [-before, length), padding with the first and last arrival. */
function arrivalPrefixSums(arrivals: Float64Array, before: number, after: number): Float64Array {
  const n = arrivals.length;
  const prefix = new Float64Array(before + after + 1);
  for (let k = 0; k < before + after; k++) {
    const s = Math.min(n - 1, Math.max(0, k - before));
    prefix[k + 1] = (prefix[k] as number) + (n > 0 ? (arrivals[s] as number) : 0);
  }
  return prefix;
}
