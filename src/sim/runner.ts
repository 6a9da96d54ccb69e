import { performance } from 'node:perf_hooks';
import type { Scenario } from '../config/scenario.js';
import type { LowerBound } from './lower-bound.js';
import type { PolicyContext, PolicyDecision, PolicyFactory } from './policy.js';
import { scoreRun, type RunScores } from './scores.js';
import { Twin, type RescaleOutcome, type TwinRecord } from './twin.js';
import type { Trace } from './trace.js';

export interface DecisionLogEntry {
  /** Second of the run (0-based). */
  second: number;
  from: number;
  to: number;
  outcome: RescaleOutcome;
  reason?: string;
}

export interface RunResult {
  scores: RunScores;
  record: TwinRecord;
  decisions: DecisionLogEntry[];
}

export interface RunOptions {
  seed: number;
  lowerBound: LowerBound;
  /** Called now and then with the fraction of the trace simulated. */
  onProgress?: (fraction: number) => void;
}

/** The knowledge an operator hands every policy for this scenario. */
export function policyContext(scenario: Scenario, lowerBound: LowerBound): PolicyContext {
  let peakSized = scenario.twin.minParallelism;
  for (const p of lowerBound.perSecond) peakSized = Math.max(peakSized, p);
  return {
    minParallelism: scenario.twin.minParallelism,
    maxParallelism: scenario.twin.maxParallelism,
    initialParallelism: scenario.twin.initialParallelism,
    slo: { ...scenario.slo },
    checkpointIntervalSeconds: scenario.twin.checkpointIntervalSeconds,
    peakSizedParallelism: peakSized,
  };
}

/** Arrival rates of the scenario: the trace scaled by `trace.scale`. */
export function scenarioArrivals(scenario: Scenario, trace: Trace): Float64Array {
  const scale = scenario.trace.scale;
  return scale === 1 ? trace.values : trace.values.map((v) => v * scale);
}

/**
 * Replays a scenario against one policy: the twin advances second by second and the policy
 * decides every `intervalSeconds` on the signals simulated so far.
 */
export async function runPolicy(scenario: Scenario, trace: Trace, factory: PolicyFactory, options: RunOptions): Promise<RunResult> {
  const arrivals = scenarioArrivals(scenario, trace);
  const policy = factory(policyContext(scenario, options.lowerBound));
  const twin = new Twin(scenario, arrivals, {
    seed: options.seed,
    startTime: trace.startTime,
    initialParallelism: policy.initialParallelism ?? scenario.twin.initialParallelism,
  });
  const decisionMillis: number[] = [];
  const decisions: DecisionLogEntry[] = [];
  const progressEvery = Math.max(1, Math.floor(twin.duration / 100));
  const interval = policy.intervalSeconds;

  try {
    while (!twin.done) {
      twin.step();
      const second = twin.elapsed;
      if (options.onProgress && second % progressEvery === 0) options.onProgress(second / twin.duration);
      if (!Number.isFinite(interval) || second % interval !== 0 || twin.done) continue;
      const started = performance.now();
      const pending = policy.decide(twin.signals());
      const decision: PolicyDecision = pending instanceof Promise ? await pending : pending;
      decisionMillis.push(performance.now() - started);
      const from = twin.parallelism;
      if (decision.parallelism !== undefined && decision.parallelism !== from) {
        const outcome = twin.requestRescale(decision.parallelism);
        decisions.push({ second: second - 1, from, to: decision.parallelism, outcome, ...(decision.reason ? { reason: decision.reason } : {}) });
        policy.rescaleOutcome?.(outcome);
      } else if (decision.parallelism !== undefined) {
        policy.rescaleOutcome?.('unchanged');
      }
    }
  } finally {
    await policy.close?.();
  }
  options.onProgress?.(1);

  const scores = scoreRun({
    scenario,
    policy: policy.name,
    seed: options.seed,
    record: twin.record,
    lowerBoundMeanParallelism: options.lowerBound.meanParallelism,
    rescales: twin.rescalesCompleted,
    rescalesRejected: twin.rescalesRejected,
    decisionMillis,
  });
  return { scores, record: twin.record, decisions };
}
