import type { Decision } from '../planner/decision.js';

/** How phoebe may act on the job (registry.ts has one adapter each). `recommend` only publishes what it would do. */
export const ACTUATION_MODES = ['recommend', 'flink-rest', 'flink-deployment', 'taskmanager-deployment'] as const;
export type ActuationMode = (typeof ACTUATION_MODES)[number];

export interface RescaleRequest {
  /** The parallelism to run at. */
  parallelism: number;
  /** One line for logs and the Kubernetes Event. */
  reason: string;
  /** The full explanation, when the request comes from a plan. */
  decision?: Decision;
}

export type RescaleOutcome = 'completed' | 'failed' | 'skipped';

export interface RescaleResult {
  outcome: RescaleOutcome;
  /** Parallelism the job runs at afterwards, as the target reported it (if known). */
  parallelism?: number;
  /** What happened, for logs and metrics; never contains a secret. */
  detail: string;
  /** Wall seconds from request to outcome. */
  seconds: number;
}

/**
 * One way of changing a Flink job's parallelism. Implementations never cancel a job without a
 * completed savepoint and always resolve (a failure is an outcome, not a rejection), bounded
 * by their own timeouts.
 */
export interface Actuator {
  readonly mode: ActuationMode;
  /** The job's parallelism as the target reports it; undefined when it cannot tell now. */
  currentParallelism(): Promise<number | undefined>;
  rescale(request: RescaleRequest): Promise<RescaleResult>;
}
