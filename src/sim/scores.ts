import type { Scenario } from '../config/scenario.js';
import { JOB_STATUS_CODE } from '../observe/signals.js';
import { quantile } from '../util/numbers.js';
import type { TwinRecord } from './twin.js';

/** One run's scores: the JSON object of EVALUATION.md. */
export interface RunScores {
  scenario: string;
  policy: string;
  seed: number;
  durationSeconds: number;
  meanParallelism: number;
  lowerBoundMeanParallelism: number;
  costRatio: number;
  failures: number;
  recoveredWithinTarget: number;
  recoveryTimesSeconds: (number | null)[];
  latencySloFraction: number;
  rescales: number;
  rescalesRejected: number;
  decisionMillis: { p50: number; p95: number };
}

export interface ScoreInputs {
  scenario: Pick<Scenario, 'name' | 'twin' | 'failures' | 'slo'>;
  policy: string;
  seed: number;
  record: TwinRecord;
  lowerBoundMeanParallelism: number;
  rescales: number;
  rescalesRejected: number;
  decisionMillis: readonly number[];
}

/**
 * Recovery time of a failure at tf: seconds from tf to the first second, once the job runs
 * again, whose lag is back to max(lag just before tf, one second of arrivals); null if never.
 */
export function recoveryTime(record: TwinRecord, tf: number): number | null {
  const n = record.lag.length;
  const lagBefore = tf > 0 ? (record.lag[tf - 1] as number) : 0;
  let s = tf + 1;
  while (s < n && record.status[s] !== JOB_STATUS_CODE.RUNNING) s++;
  for (; s < n; s++) {
    if ((record.lag[s] as number) <= Math.max(lagBefore, record.arrivalRate[s] as number)) return s - tf;
  }
  return null;
}

export function scoreRun(inputs: ScoreInputs): RunScores {
  const { scenario, record } = inputs;
  const n = record.parallelism.length;
  const target = scenario.slo.recoveryTimeSeconds;
  let parallelismSum = 0;
  for (let s = 0; s < n; s++) parallelismSum += record.parallelism[s] as number;
  const meanParallelism = n > 0 ? parallelismSum / n : 0;

  const failureTimes = scenario.failures.atSeconds.filter((tf) => tf < n);
  const recoveryTimesSeconds = failureTimes.map((tf) => recoveryTime(record, tf));
  const excluded = new Uint8Array(n);
  failureTimes.forEach((tf, k) => {
    const recovery = recoveryTimesSeconds[k];
    const end = Math.min(n - 1, tf + Math.min(recovery ?? target, target));
    for (let s = tf; s <= end; s++) excluded[s] = 1;
  });
  let counted = 0;
  let met = 0;
  for (let s = 0; s < n; s++) {
    if (excluded[s]) continue;
    counted++;
    if ((record.latencySeconds[s] as number) <= scenario.slo.latencySeconds) met++;
  }

  const times = [...inputs.decisionMillis];
  return {
    scenario: scenario.name,
    policy: inputs.policy,
    seed: inputs.seed,
    durationSeconds: n,
    meanParallelism,
    lowerBoundMeanParallelism: inputs.lowerBoundMeanParallelism,
    costRatio: meanParallelism / inputs.lowerBoundMeanParallelism,
    failures: failureTimes.length,
    recoveredWithinTarget: recoveryTimesSeconds.filter((r) => r !== null && r <= target).length,
    recoveryTimesSeconds,
    latencySloFraction: counted > 0 ? met / counted : 1,
    rescales: inputs.rescales,
    rescalesRejected: inputs.rescalesRejected,
    decisionMillis: { p50: times.length ? quantile(times, 0.5) : 0, p95: times.length ? quantile(times, 0.95) : 0 },
  };
}
