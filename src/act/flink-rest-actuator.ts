/**
 * `flink-rest`: rescales a job through the JobManager REST API.
 *
 * Default scheduler — stop-with-savepoint and resubmit:
 *   1. GET /jobs/{id} (must be RUNNING; its parallelism is the largest vertex parallelism);
 *   2. find the jar (GET /jars: by id or by file name) before touching the job;
 *   3. POST /jobs/{id}/stop {targetDirectory, drain: false};
 *   4. poll GET /jobs/{id}/savepoints/{triggerid} until COMPLETED with a location (bounded). A failed
 *      savepoint leaves the job running: outcome 'failed', nothing else happens;
 *   5. POST /jars/{jarid}/run {savepointPath, parallelism, entryClass, programArgsList};
 *   6. poll GET /jobs/{newid} until RUNNING with every vertex running and the new parallelism (bounded).
 * Adaptive scheduler (GET /jobmanager/config → jobmanager.scheduler = adaptive) — in place:
 *   PUT /jobs/{id}/resource-requirements with upper bound p on every vertex (from GET first), then
 *   poll GET /jobs/{id} until the vertices run at p.
 *
 * Lost answers: phoebe chooses the stop's triggerId and the new job's jobId itself, so when a POST
 * times out it asks Flink whether the request arrived (GET the trigger / the job) and sends it at
 * most once more with the same id (Flink de-duplicates triggers and refuses a duplicate job id).
 * A submission that stays unconfirmed is tracked by its id and never followed by another one, so
 * the job cannot run twice.
 *
 * The job is never cancelled: the client has no cancel call. If the stop-with-savepoint is still
 * running at the timeout, the trigger is remembered; the next rescale checks it first and, if it
 * completed meanwhile (the job is then stopped), resubmits from that savepoint.
 * The job id changes with every resubmission; `jobId` tracks it.
 */
import { randomBytes } from 'node:crypto';
import type { Actuator, RescaleRequest, RescaleResult } from './actuator.js';
import { describeError, HttpStatusError, redact } from './errors.js';
import {
  FlinkRestClient,
  isHex32,
  type AsynchronousOperationResult,
  type JarRunRequestBody,
  type JobDetailsInfo,
  type JobResourceRequirementsBody,
  type JobStatus,
  type SavepointFormatType,
} from './flink-rest-client.js';
import { RescaleGuard, type RescaleSeen } from './guarded-rescale.js';
import type { EventTarget, RescaleEventSink } from './kubernetes-events.js';
import { stderrLogger, type ActLogger } from './logger.js';
import { pollUntil, type Probe } from './timing.js';

const newHex32 = (): string => randomBytes(16).toString('hex');

export interface FlinkRestActuatorOptions {
  /** JobManager REST endpoint, e.g. http://my-job-rest.flink:8081. */
  restUrl: string;
  /** Extra headers for every REST request (e.g. a proxy's Authorization). Never logged. */
  restHeaders?: Record<string, string>;
  /** The job to rescale (32 hex). Either this or `jobName`. */
  jobId?: string;
  /** Find the job among running jobs by name (GET /jobs/overview) when no id is known or the tracked one is gone. */
  jobName?: string;
  /** The uploaded jar to resubmit (its id in GET /jars). Either this or `jarName`, unless inPlace is 'always'. */
  jarId?: string;
  /** The uploaded jar's file name; the newest upload with that name is used. */
  jarName?: string;
  /** Entry class for the resubmission (JarRunRequestBody.entryClass). */
  entryClass?: string;
  /** Program arguments for the resubmission (JarRunRequestBody.programArgsList). */
  programArgs?: string[];
  /** Allow savepoint state that maps to no operator. Default false. */
  allowNonRestoredState?: boolean;
  /** Savepoint target directory; omitted → the cluster's state.savepoints.dir. */
  savepointDirectory?: string;
  savepointFormatType?: SavepointFormatType;
  /** 'auto' (default): in place when jobmanager.scheduler = adaptive; 'always'; 'never'. */
  inPlace?: 'auto' | 'always' | 'never';
  /**
   * When the resubmission at the new parallelism is rejected, resubmit once at the old parallelism
   * from the same savepoint so the job does not stay down. Default true.
   */
  restoreOnSubmitFailure?: boolean;
  /** Per-request timeout (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** How long the savepoint may take (ms). Default 600 000. */
  savepointTimeoutMs?: number;
  /** How long the (re)started job may take to run at the new parallelism (ms). Default 300 000. */
  runningTimeoutMs?: number;
  /** Poll interval (ms). Default 2 000. */
  pollIntervalMs?: number;
  /** Record a Kubernetes Event on this object for every rescale. */
  events?: { sink: RescaleEventSink; target: EventTarget };
  logger?: ActLogger;
}

/** A stop-with-savepoint whose outcome was not known when the rescale gave up waiting. */
export interface PendingStop {
  jobId: string;
  triggerId: string;
  /** Parallelism the stopped job ran at. */
  from: number | undefined;
  sinceMs: number;
}

const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED']);

/** A job's parallelism: the largest vertex parallelism (sources pinned lower do not count). */
export function jobParallelism(job: Pick<JobDetailsInfo, 'vertices'>): number | undefined {
  const ps = job.vertices.map((v) => v.parallelism).filter((p) => Number.isInteger(p) && p > 0);
  return ps.length === 0 ? undefined : Math.max(...ps);
}

function vertexSummary(job: JobDetailsInfo): string {
  return job.vertices.map((v) => `${v.parallelism}${v.status && v.status !== 'RUNNING' ? ` ${v.status}` : ''}`).join(',');
}

function verticesRunning(job: JobDetailsInfo): boolean {
  return job.vertices.length > 0 && job.vertices.every((v) => v.status === undefined || v.status === 'RUNNING' || v.status === 'FINISHED');
}

type SavepointState =
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

type Outcome = Omit<RescaleResult, 'seconds'>;

/** A job submission that got no answer and whose job could not be found afterwards. */
class SubmissionUnconfirmed extends Error {
  constructor(readonly jobId: string, override readonly cause: unknown) {
    super(`submission of job ${jobId} unconfirmed`);
    this.name = 'SubmissionUnconfirmed';
  }
}

export class FlinkRestActuator implements Actuator {
  readonly mode = 'flink-rest' as const;
  private readonly client: FlinkRestClient;
  private readonly options: FlinkRestActuatorOptions;
  private readonly logger: ActLogger;
  private readonly pollIntervalMs: number;
  private currentJob: string | undefined;
  private pending: PendingStop | undefined;
  private adaptive: boolean | undefined;
  private readonly guard = new RescaleGuard();

  constructor(options: FlinkRestActuatorOptions) {
    if (!options.jobId && !options.jobName) throw new Error('flink-rest actuator: set jobId or jobName');
    if (options.jobId !== undefined && !isHex32(options.jobId)) throw new Error('flink-rest actuator: jobId must be 32 hex characters');
    if (options.inPlace !== 'always' && !options.jarId && !options.jarName) {
      throw new Error('flink-rest actuator: set jarId or jarName (needed to resubmit from a savepoint)');
    }
    this.options = options;
    this.client = new FlinkRestClient({
      baseUrl: options.restUrl,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      ...(options.restHeaders ? { headers: options.restHeaders } : {}),
    });
    this.logger = options.logger ?? stderrLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.currentJob = options.jobId;
  }

  /** The job id phoebe currently acts on (changes after every resubmission). */
  get jobId(): string | undefined {
    return this.currentJob;
  }

  /** A stop-with-savepoint that had not completed when its rescale timed out, if any. */
  get pendingStop(): PendingStop | undefined {
    return this.pending ? { ...this.pending } : undefined;
  }

  async currentParallelism(): Promise<number | undefined> {
    try {
      const job = await this.runningJob();
      return jobParallelism(job);
    } catch {
      return undefined;
    }
  }

  rescale(request: RescaleRequest): Promise<RescaleResult> {
    const events = this.options.events;
    return this.guard.perform({
      mode: this.mode, request, logger: this.logger,
      logFields: () => ({ job: this.currentJob }),
      run: (seen: RescaleSeen) => this.run(request, seen),
      ...(events ? { events: { sink: events.sink, target: () => events.target } } : {}),
    });
  }

  private async run(request: RescaleRequest, seen: { from?: number }): Promise<Outcome> {
    const p = request.parallelism;
    if (!Number.isInteger(p) || p < 1) return { outcome: 'failed', detail: `invalid parallelism ${p}` };

    if (this.pending) {
      const resumed = await this.resumePending(p, seen);
      if (resumed) return resumed;
    }

    const job = await this.runningJob();
    const from = jobParallelism(job);
    seen.from = from;
    if (from === p) return { outcome: 'skipped', parallelism: p, detail: `job ${job.jid} already runs at ${p}` };

    if (await this.useInPlace()) return this.rescaleInPlace(job, p);
    return this.rescaleWithSavepoint(job, p, from);
  }

  // ---- job lookup -----------------------------------------------------------------------------------

  /** The tracked job if it is running; otherwise, with a jobName, the running job of that name. */
  private async runningJob(): Promise<JobDetailsInfo> {
    let reason = 'no job id known';
    if (this.currentJob) {
      try {
        const job = await this.client.getJob(this.currentJob);
        if (job.state === 'RUNNING') return job;
        reason = `job ${this.currentJob} is ${job.state}`;
      } catch (err) {
        if (!(err instanceof HttpStatusError && err.status === 404) || !this.options.jobName) throw err;
        reason = `job ${this.currentJob} not found`;
      }
    }
    if (!this.options.jobName) throw new Error(`${reason}, not RUNNING`);
    const overview = await this.client.getJobsOverview();
    const named = overview.jobs.filter((j) => j.name === this.options.jobName && !TERMINAL.has(j.state));
    if (named.length === 0) throw new Error(`${reason}; no running job named "${this.options.jobName}"`);
    if (named.length > 1) throw new Error(`${named.length} jobs named "${this.options.jobName}" are active; set jobId`);
    const found = named[0]!;
    const job = await this.client.getJob(found.jid);
    if (job.state !== 'RUNNING') throw new Error(`job ${job.jid} ("${this.options.jobName}") is ${job.state}, not RUNNING`);
    if (this.currentJob !== job.jid) this.logger.info('tracking job found by name', { job: job.jid });
    this.currentJob = job.jid;
    return job;
  }

  private async useInPlace(): Promise<boolean> {
    const setting = this.options.inPlace ?? 'auto';
    if (setting !== 'auto') return setting === 'always';
    if (this.adaptive !== undefined) return this.adaptive;
    const config = await this.client.getClusterConfig();
    const value = (key: string): string | undefined => config.find((e) => e.key === key)?.value?.trim().toLowerCase();
    if (value('scheduler-mode') === 'reactive') {
      throw new Error('the cluster runs in reactive mode (parallelism follows the TaskManagers); use the taskmanager-deployment actuator');
    }
    this.adaptive = value('jobmanager.scheduler') === 'adaptive';
    return this.adaptive;
  }

  // ---- in place (adaptive scheduler) -----------------------------------------------------------------

  private async rescaleInPlace(job: JobDetailsInfo, p: number): Promise<Outcome> {
    const current = await this.client.getResourceRequirements(job.jid);
    const vertexIds = Object.keys(current);
    if (vertexIds.length === 0) return { outcome: 'failed', detail: `job ${job.jid} reports no resource requirements` };
    const maxOf = new Map(job.vertices.map((v) => [v.id, v.maxParallelism] as const));
    const targets = new Map<string, number>();
    const body: JobResourceRequirementsBody = {};
    for (const id of vertexIds) {
      const max = maxOf.get(id);
      const target = max !== undefined && max > 0 ? Math.min(p, max) : p;
      const lower = current[id]?.parallelism?.lowerBound ?? 1;
      targets.set(id, target);
      body[id] = { parallelism: { lowerBound: Math.max(1, Math.min(lower, target)), upperBound: target } };
    }
    const capped = [...targets.values()].some((t) => t < p);
    this.logger.info('rescaling in place (adaptive scheduler)', { job: job.jid, to: p, vertices: vertexIds.length });
    await this.client.putResourceRequirements(job.jid, body);

    const waited = await pollUntil<JobDetailsInfo>(
      { timeoutMs: this.options.runningTimeoutMs ?? 300_000, intervalMs: this.pollIntervalMs },
      async (): Promise<Probe<JobDetailsInfo>> => {
        const now = await this.client.getJob(job.jid);
        const atTarget = [...targets].every(([id, t]) => now.vertices.find((v) => v.id === id)?.parallelism === t);
        if (now.state === 'RUNNING' && atTarget && verticesRunning(now)) return { done: true, value: now };
        const state = `job ${now.state}, vertex parallelism [${vertexSummary(now)}]`;
        return TERMINAL.has(now.state) ? { done: false, fatal: true, state } : { done: false, state };
      },
      describeError,
    );
    if (!waited.ok) {
      const why = waited.fatal ? 'the job left RUNNING' : `not running at ${p} within ${this.secondsText(this.options.runningTimeoutMs ?? 300_000)}`;
      return { outcome: 'failed', detail: `in place: upper bound set to ${p}, but ${why} (${waited.state})` };
    }
    const reached = jobParallelism(waited.value) ?? p;
    return {
      outcome: 'completed',
      parallelism: reached,
      detail: `in place (adaptive scheduler): job ${job.jid} runs at ${reached}${capped ? ' (some vertices capped at their max parallelism)' : ''}`,
    };
  }

  // ---- stop-with-savepoint and resubmit --------------------------------------------------------------

  private async rescaleWithSavepoint(job: JobDetailsInfo, p: number, from: number | undefined): Promise<Outcome> {
    // Find the jar first: a job must not be stopped when it cannot be started again.
    const jarId = await this.resolveJar().catch((err: unknown) => {
      throw new Error(`${describeError(err)}; job ${job.jid} left running`);
    });
    // phoebe picks the trigger id, so a stop whose answer is lost can still be found (Flink de-duplicates it).
    const triggerId = newHex32();
    const stopBody = {
      drain: false,
      triggerId,
      ...(this.options.savepointDirectory ? { targetDirectory: this.options.savepointDirectory } : {}),
      ...(this.options.savepointFormatType ? { formatType: this.options.savepointFormatType } : {}),
    };
    let confirmed = true;
    try {
      await this.client.stopWithSavepoint(job.jid, stopBody);
    } catch (err) {
      if (err instanceof HttpStatusError) throw err; // refused: the job is untouched
      confirmed = false; // no answer: the stop may or may not have arrived; its trigger tells
      this.logger.warn('stop-with-savepoint unanswered; checking its trigger', { job: job.jid, trigger: triggerId, error: describeError(err) });
    }
    this.logger.info('stop-with-savepoint triggered', { job: job.jid, trigger: triggerId, to: p });
    let resent = false;

    const timeoutMs = this.options.savepointTimeoutMs ?? 600_000;
    const waited = await pollUntil<SavepointState>(
      { timeoutMs, intervalMs: this.pollIntervalMs },
      async (): Promise<Probe<SavepointState>> => {
        let status: AsynchronousOperationResult;
        try {
          status = await this.client.getSavepointStatus(job.jid, triggerId);
        } catch (err) {
          if (confirmed || !(err instanceof HttpStatusError && err.status === 404)) throw err;
          // The unanswered stop never arrived. Send it once more (same trigger id, so never twice).
          if (resent) return { done: true, value: { kind: 'failed', reason: 'the stop-with-savepoint request was not accepted' } };
          resent = true;
          await this.client.stopWithSavepoint(job.jid, stopBody).catch((e: unknown) => {
            if (e instanceof HttpStatusError) throw e;
          });
          return { done: false, state: 'stop request resent' };
        }
        confirmed = true;
        const state = interpretSavepoint(status);
        return state.kind === 'in-progress' ? { done: false, state: 'IN_PROGRESS' } : { done: true, value: state };
      },
      describeError,
    );
    if (!waited.ok) {
      this.pending = { jobId: job.jid, triggerId, from, sinceMs: Date.now() };
      const still = await this.jobStateText(job.jid);
      return {
        outcome: 'failed',
        ...(from !== undefined ? { parallelism: from } : {}),
        detail: `savepoint not completed within ${this.secondsText(timeoutMs)} (last: ${waited.state}); job ${job.jid} ${still}; the next rescale resubmits if the stop completes later`,
      };
    }
    const savepoint = waited.value;
    if (savepoint.kind === 'failed') {
      const still = await this.jobStateText(job.jid);
      return {
        outcome: 'failed',
        ...(from !== undefined ? { parallelism: from } : {}),
        detail: `savepoint failed (${savepoint.reason}); job ${job.jid} ${still}, not resubmitted`,
      };
    }
    if (savepoint.kind !== 'completed') return { outcome: 'failed', detail: 'savepoint state unknown' };
    return this.resubmit(jarId, savepoint.location, p, from, job.jid);
  }

  /** The old job is stopped and `location` holds its savepoint: start it again at `p`. */
  private async resubmit(jarId: string, location: string, p: number, from: number | undefined, oldJob: string): Promise<Outcome> {
    let newJob: string;
    try {
      newJob = await this.submit(jarId, location, p);
    } catch (err) {
      const why = describeError(err);
      if (err instanceof SubmissionUnconfirmed) return this.unconfirmed(err, location, p);
      if (this.options.restoreOnSubmitFailure === false || from === undefined) {
        return { outcome: 'failed', detail: `job ${oldJob} stopped with savepoint ${location}; resubmission at ${p} failed (${why}); the job is NOT running` };
      }
      return this.restore(jarId, location, p, from, why);
    }
    this.currentJob = newJob;
    this.logger.info('job resubmitted from savepoint', { job: newJob, parallelism: p });
    const waited = await this.awaitRunningAt(newJob, p);
    if (!waited.ok) {
      const why = waited.fatal ? 'ended' : `not running at ${p} within ${this.secondsText(this.options.runningTimeoutMs ?? 300_000)}`;
      return { outcome: 'failed', detail: `resubmitted from savepoint ${location} as job ${newJob}, but it ${why} (${waited.state})` };
    }
    return {
      outcome: 'completed',
      parallelism: jobParallelism(waited.value) ?? p,
      detail: `stop-with-savepoint ${location}; job ${oldJob} → ${newJob} running at ${p}`,
    };
  }

  private async restore(jarId: string, location: string, p: number, from: number, why: string): Promise<Outcome> {
    try {
      const restored = await this.submit(jarId, location, from);
      this.currentJob = restored;
      const waited = await this.awaitRunningAt(restored, from);
      const state = waited.ok ? `running at ${from}` : `not yet running at ${from} (${waited.state})`;
      return {
        outcome: 'failed',
        ...(waited.ok ? { parallelism: from } : {}),
        detail: `resubmission at ${p} failed (${why}); restored from savepoint ${location} as job ${restored}, ${state}`,
      };
    } catch (err) {
      if (err instanceof SubmissionUnconfirmed) {
        const u = this.unconfirmed(err, location, from);
        return { ...u, detail: `resubmission at ${p} failed (${why}); ${u.detail}` };
      }
      return {
        outcome: 'failed',
        detail: `resubmission at ${p} failed (${why}); restoring at ${from} failed too (${describeError(err)}); the job is NOT running; savepoint ${location}`,
      };
    }
  }

  private awaitRunningAt(jobId: string, p: number) {
    return pollUntil<JobDetailsInfo>(
      { timeoutMs: this.options.runningTimeoutMs ?? 300_000, intervalMs: this.pollIntervalMs },
      async (): Promise<Probe<JobDetailsInfo>> => {
        const job = await this.client.getJob(jobId);
        if (job.state === 'RUNNING' && verticesRunning(job) && jobParallelism(job) === p) return { done: true, value: job };
        const state = `job ${job.state}, vertex parallelism [${vertexSummary(job)}]`;
        return TERMINAL.has(job.state) ? { done: false, fatal: true, state } : { done: false, state };
      },
      describeError,
    );
  }

  /**
   * POST /jars/{jarid}/run with a job id phoebe chose: when the answer is lost, GET /jobs/{id} tells
   * whether the job was submitted; if not, the same request is sent once more (a duplicate job id
   * would be refused, so the job can never run twice). Resolves to the new job id.
   */
  private async submit(jarId: string, savepointPath: string, parallelism: number): Promise<string> {
    const body = this.runBody(savepointPath, parallelism, newHex32());
    const jobId = body.jobId!;
    let unanswered: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        return (await this.client.runJar(jarId, body)).jobid;
      } catch (err) {
        if (err instanceof HttpStatusError) {
          // Refused. On the second attempt a duplicate-job refusal means the first one got through.
          if (attempt > 1 && (await this.jobExists(jobId)) === true) return jobId;
          throw err;
        }
        unanswered = err;
        this.logger.warn('job submission unanswered; checking for the job', { job: jobId, error: describeError(err) });
        const exists = await this.jobExists(jobId);
        if (exists === true) return jobId;
        if (exists === undefined) break;
      }
    }
    throw new SubmissionUnconfirmed(jobId, unanswered);
  }

  /** true / false when Flink says so, undefined when it cannot be asked. */
  private async jobExists(jobId: string): Promise<boolean | undefined> {
    try {
      await this.client.getJob(jobId);
      return true;
    } catch (err) {
      return err instanceof HttpStatusError && err.status === 404 ? false : undefined;
    }
  }

  private runBody(savepointPath: string, parallelism: number, jobId: string): JarRunRequestBody {
    return {
      jobId,
      savepointPath,
      parallelism,
      allowNonRestoredState: this.options.allowNonRestoredState ?? false,
      ...(this.options.entryClass ? { entryClass: this.options.entryClass } : {}),
      ...(this.options.programArgs ? { programArgsList: [...this.options.programArgs] } : {}),
    };
  }

  private async resolveJar(): Promise<string> {
    const jars = await this.client.listJars();
    const { jarId, jarName } = this.options;
    if (jarId) {
      if (jars.files.some((f) => f.id === jarId)) return jarId;
      throw new Error(`jar ${jarId} is not among the uploaded jars (GET /jars)`);
    }
    const named = jars.files.filter((f) => f.name === jarName).sort((a, b) => (b.uploaded ?? 0) - (a.uploaded ?? 0));
    const newest = named[0];
    if (!newest) throw new Error(`no uploaded jar named "${jarName}" (GET /jars)`);
    return newest.id;
  }

  /** Checks a stop-with-savepoint left over from a timed-out rescale; an outcome when this rescale ends here. */
  private async resumePending(p: number, seen: { from?: number }): Promise<Outcome | undefined> {
    const pending = this.pending!;
    let status: AsynchronousOperationResult;
    try {
      status = await this.client.getSavepointStatus(pending.jobId, pending.triggerId);
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) {
        this.pending = undefined; // the JobManager forgot the trigger (restart); look at the job afresh
        return undefined;
      }
      return { outcome: 'failed', detail: `earlier stop-with-savepoint on job ${pending.jobId}: status unknown (${describeError(err)}); not starting another` };
    }
    const state = interpretSavepoint(status);
    if (state.kind === 'in-progress') {
      return { outcome: 'failed', detail: `earlier stop-with-savepoint on job ${pending.jobId} still in progress; not starting another` };
    }
    this.pending = undefined;
    if (state.kind === 'failed') return undefined; // the job kept running
    seen.from = pending.from;
    this.logger.info('earlier stop-with-savepoint completed; resubmitting from it', { job: pending.jobId, to: p });
    const jarId = await this.resolveJar().catch((err: unknown) => {
      throw new Error(`job ${pending.jobId} stopped with savepoint ${state.location}, but ${describeError(err)}`);
    });
    return this.resubmit(jarId, state.location, p, pending.from, pending.jobId);
  }

  /** A submission whose answer was lost and whose job Flink could not confirm: track it, submit nothing more. */
  private unconfirmed(err: SubmissionUnconfirmed, location: string, p: number): Outcome {
    this.currentJob = err.jobId;
    return {
      outcome: 'failed',
      detail: `submission at ${p} from savepoint ${location} unanswered (${describeError(err.cause)}) and not confirmed; tracking job id ${err.jobId}; nothing resubmitted, so the job cannot run twice`,
    };
  }

  private async jobStateText(jobId: string): Promise<string> {
    try {
      const job = await this.client.getJob(jobId);
      return `is ${job.state}`;
    } catch (err) {
      return `state unknown (${describeError(err)})`;
    }
  }

  private secondsText(ms: number): string {
    return `${Math.round(ms / 100) / 10} s`;
  }
}
