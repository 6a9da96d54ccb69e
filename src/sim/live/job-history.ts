import { FlinkRestError, type LiveJob } from './flink-job.js';
import { HEX32, type IdSource } from './ids.js';

/** When a job is submitted: the simulated second, the twin's restarts so far and its parallelism. */
export interface Submission {
  second: number;
  restarts: number;
  /** The twin's target parallelism, which the previous job ends with. */
  parallelism: number;
}

/**
 * Every job the JobManager has run, oldest first; the last one is the current job (the twin runs
 * one at a time). Flink keeps finished jobs for its overview, and so does this.
 */
export class JobHistory {
  private readonly list: LiveJob[] = [];
  /** Per submitted job: whether it restored from the savepoint of the latest completed stop. */
  private readonly restoredFromLatestStop = new Map<string, boolean>();

  constructor(private readonly ids: IdSource, private readonly jobName: string) {}

  get all(): readonly LiveJob[] {
    return this.list;
  }

  get current(): LiveJob {
    return this.list[this.list.length - 1] as LiveJob;
  }

  has(jobId: string): boolean {
    return this.list.some((j) => j.id === jobId);
  }

  /** The job with this id; 400 for a malformed id, 404 for an unknown one (Flink's answers). */
  find(jobId: string): LiveJob {
    if (!HEX32.test(jobId)) {
      throw new FlinkRestError(400, `Bad request, could not parse parameters: Cannot resolve path parameter (jobid) from value "${jobId}".`);
    }
    const found = this.list.find((j) => j.id === jobId);
    if (!found) throw new FlinkRestError(404, `Job ${jobId} not found`);
    return found;
  }

  /**
   * A new current job (its id given by the jar run, or the next deterministic one). The job it
   * replaces keeps the parallelism it ended with. `restoredFromLatestStop` is left unset for the
   * first job, which restored from nothing.
   */
  add(
    options: { savepointPath: string | undefined; restoring: boolean; id?: string | undefined; restoredFromLatestStop?: boolean },
    at: Submission,
  ): LiveJob {
    const previous = this.list[this.list.length - 1];
    if (previous && previous.finalParallelism === undefined) previous.finalParallelism = at.parallelism;
    const job: LiveJob = {
      id: options.id ?? this.ids.hex32('job'),
      name: this.jobName,
      submittedSecond: at.second,
      restartsAtStart: at.restarts,
      savepointPath: options.savepointPath,
      endSecond: undefined,
      finalState: undefined,
      failure: undefined,
      restoring: options.restoring,
      runningSince: undefined,
      checkpoints: 0,
      processed: 0,
      stateTimestamps: {},
      lastModifiedSecond: at.second,
      finalParallelism: undefined,
    };
    this.list.push(job);
    if (options.restoredFromLatestStop !== undefined) this.restoredFromLatestStop.set(job.id, options.restoredFromLatestStop);
    return job;
  }

  /** Whether the job restored from the savepoint of the latest completed stop (undefined for the first job). */
  restoredFromLatestStopSavepoint(jobId: string): boolean | undefined {
    return this.restoredFromLatestStop.get(jobId);
  }
}
