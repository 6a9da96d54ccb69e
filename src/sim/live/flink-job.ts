/**
 * The Flink side of the live twin in plain data: the names the twin's job goes by, the job and
 * savepoint shapes the JobManager (job-manager.ts) keeps and the Flink REST routes render, and
 * the REST error type.
 */

export type Scheduler = 'default' | 'adaptive';

export type FlinkJobState =
  | 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED'
  | 'FINISHED' | 'RESTARTING' | 'SUSPENDED' | 'RECONCILING';

export const FLINK_VERSION = '1.20.1';
export const FLINK_REVISION = 'phoebe-twin';
export const JOB_VERTEX_NAME = 'Source: events -> Process';
export const SOURCE_OPERATOR_NAME = 'Source: events';
export const PROCESS_OPERATOR_NAME = 'Process';
export const JAR_NAME = 'phoebe-twin-job.jar';
export const JAR_ENTRY_CLASS = 'org.apache.flink.streaming.examples.PhoebeTwinJob';

/** A Flink REST failure: rendered as {"errors": [message]} with this HTTP status. */
export class FlinkRestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Test-only faults the cluster itself plays (armed through src/sim/live/fault-injection.ts, which
 * only `phoebe twin --faults` mounts). Each call consumes one armed fault, if any.
 */
export interface ClusterFaultHooks {
  /**
   * For a stop-with-savepoint that would be taken: 'fail' — the savepoint fails after the savepoint
   * time and the job keeps running (Flink's behaviour); 'hang' — it stays IN_PROGRESS for
   * `seconds` simulated seconds (Infinity: until the twin ends), then fails as expired, the job
   * running all along.
   */
  takeStopFault(): { kind: 'fail'; reason: string } | { kind: 'hang'; seconds: number; reason: string } | undefined;
  /** For a submission at this parallelism: the reason it FAILS while initializing, or undefined. */
  takeSubmitFault(parallelism: number): string | undefined;
  /** For new resource requirements: true when they are accepted but the job does not rescale. */
  takeInPlaceFault?(): boolean;
  /** For a change of the TaskManager replicas: true when no TaskManager comes or goes. */
  takeScaleFault?(): boolean;
  /** For a FlinkDeployment spec the operator would reconcile: it stalls, or rolls the upgrade back with an error. */
  operatorFault?(): { kind: 'stall' } | { kind: 'roll-back'; error: string } | undefined;
}

/** Records in and out since the start: arrivals = processed − rolled back + lag when nothing is lost. */
export interface FlowAccounting {
  seconds: number;
  arrivals: number;
  processed: number;
  /** Processed after the last completed checkpoint and replayed after a failure (not lost). */
  rolledBack: number;
  lag: number;
  /** arrivals − (processed − rolledBack) − lag: records neither processed nor waiting in Kafka. */
  lost: number;
}

export interface LiveJob {
  readonly id: string;
  readonly name: string;
  /** Simulated second of the submission. */
  readonly submittedSecond: number;
  /** Twin restarts before this job existed (numRestarts counts per job, as in Flink). */
  readonly restartsAtStart: number;
  readonly savepointPath: string | undefined;
  endSecond: number | undefined;
  finalState: 'FINISHED' | 'CANCELED' | 'FAILED' | undefined;
  failure: string | undefined;
  /** Submitted and not yet RUNNING since. */
  restoring: boolean;
  /** Simulated second at which the job last switched to RUNNING. */
  runningSince: number | undefined;
  checkpoints: number;
  /** Records processed by this job. */
  processed: number;
  /** Wall ms at which the job first entered each state. */
  stateTimestamps: Partial<Record<FlinkJobState, number>>;
  lastModifiedSecond: number;
  /** Parallelism when the job ended (for the overview of finished jobs). */
  finalParallelism: number | undefined;
}

export interface SavepointStatus {
  status: 'IN_PROGRESS' | 'COMPLETED';
  location?: string;
  failure?: string;
}

/** A job's status as a Flink ExecutionState for its tasks. */
export function executionState(state: FlinkJobState): string {
  switch (state) {
    case 'RUNNING': return 'RUNNING';
    case 'FINISHED': return 'FINISHED';
    case 'CANCELED': return 'CANCELED';
    case 'FAILED': return 'FAILED';
    case 'INITIALIZING': return 'INITIALIZING';
    default: return 'SCHEDULED';
  }
}

/** 400 unless the parallelism is an integer within the scenario's [min, max] (Flink's bound is the max parallelism). */
export function checkParallelism(parallelism: number, field: string, bounds: { minParallelism: number; maxParallelism: number }): void {
  const { minParallelism, maxParallelism } = bounds;
  if (!Number.isInteger(parallelism) || parallelism < minParallelism || parallelism > maxParallelism) {
    throw new FlinkRestError(400, `${field} ${parallelism} is outside the range the twin's scenario allows, [${minParallelism}, ${maxParallelism}].`);
  }
}

/** The DefaultScheduler's answer to a resource-requirements request: 500. */
export function requireAdaptive(scheduler: Scheduler, operation: string): void {
  if (scheduler !== 'adaptive') {
    throw new FlinkRestError(500, `Internal server error.: java.lang.UnsupportedOperationException: The DefaultScheduler does not support ${operation}; this is only supported by the AdaptiveScheduler (jobmanager.scheduler: adaptive).`);
  }
}

/**
 * The upper bound a PUT /jobs/:jobid/resource-requirements body asks for the job's one vertex;
 * 400 for a malformed body, an unknown vertex or inconsistent bounds.
 */
export function requestedUpperBound(body: unknown, vertexId: string, jobId: string): number {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FlinkRestError(400, 'Request did not match expected format JobResourceRequirementsBody.');
  }
  let upper: number | undefined;
  for (const [vertex, value] of Object.entries(body as Record<string, unknown>)) {
    if (vertex !== vertexId) throw new FlinkRestError(400, `Job vertex ${vertex} does not exist in job ${jobId}.`);
    const bounds = (value as { parallelism?: { lowerBound?: unknown; upperBound?: unknown } } | null)?.parallelism;
    const lower = bounds?.lowerBound;
    const up = bounds?.upperBound;
    if (typeof lower !== 'number' || typeof up !== 'number' || !Number.isInteger(lower) || !Number.isInteger(up)) {
      throw new FlinkRestError(400, 'Request did not match expected format JobResourceRequirementsBody.');
    }
    if (lower < 1 || lower > up) throw new FlinkRestError(400, `The lower bound ${lower} must be ≥ 1 and ≤ the upper bound ${up}.`);
    upper = up;
  }
  if (upper === undefined) throw new FlinkRestError(400, `The resource requirements must contain job vertex ${vertexId}.`);
  return upper;
}
