import type { Signals } from '../observe/signals.js';
import type { RescaleOutcome } from './twin.js';

/** What an operator tells a scaling policy up front; never the job's true capacity. */
export interface PolicyContext {
  minParallelism: number;
  maxParallelism: number;
  initialParallelism: number;
  slo: { recoveryTimeSeconds: number; latencySeconds: number };
  /** Flink's configured checkpoint interval (execution.checkpointing.interval). */
  checkpointIntervalSeconds: number;
  /**
   * Optional profiling result (parallelism → maximum records/s), as the original Phoebe took
   * from scale-out runs before deployment. Only policies that document needing it read it.
   */
  profile?: ReadonlyArray<{ parallelism: number; maxRate: number }>;
  /**
   * Smallest fixed parallelism meeting both SLOs throughout the workload, from the clairvoyant
   * lower bound: only the `static` baseline (a job sized for its known peak) uses it.
   */
  peakSizedParallelism?: number;
}

export interface PolicyDecision {
  /** Desired parallelism; undefined or equal to the current one means no change. */
  parallelism?: number;
  /** Why, in a few words (for logs and the report). */
  reason?: string;
}

export interface Policy {
  readonly name: string;
  /** Seconds between decide() calls. */
  readonly intervalSeconds: number;
  /** Parallelism the job is deployed with; defaults to the scenario's initial parallelism. */
  readonly initialParallelism?: number;
  decide(signals: Signals): PolicyDecision | Promise<PolicyDecision>;
  /**
   * What became of the parallelism decide() just asked for, as the twin answered (`unchanged`
   * when it equals the current one): a policy that tracks its rescales learns the outcome here.
   */
  rescaleOutcome?(outcome: RescaleOutcome): void;
  /** Releases what the policy holds (worker threads); called once after the run. */
  close?(): Promise<void>;
}

export type PolicyFactory = (context: PolicyContext) => Policy;
