import { errorFunction } from 'simple-statistics';
import type { Scenario } from '../config/scenario.js';
import { rescaleViolationSeconds } from '../planner/planner.js';
import { capacityTable } from './capacity.js';
import { clairvoyantLowerBound } from './lower-bound.js';
import type { Policy } from './policy.js';

/**
 * The best piecewise-constant parallelism schedule for a scenario, knowing its whole future.
 *
 * The lower bound of EVALUATION.md ignores what a rescale costs; this reference pays for it.
 * Every change costs its downtime and catch-up in seconds over the latency SLO, and each
 * second costs its parallelism plus the probability, under the twin's capacity noise, that it
 * misses the latency SLO. A violation-second is priced in slot-seconds (the Lagrange
 * multiplier of the latency SLO), so one price gives one point of the cost–latency frontier.
 * Recovery within the target after a failure at any second is a hard constraint, as in the
 * bound. No forecast-driven policy can expect to do better than this schedule at the same
 * latency fraction; the gap between the two is what forecasting and planning still lose.
 */
export interface ClairvoyantScheduleOptions {
  bucketSeconds: number;
  /** Most parallelism changes over the whole run. */
  maxRescales: number;
  /** Slot-seconds one second over the latency SLO is worth. */
  violationPrice: number;
}

export interface ClairvoyantSchedule {
  bucketSeconds: number;
  /** Parallelism per bucket, bucket k covering seconds [k·bucketSeconds, (k+1)·bucketSeconds). */
  perBucket: number[];
  changes: number;
  /** Expected seconds over the latency SLO from capacity noise alone (rescales not included). */
  expectedNoiseViolations: number;
}

type ScheduleInputs = Pick<Scenario, 'twin' | 'slo'>;

/** Probability that a second at arrival rate λ misses the latency SLO at nominal capacity μ. */
function violationProbability(scenario: ScheduleInputs, lambda: number, mu: number): number {
  const { baseLatencySeconds, noise } = scenario.twin;
  // latency ≤ SLO ⇔ λ ≤ ρmax·μ·(1 + ε) with ε ~ N(0, σ) clipped to ±3σ.
  const rhoMax = 1 - baseLatencySeconds / scenario.slo.latencySeconds;
  if (!(rhoMax > 0)) return 1;
  const sigma = noise.capacity;
  const shortfall = lambda / (rhoMax * mu) - 1;
  if (sigma <= 0) return shortfall > 0 ? 1 : 0;
  const z = shortfall / sigma;
  if (z >= 3) return 1;
  if (z <= -3) return 0;
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

export function clairvoyantSchedule(scenario: ScheduleInputs, arrivals: Float64Array, options: ClairvoyantScheduleOptions): ClairvoyantSchedule {
  const { twin } = scenario;
  const { bucketSeconds: width, maxRescales, violationPrice: price } = options;
  const min = twin.minParallelism;
  const range = twin.maxParallelism - min + 1;
  const capacity = capacityTable(twin.capacity, min, twin.maxParallelism);
  // The recovery half of the lower bound alone: a latency SLO nothing can miss.
  const recoveryNeed = clairvoyantLowerBound({ twin, slo: { ...scenario.slo, latencySeconds: Number.POSITIVE_INFINITY } }, arrivals).perSecond;
  const n = arrivals.length;
  const buckets = Math.ceil(n / width);
  const latency = { a: 0, b: twin.baseLatencySeconds, samples: 0, rmse: 0 };

  const bucketCost: Float64Array[] = [];
  const bucketViolations: Float64Array[] = [];
  for (let b = 0; b < buckets; b++) {
    const cost = new Float64Array(range);
    const violations = new Float64Array(range);
    for (let j = 0; j < range; j++) {
      const p = min + j;
      let feasible = true;
      for (let s = b * width; s < Math.min(n, (b + 1) * width); s++) {
        if (p < (recoveryNeed[s] as number)) feasible = false;
        const q = violationProbability(scenario, arrivals[s] as number, capacity[p] as number);
        violations[j] = (violations[j] as number) + q;
        cost[j] = (cost[j] as number) + p + price * q;
      }
      if (!feasible) cost[j] = Number.POSITIVE_INFINITY;
    }
    bucketCost.push(cost);
    bucketViolations.push(violations);
  }
  // A change into bucket b costs the downtime and catch-up at the bucket's opening rate, on a
  // capacity one noise deviation low.
  const switchCost = (j: number, b: number): number => price * rescaleViolationSeconds(
    latency, scenario.slo.latencySeconds, (capacity[min + j] as number) * (1 - twin.noise.capacity),
    arrivals[Math.min(n - 1, b * width)] as number, twin.rescaleDowntimeSeconds,
  );

  // best[k][j]: cheapest cost of buckets 0..b ending at parallelism min + j after k changes.
  const K = maxRescales;
  let best = Array.from({ length: K + 1 }, () => new Float64Array(range).fill(Number.POSITIVE_INFINITY));
  const parents: Int16Array[][] = [];
  const start = twin.initialParallelism - min;
  for (let j = 0; j < range; j++) {
    const opening = (bucketCost[0] as Float64Array)[j] as number;
    if (j === start) (best[0] as Float64Array)[j] = opening;
    else if (K > 0) (best[1] as Float64Array)[j] = opening + switchCost(j, 0);
  }
  parents.push([]);
  for (let b = 1; b < buckets; b++) {
    const next = Array.from({ length: K + 1 }, () => new Float64Array(range).fill(Number.POSITIVE_INFINITY));
    const from = Array.from({ length: K + 1 }, () => new Int16Array(range).fill(-1));
    for (let k = 0; k <= K; k++) {
      let cheapest = Number.POSITIVE_INFINITY;
      let arg = -1;
      if (k > 0) {
        const previous = best[k - 1] as Float64Array;
        for (let i = 0; i < range; i++) if ((previous[i] as number) < cheapest) { cheapest = previous[i] as number; arg = i; }
      }
      const stay = best[k] as Float64Array;
      for (let j = 0; j < range; j++) {
        const here = (bucketCost[b] as Float64Array)[j] as number;
        if (!Number.isFinite(here)) continue;
        let value = stay[j] as number;
        let parent = j;
        if (arg >= 0 && arg !== j) {
          const changed = cheapest + switchCost(j, b);
          if (changed < value) { value = changed; parent = arg; }
        }
        (next[k] as Float64Array)[j] = value + here;
        (from[k] as Int16Array)[j] = parent;
      }
    }
    best = next;
    parents.push(from);
  }

  let endK = 0;
  let endJ = 0;
  let total = Number.POSITIVE_INFINITY;
  for (let k = 0; k <= K; k++) {
    for (let j = 0; j < range; j++) {
      const v = (best[k] as Float64Array)[j] as number;
      if (v < total) { total = v; endK = k; endJ = j; }
    }
  }
  if (!Number.isFinite(total)) throw new Error('no schedule meets the recovery target with the allowed rescales');
  const perBucket = new Array<number>(buckets);
  let expectedNoiseViolations = 0;
  for (let b = buckets - 1, j = endJ, k = endK; b >= 0; b--) {
    perBucket[b] = min + j;
    expectedNoiseViolations += (bucketViolations[b] as Float64Array)[j] as number;
    if (b > 0) {
      const parent = ((parents[b] as Int16Array[])[k] as Int16Array)[j] as number;
      if (parent !== j) k--;
      j = parent;
    }
  }
  return { bucketSeconds: width, perBucket, changes: endK, expectedNoiseViolations };
}

/**
 * Replays a schedule on the twin: a scale-up is requested one rescale downtime early so the
 * new parallelism runs from its bucket's first second; a scale-down waits for its bucket.
 */
export function scheduledPolicy(schedule: ClairvoyantSchedule, rescaleDowntimeSeconds: number, name = 'clairvoyant-schedule'): Policy {
  const { perBucket, bucketSeconds } = schedule;
  const at = (second: number): number => perBucket[Math.min(perBucket.length - 1, Math.floor(second / bucketSeconds))] as number;
  let second = 0;
  return {
    name,
    intervalSeconds: 1,
    decide(signals) {
      second++;
      // A request while the job is down would be rejected: the schedule resumes once it runs.
      if (signals.latest.status !== 'RUNNING') return {};
      const now = at(second);
      const soon = at(second + rescaleDowntimeSeconds);
      return { parallelism: soon > now ? soon : now };
    },
  };
}
