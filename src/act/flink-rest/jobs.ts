/**
 * Job lookup and resolution for the flink-rest actuator: which job phoebe acts on (by id, or by
 * name when the id is unknown or gone — the id changes with every resubmission), what Flink says
 * about a job, the jar to resubmit, and the bounded waits on a job's state.
 */
import { describeError, HttpStatusError, redact } from '../errors.js';
import { pollUntil, type PollResult, type Probe } from '../timing.js';
import type { AsynchronousOperationResult, FlinkRestClient, JobDetailsInfo, JobStatus } from './client.js';
import type { RescaleRecord } from './journal.js';
import type { FlinkRestSettings } from './settings.js';
import { jobParallelism } from './vertices.js';

export const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED']);

export function vertexSummary(job: JobDetailsInfo): string {
  return job.vertices.map((v) => `${v.parallelism}${v.status && v.status !== 'RUNNING' ? ` ${v.status}` : ''}`).join(',');
}

export function verticesRunning(job: JobDetailsInfo): boolean {
  return job.vertices.length > 0 && job.vertices.every((v) => v.status === undefined || v.status === 'RUNNING' || v.status === 'FINISHED');
}

/** A probe of a job: done when `reached`, fatal once the job has ended. */
export function jobProbe(job: JobDetailsInfo, reached: (job: JobDetailsInfo) => boolean): Probe<JobDetailsInfo> {
  if (job.state === 'RUNNING' && verticesRunning(job) && reached(job)) return { done: true, value: job };
  const state = `job ${job.state}, vertex parallelism [${vertexSummary(job)}]`;
  return TERMINAL.has(job.state) ? { done: false, fatal: true, state } : { done: false, state };
}

export type SavepointState =
  | { kind: 'in-progress' }
  | { kind: 'completed'; location: string }
  | { kind: 'failed'; reason: string };

export function interpretSavepoint(result: AsynchronousOperationResult): SavepointState {
  const id = result.status.id;
  const op = result.operation ?? undefined;
  const failure = op?.['failure-cause'];
  const failureReason = (): string => {
    if (!failure) return 'no reason given';
    const firstLine = (failure['stack-trace'] ?? '').split('\n')[0]?.trim() ?? '';
    return redact(firstLine || failure.class || 'no reason given', 200);
  };
  if (id === 'IN_PROGRESS') return { kind: 'in-progress' };
  if (id === 'FAILED') return { kind: 'failed', reason: failureReason() };
  if (id === 'COMPLETED') {
    if (failure) return { kind: 'failed', reason: failureReason() };
    if (typeof op?.location === 'string' && op.location !== '') return { kind: 'completed', location: op.location };
    return { kind: 'failed', reason: 'completed without a savepoint location' };
  }
  return { kind: 'in-progress' };
}

const isNotFound = (err: unknown): boolean => err instanceof HttpStatusError && err.status === 404;

/** The job phoebe acts on, and what Flink says about jobs. */
export class JobTracker {
  /** The job id phoebe currently acts on (changes after every resubmission). */
  current: string | undefined;

  constructor(private readonly client: FlinkRestClient, private readonly settings: FlinkRestSettings) {
    this.current = settings.jobId;
  }

  /** The job's parallelism as phoebe sees and sets it (see jobParallelism). */
  parallelism(job: Pick<JobDetailsInfo, 'vertices'>): number | undefined {
    return jobParallelism(job, this.settings.isSource);
  }

  /** The tracked job if it is running; otherwise, with a jobName, the running job of that name. */
  async runningJob(): Promise<JobDetailsInfo> {
    const { jobId, jobName } = this.settings;
    let reason = 'no job id known';
    if (this.current) {
      try {
        const job = await this.client.getJob(this.current);
        if (job.state === 'RUNNING') return job;
        reason = `job ${this.current} is ${job.state}`;
      } catch (err) {
        if (isNotFound(err) && jobId && this.current !== jobId) {
          // The journal's job id (an earlier cluster?) is unknown: fall back to the configured one.
          this.settings.logger.warn('tracked job not found; trying the configured job id', { tracked: this.current, configured: jobId });
          this.current = jobId;
          return this.runningJob();
        }
        if (!isNotFound(err) || !jobName) throw err;
        reason = `job ${this.current} not found`;
      }
    }
    if (!jobName) throw new Error(`${reason}, not RUNNING`);
    const overview = await this.client.getJobsOverview();
    const named = overview.jobs.filter((j) => j.name === jobName && !TERMINAL.has(j.state));
    if (named.length === 0) throw new Error(`${reason}; no running job named "${jobName}"`);
    if (named.length > 1) throw new Error(`${named.length} jobs named "${jobName}" are active; set jobId`);
    const job = await this.client.getJob(named[0]!.jid);
    if (job.state !== 'RUNNING') throw new Error(`job ${job.jid} ("${jobName}") is ${job.state}, not RUNNING`);
    if (this.current !== job.jid) this.settings.logger.info('tracking job found by name', { job: job.jid });
    this.current = job.jid;
    return job;
  }

  /** true / false when Flink says so, undefined when it cannot be asked. */
  async exists(jobId: string): Promise<boolean | undefined> {
    try {
      await this.client.getJob(jobId);
      return true;
    } catch (err) {
      return isNotFound(err) ? false : undefined;
    }
  }

  /** The job's state, 'not found', or why it cannot be told. */
  async state(jobId: string): Promise<string> {
    try {
      return (await this.client.getJob(jobId)).state;
    } catch (err) {
      return isNotFound(err) ? 'not found' : `unknown (${describeError(err)})`;
    }
  }

  /** "is RUNNING", or "state unknown (why)", for messages. */
  async stateText(jobId: string): Promise<string> {
    try {
      return `is ${(await this.client.getJob(jobId)).state}`;
    } catch (err) {
      return `state unknown (${describeError(err)})`;
    }
  }

  /** The jar to resubmit: the configured id if uploaded, else the newest upload with the configured name. */
  async resolveJar(): Promise<string> {
    const jars = await this.client.listJars();
    const { jarId, jarName } = this.settings;
    if (jarId) {
      if (jars.files.some((f) => f.id === jarId)) return jarId;
      throw new Error(`jar ${jarId} is not among the uploaded jars (GET /jars)`);
    }
    const named = jars.files.filter((f) => f.name === jarName).sort((a, b) => (b.uploaded ?? 0) - (a.uploaded ?? 0));
    const newest = named[0];
    if (!newest) throw new Error(`no uploaded jar named "${jarName}" (GET /jars)`);
    return newest.id;
  }

  /** Polls the old job until it has terminated (or Flink no longer knows it). */
  awaitTerminated(jobId: string): Promise<PollResult<string>> {
    return this.poll(this.settings.runningTimeoutMs, async () => {
      try {
        const job = await this.client.getJob(jobId);
        return TERMINAL.has(job.state) ? { done: true, value: `is ${job.state}` } : { done: false, state: `job ${job.state}` };
      } catch (err) {
        if (isNotFound(err)) return { done: true, value: 'is no longer known' };
        throw err;
      }
    });
  }

  /** Polls a job until it runs with every vertex running and `reached` holds; fatal once it ended. */
  awaitRunning(jobId: string, reached: (job: JobDetailsInfo) => boolean = () => true): Promise<PollResult<JobDetailsInfo>> {
    return this.poll(this.settings.runningTimeoutMs, async () => jobProbe(await this.client.getJob(jobId), reached));
  }

  /** Active (not terminal) jobs with the rescale's job name, other than the old one; [] without a name. */
  activeJobsNamed(rec: RescaleRecord): Promise<PollResult<{ jid: string; state: JobStatus }[]>> {
    return this.poll(Math.min(this.settings.runningTimeoutMs, 30_000), async () => {
      if (!rec.jobName) return { done: true, value: [] };
      const overview = await this.client.getJobsOverview();
      const active = overview.jobs.filter((j) => j.name === rec.jobName && j.jid !== rec.oldJobId && !TERMINAL.has(j.state));
      return { done: true, value: active.map((j) => ({ jid: j.jid, state: j.state })) };
    });
  }

  /** pollUntil on the actuator's interval and clock. */
  poll<T>(timeoutMs: number, probe: () => Promise<Probe<T>>): Promise<PollResult<T>> {
    return pollUntil<T>({ timeoutMs, intervalMs: this.settings.pollIntervalMs, clock: this.settings.clock }, probe, describeError);
  }
}
