import { FlinkRestError, type LiveJob, type SavepointStatus } from './flink-job.js';
import { HEX32, type IdSource } from './ids.js';

/** A savepoint or stop-with-savepoint the JobManager accepted (202 with a trigger id). */
export interface SavepointOperation {
  readonly triggerId: string;
  readonly jobId: string;
  readonly kind: 'savepoint' | 'stop';
  readonly triggeredSecond: number;
  readonly doneAt: number;
  readonly plannedLocation: string;
  readonly restartsAtTrigger: number;
  completed: boolean;
  location: string | undefined;
  failure: string | undefined;
}

export interface TriggerOptions {
  triggerId?: string;
  targetDirectory?: string;
}

/** Where the twin stands when an operation is triggered or settled. */
export interface SimulatedMoment {
  /** The current simulated second. */
  second: number;
  /** The twin's restart count so far (a restart during a savepoint declines it). */
  restarts: number;
}

/**
 * The JobManager's asynchronous savepoint operations, keyed by trigger id, and the savepoints
 * they completed: a job may only be resubmitted from a savepoint this cluster took.
 */
export class SavepointOperations {
  private readonly operations = new Map<string, SavepointOperation>();
  private readonly completedLocations = new Set<string>();
  private latestStop: string | undefined;

  /**
   * @param directory  state.savepoints.dir, used when a trigger names no target directory
   * @param seconds    simulated seconds a savepoint takes
   */
  constructor(private readonly ids: IdSource, private readonly directory: string, private readonly seconds: number) {}

  /** Location of the savepoint the latest completed stop-with-savepoint took. */
  get latestStopLocation(): string | undefined {
    return this.latestStop;
  }

  /** Whether this cluster completed a savepoint at this location. */
  completed(location: string): boolean {
    return this.completedLocations.has(location);
  }

  /** The trigger id again when it names an operation of this job already (Flink de-duplicates it). */
  existing(job: LiveJob, triggerId: string | undefined): string | undefined {
    if (triggerId === undefined) return undefined;
    if (!HEX32.test(triggerId)) throw new FlinkRestError(400, `Request did not match expected format: invalid triggerId "${triggerId}".`);
    const existing = this.operations.get(triggerId);
    if (!existing) return undefined;
    if (existing.jobId !== job.id) throw new FlinkRestError(409, `Trigger id ${triggerId} is already used for job ${existing.jobId}.`);
    return triggerId; // Flink de-duplicates a repeated trigger id
  }

  /**
   * A new operation. With a refusal it fails at once (done now); otherwise it completes after the
   * savepoint time, or at `doneAt` when given (an injected fault's).
   */
  create(job: LiveJob, kind: 'savepoint' | 'stop', options: TriggerOptions, refusal: string | undefined, now: SimulatedMoment, doneAt?: number): SavepointOperation {
    const triggerId = options.triggerId ?? this.ids.hex32('trigger');
    const directory = (options.targetDirectory ?? this.directory).replace(/\/+$/, '');
    const operation: SavepointOperation = {
      triggerId,
      jobId: job.id,
      kind,
      triggeredSecond: now.second,
      doneAt: doneAt ?? (refusal === undefined ? now.second + this.seconds : now.second),
      plannedLocation: `${directory}/savepoint-${job.id.slice(0, 6)}-${this.ids.hex32('savepoint').slice(0, 12)}`,
      restartsAtTrigger: now.restarts,
      completed: false,
      location: undefined,
      failure: refusal,
    };
    this.operations.set(triggerId, operation);
    return operation;
  }

  /** GET /jobs/:jobid/savepoints/:triggerid for a job that exists. */
  status(job: LiveJob, triggerId: string): SavepointStatus {
    const operation = this.operations.get(triggerId);
    if (!operation || operation.jobId !== job.id) {
      throw new FlinkRestError(404, `Operation not found under key: AsynchronousJobOperationKey{triggerId=${triggerId}, jobId=${job.id}}`);
    }
    if (!operation.completed) return { status: 'IN_PROGRESS' };
    return operation.failure !== undefined
      ? { status: 'COMPLETED', failure: operation.failure }
      : { status: 'COMPLETED', location: operation.location as string };
  }

  /** Completes every operation due by now; a savepoint (not a stop) during which the job restarted is declined. */
  settle(now: SimulatedMoment): void {
    for (const operation of this.operations.values()) {
      if (operation.completed || operation.doneAt > now.second) continue;
      operation.completed = true;
      if (operation.failure === undefined && operation.kind === 'savepoint' && now.restarts !== operation.restartsAtTrigger) {
        operation.failure = 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint was declined (task failure).';
      }
      if (operation.failure === undefined) {
        operation.location = operation.plannedLocation;
        this.completedLocations.add(operation.plannedLocation);
        if (operation.kind === 'stop') this.latestStop = operation.plannedLocation;
      }
    }
  }
}
