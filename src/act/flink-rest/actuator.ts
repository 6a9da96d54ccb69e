/**
 * `flink-rest`: rescales a job through the JobManager REST API.
 *
 * Default scheduler — stop-with-savepoint and resubmit, as a persisted state machine (the rescale
 * journal, rescale-journal.ts; every step is stored before the request that follows it):
 *   1. GET /jobs/{id} (must be RUNNING; its parallelism is the largest vertex parallelism);
 *   2. find the jar (GET /jars: by id or by file name) before touching the job;
 *   3. journal `requested` (from, to, the trigger id phoebe chose), then POST /jobs/{id}/stop
 *      {targetDirectory, drain: false, triggerId}; journal `savepoint-triggered`;
 *   4. poll GET /jobs/{id}/savepoints/{triggerid} until COMPLETED with a location (bounded); journal
 *      `savepoint-completed`. A failed savepoint leaves the job running: journal `aborted`, outcome 'failed';
 *   5. GET /jobs/{id} until the old job has terminated; journal `job-stopped`;
 *   6. GET /jobs/overview: a job of that name that someone else started meanwhile is adopted, never doubled;
 *   7. journal `resubmitting` (the new job id phoebe chose, p), then POST /jars/{jarid}/run {jobId,
 *      savepointPath, parallelism, entryClass, programArgsList}; journal `resubmitted`;
 *   8. poll GET /jobs/{newid} until RUNNING with every vertex running at p (bounded); journal `done`.
 *   If the run is refused or the new job fails, the job is resubmitted at the old parallelism from the
 *   same savepoint (journal `job-stopped` with the failure, `resubmitting` rollback, …, `rolled-back`).
 * Adaptive scheduler (GET /jobmanager/config → jobmanager.scheduler = adaptive) — in place:
 *   PUT /jobs/{id}/resource-requirements with upper bound p on every vertex (from GET first), then
 *   poll GET /jobs/{id} until the vertices run at p. The job is never stopped, so nothing is journalled.
 *
 * Interrupted rescales: before any new rescale, and through recover() (at start and periodically,
 * see keepRecovering()), an unfinished journal entry is resumed from its phase: a trigger that may
 * have been sent is looked up by its id (unknown and the job still RUNNING → `aborted`, nothing
 * happened); a completed savepoint without a recorded submission is resubmitted unless a job of
 * that name already runs; a submission that may have been sent is looked up by its job id and sent
 * again with the same id only when Flink does not know it (a duplicate id would be refused anyway);
 * a submitted job is waited for, and rolled back to the old parallelism from the same savepoint if
 * it fails. While a rescale is unfinished no other starts.
 *
 * Lost answers: phoebe chooses the stop's triggerId and the new job's jobId itself, so when a POST
 * times out it asks Flink whether the request arrived (GET the trigger / the job) and sends it at
 * most once more with the same id (Flink de-duplicates triggers and refuses a duplicate job id).
 *
 * The job is never cancelled: the client has no cancel call. If the stop-with-savepoint is still
 * running at the timeout, the journal keeps it; a later attempt checks it first and, if it completed
 * meanwhile (the job is then stopped), resubmits from that savepoint.
 * The job id changes with every resubmission; `jobId` tracks it (and survives a restart through the journal).
 */
import { randomBytes } from 'node:crypto';
import type { Actuator, RescaleRequest, RescaleResult } from '../actuator.js';
import { describeError, HttpStatusError, redact } from '../errors.js';
import {
  FlinkRestClient,
  isHex32,
  type AsynchronousOperationResult,
  type JarRunRequestBody,
  type JobDetailsInfo,
  type JobResourceRequirementsBody,
  type JobStatus,
  type SavepointFormatType,
  type StopWithSavepointRequestBody,
} from './client.js';
import { RescaleGuard, type RescaleSeen } from '../guarded-rescale.js';
import type { EventTarget, RescaleEventSink } from '../kubernetes/events.js';
import { stderrLogger, type ActLogger } from '../logger.js';
import {
  FileJournalStore,
  JournalError,
  MemoryJournalStore,
  RescaleJournal,
  type RescalePhase,
  type RescaleRecord,
} from './journal.js';
import { pollUntil, type Probe } from '../timing.js';

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
   * When the resubmission at the new parallelism is rejected or its job fails, resubmit at the old
   * parallelism from the same savepoint so the job does not stay down. Default true.
   */
  restoreOnSubmitFailure?: boolean;
  /**
   * Directory of the rescale journal (created when missing; in Kubernetes a mounted volume). Without
   * it the journal lives in memory: an interrupted rescale is resumed by this process only.
   */
  stateDirectory?: string;
  /** Job submissions one rescale may make in all, forward and rollback (default 4); then it waits for an operator. */
  maxSubmissions?: number;
  /**
   * Called after every journal write (step = the phase), after the stop went out (answered or not:
   * 'stop-sent') and after the run was confirmed ('run-sent'), before the next journal write. For
   * fault-injection tests; a rejection is ignored.
   */
  onStep?: (step: string, record: RescaleRecord) => void | Promise<void>;
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

/** Where a stop-with-savepoint ended up: its savepoint's outcome, unknown to Flink, or still running at the timeout. */
type StopState =
  | { kind: 'completed'; location: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'unknown' }
  | { kind: 'timeout'; state: string };

/** What driving an unfinished rescale led to; `proceed`: the old job runs untouched, a new rescale may start. */
interface Driven {
  outcome: Outcome;
  proceed: boolean;
}

/** A job submission that got no answer and whose job could not be found afterwards. */
class SubmissionUnconfirmed extends Error {
  constructor(readonly jobId: string, override readonly cause: unknown) {
    super(`submission of job ${jobId} unconfirmed`);
    this.name = 'SubmissionUnconfirmed';
  }
}

/** How the live (not resumed) path sent the stop: the body, to send it once more when it got lost. */
interface LiveStop {
  body: StopWithSavepointRequestBody;
  confirmed: boolean;
}

export class FlinkRestActuator implements Actuator {
  readonly mode = 'flink-rest' as const;
  private readonly client: FlinkRestClient;
  private readonly options: FlinkRestActuatorOptions;
  private readonly logger: ActLogger;
  private readonly pollIntervalMs: number;
  private readonly journal: RescaleJournal;
  private currentJob: string | undefined;
  private adaptive: boolean | undefined;
  private readonly guard = new RescaleGuard();
  /** rescale() and recover() calls under way. */
  private inFlight = 0;

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

    const key = options.jobName ?? options.jobId!;
    let store: FileJournalStore | MemoryJournalStore;
    if (options.stateDirectory) {
      const file = new FileJournalStore(options.stateDirectory, key);
      file.prepare(); // throws JournalError when the directory cannot be written
      store = file;
    } else {
      store = new MemoryJournalStore();
    }
    this.journal = new RescaleJournal(store, key);
    // After a restart, the journal knows the job's current id better than the configuration.
    const unfinished = this.journal.unfinished;
    const known = unfinished ? unfinished.submission?.jobId ?? unfinished.oldJobId : this.journal.latest?.resultJobId ?? undefined;
    if (known && isHex32(known)) this.currentJob = known;
    if (this.journal.error) this.logger.warn(`rescale journal unusable: ${this.journal.error.message}`, {});
  }

  /** The job id phoebe currently acts on (changes after every resubmission). */
  get jobId(): string | undefined {
    return this.currentJob;
  }

  /** A stop-with-savepoint whose outcome is not known yet (the journal is at `requested` or `savepoint-triggered`). */
  get pendingStop(): PendingStop | undefined {
    const rec = this.journal.unfinished;
    if (!rec || (rec.phase !== 'requested' && rec.phase !== 'savepoint-triggered')) return undefined;
    return { jobId: rec.oldJobId, triggerId: rec.triggerId, from: rec.from ?? undefined, sinceMs: Date.parse(rec.startedAt) };
  }

  /** The rescale journal's latest entry (a copy), finished or not. */
  get lastRescale(): RescaleRecord | undefined {
    return this.journal.latest;
  }

  /** Whether a rescale is unfinished (no other starts until it is resumed to an end). */
  get hasUnfinishedRescale(): boolean {
    return this.journal.unfinished !== undefined;
  }

  /** Where the journal is kept (a file path, or memory). */
  get journalLocation(): string {
    return this.journal.location;
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
    return this.counted(() => this.guardedRescale(request));
  }

  private guardedRescale(request: RescaleRequest): Promise<RescaleResult> {
    const events = this.options.events;
    return this.guard.perform({
      mode: this.mode, request, logger: this.logger,
      logFields: () => ({ job: this.currentJob }),
      run: (seen: RescaleSeen) => this.run(request, seen),
      ...(events ? { events: { sink: events.sink, target: () => events.target } } : {}),
    });
  }

  /**
   * Resumes an interrupted rescale (after a restart, or one that gave up waiting) until it ends or
   * cannot go on now; undefined when there is none. Bounded by the actuator's timeouts.
   */
  async recover(): Promise<RescaleResult | undefined> {
    if (this.journal.error) this.journal.reload();
    const open = this.journal.unfinished;
    if (!open) return undefined;
    const events = this.options.events;
    const request: RescaleRequest = { parallelism: open.to, reason: `resume interrupted rescale ${open.id} (${open.phase})` };
    return this.counted(() => this.guard.perform({
      mode: this.mode, request, logger: this.logger,
      logFields: () => ({ job: this.currentJob, rescale: open.id }),
      run: async (seen: RescaleSeen) => {
        const rec = this.journal.unfinished;
        if (!rec) return { outcome: 'skipped', detail: 'no interrupted rescale' };
        return (await this.drive(rec, seen, undefined, undefined, true)).outcome;
      },
      ...(events ? { events: { sink: events.sink, target: () => events.target } } : {}),
    }));
  }

  private async counted<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Calls recover() now and then every `intervalMs` while a rescale is unfinished, so an
   * interrupted rescale is finished even when no decision asks for one. `mayAct` (e.g. "this
   * instance holds the leader lease") is asked before every attempt. Returns a stop function.
   */
  keepRecovering(intervalMs: number, mayAct: () => boolean = () => true): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async (): Promise<void> => {
      if (stopped) return;
      if (this.journal.unfinished && this.inFlight === 0 && mayAct()) await this.recover();
      if (stopped) return;
      timer = setTimeout(() => void tick(), Math.max(10, intervalMs));
      timer.unref();
    };
    timer = setTimeout(() => void tick(), 0);
    timer.unref();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }

  private async run(request: RescaleRequest, seen: { from?: number }): Promise<Outcome> {
    const p = request.parallelism;
    if (!Number.isInteger(p) || p < 1) return { outcome: 'failed', detail: `invalid parallelism ${p}` };

    if (this.journal.error) this.journal.reload();
    if (this.journal.error) {
      return { outcome: 'failed', detail: `rescale journal unusable (${this.journal.error.message}); fix or remove it, nothing was done` };
    }
    const open = this.journal.unfinished;
    if (open) {
      const resumed = await this.drive(open, seen, p, undefined, true);
      if (!resumed.proceed) return resumed.outcome;
      this.logger.info('earlier rescale ended without touching the job; starting this one', { rescale: open.id, detail: resumed.outcome.detail });
    }

    const job = await this.runningJob();
    const from = jobParallelism(job);
    seen.from = from;
    if (from === p) return { outcome: 'skipped', parallelism: p, detail: `job ${job.jid} already runs at ${p}` };

    if (await this.useInPlace()) return this.rescaleInPlace(job, p);
    return this.rescaleWithSavepoint(job, p, from, request.reason, seen);
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
        const notFound = err instanceof HttpStatusError && err.status === 404;
        if (notFound && this.options.jobId && this.currentJob !== this.options.jobId) {
          // The journal's job id (an earlier cluster?) is unknown: fall back to the configured one.
          this.logger.warn('tracked job not found; trying the configured job id', { tracked: this.currentJob, configured: this.options.jobId });
          this.currentJob = this.options.jobId;
          return this.runningJob();
        }
        if (!notFound || !this.options.jobName) throw err;
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

  // ---- stop-with-savepoint and resubmit, journalled ---------------------------------------------------

  private async rescaleWithSavepoint(job: JobDetailsInfo, p: number, from: number | undefined, reason: string, seen: { from?: number }): Promise<Outcome> {
    // Find the jar first: a job must not be stopped when it cannot be started again.
    const jarId = await this.resolveJar().catch((err: unknown) => {
      throw new Error(`${describeError(err)}; job ${job.jid} left running`);
    });
    // phoebe picks the trigger id, so a stop whose answer is lost can still be found (Flink de-duplicates it).
    const triggerId = newHex32();
    let rec: RescaleRecord;
    try {
      rec = this.journal.begin({
        id: newHex32().slice(0, 12), from: from ?? null, to: p, reason: redact(reason, 200),
        oldJobId: job.jid, jobName: job.name ?? this.options.jobName ?? null, jarId, triggerId,
      });
    } catch (err) {
      // Nothing was sent: without a record of the stop, phoebe does not stop the job.
      return { outcome: 'failed', detail: `cannot record the rescale (${describeError(err)}); job ${job.jid} left running` };
    }
    await this.step('requested', rec);
    const body: StopWithSavepointRequestBody = {
      drain: false,
      triggerId,
      ...(this.options.savepointDirectory ? { targetDirectory: this.options.savepointDirectory } : {}),
      ...(this.options.savepointFormatType ? { formatType: this.options.savepointFormatType } : {}),
    };
    const live: LiveStop = { body, confirmed: true };
    try {
      await this.client.stopWithSavepoint(job.jid, body);
    } catch (err) {
      if (err instanceof HttpStatusError) return this.stopRefused(rec, err, seen);
      live.confirmed = false; // no answer: the stop may or may not have arrived; its trigger tells
      this.logger.warn('stop-with-savepoint unanswered; checking its trigger', { job: job.jid, trigger: triggerId, error: describeError(err) });
    }
    await this.step('stop-sent', rec);
    if (live.confirmed) rec = await this.record('savepoint-triggered', {}, 'stop accepted');
    this.logger.info('stop-with-savepoint triggered', { job: job.jid, trigger: triggerId, to: p });
    return (await this.drive(rec, seen, p, live, false)).outcome;
  }

  /** Flink refused the stop: make sure it registered nothing and the job still runs, then close the rescale. */
  private async stopRefused(rec: RescaleRecord, err: HttpStatusError, seen: { from?: number }): Promise<Outcome> {
    const why = describeError(err);
    let probe: AsynchronousOperationResult | 'unknown';
    try {
      probe = await this.client.getSavepointStatus(rec.oldJobId, rec.triggerId);
    } catch (e) {
      if (e instanceof HttpStatusError && e.status === 404) probe = 'unknown';
      else {
        return { outcome: 'failed', ...this.fromField(rec), detail: `${why}; whether the stop was registered is not known yet (${describeError(e)}); the next attempt checks trigger ${rec.triggerId} first` };
      }
    }
    if (probe !== 'unknown') {
      // Refused, yet registered: follow it like any other stop.
      const next = await this.record('savepoint-triggered', {}, `stop answered ${err.status} but trigger found`);
      return (await this.drive(next, seen, rec.to, undefined, false)).outcome;
    }
    const still = await this.jobStateText(rec.oldJobId);
    await this.record('aborted', { resultJobId: rec.oldJobId, resultParallelism: rec.from, detail: `stop refused (${why})` }, 'stop refused; trigger unknown');
    return { outcome: 'failed', ...this.fromField(rec), detail: `${why}; job ${rec.oldJobId} ${still}, not stopped` };
  }

  /**
   * Drives a journalled rescale from its phase to an end, or until it cannot go on now (a wait timed
   * out, Flink cannot be reached). `requested`: the newest parallelism a decision asks for, used
   * while nothing has been resubmitted yet. `live`: the stop was just sent by this call.
   */
  private async drive(start: RescaleRecord, seen: { from?: number }, requested: number | undefined, live: LiveStop | undefined, resumed: boolean): Promise<Driven> {
    let rec = start;
    seen.from = rec.from ?? undefined;
    const prefix = resumed ? `resumed rescale ${rec.id} (${rec.from ?? '?'} → ${rec.to}, was ${rec.phase}): ` : '';
    const end = (outcome: Outcome, proceed = false): Driven => ({ outcome: { ...outcome, detail: `${prefix}${outcome.detail}` }, proceed });
    const maxSubmissions = this.options.maxSubmissions ?? 4;
    const restore = this.options.restoreOnSubmitFailure !== false;
    let submittedHere = false;
    let submissionsHere = 0;

    for (let transitions = 0; transitions < 16; transitions++) {
      switch (rec.phase) {
        case 'requested':
        case 'savepoint-triggered': {
          const stop = await this.awaitStop(rec, live);
          if (stop.kind === 'timeout') {
            const still = await this.jobStateText(rec.oldJobId);
            if (resumed) return end({ outcome: 'failed', ...this.fromField(rec), detail: `earlier stop-with-savepoint on job ${rec.oldJobId} still in progress; not starting another (last: ${stop.state}; job ${still})` });
            return end({
              outcome: 'failed', ...this.fromField(rec),
              detail: `savepoint not completed within ${this.secondsText(this.savepointTimeoutMs)} (last: ${stop.state}); job ${rec.oldJobId} ${still}; the next rescale resubmits if the stop completes later`,
            });
          }
          if (stop.kind === 'unknown') {
            const state = await this.jobState(rec.oldJobId);
            if (state === 'RUNNING') {
              rec = await this.record('aborted', { resultJobId: rec.oldJobId, resultParallelism: rec.from, detail: 'the stop never reached Flink' }, 'trigger unknown, job RUNNING');
              this.currentJob = rec.oldJobId;
              return end({ outcome: 'failed', ...this.fromField(rec), detail: `the stop-with-savepoint never reached Flink (trigger ${rec.triggerId} unknown); job ${rec.oldJobId} is RUNNING, untouched` }, true);
            }
            // The JobManager knows neither (restarted without HA, or another cluster): a job of that name that runs is the truth.
            const active = await this.activeJobsNamed(rec);
            if (active.ok && active.value.length > 0) return this.adopt(rec, active.value, end);
            return end({
              outcome: 'failed',
              detail: `trigger ${rec.triggerId} is unknown to the JobManager (restarted, or its result expired) and job ${rec.oldJobId} is ${state}: the savepoint location cannot be told; resubmit the job from its latest savepoint and remove ${this.journal.location}`,
            });
          }
          if (stop.kind === 'failed') {
            const still = await this.jobStateText(rec.oldJobId);
            rec = await this.record('aborted', { resultJobId: rec.oldJobId, resultParallelism: rec.from, detail: `savepoint failed (${stop.reason})` }, 'savepoint failed; job kept running');
            this.currentJob = rec.oldJobId;
            return end({ outcome: 'failed', ...this.fromField(rec), detail: `savepoint failed (${stop.reason}); job ${rec.oldJobId} ${still}, not resubmitted` }, true);
          }
          if (rec.phase === 'requested') rec = await this.record('savepoint-triggered', {}, 'trigger found by its id');
          rec = await this.record('savepoint-completed', { savepoint: stop.location }, stop.location);
          continue;
        }
        case 'savepoint-completed': {
          const stopped = await this.awaitTerminated(rec.oldJobId);
          if (!stopped.ok) {
            return end({ outcome: 'failed', detail: `savepoint ${rec.savepoint} completed but job ${rec.oldJobId} has not terminated (${stopped.state}); not resubmitting while it may run` });
          }
          rec = await this.record('job-stopped', {}, `job ${rec.oldJobId} ${stopped.value}`);
          continue;
        }
        case 'job-stopped': {
          const active = await this.activeJobsNamed(rec);
          if (!active.ok) return end({ outcome: 'failed', detail: `job ${rec.oldJobId} stopped with savepoint ${rec.savepoint}; cannot check for a running job (${active.state}); not resubmitting yet` });
          if (active.value.length > 0) return this.adopt(rec, active.value, end);
          const rollback = rec.forwardFailure !== null;
          if (rollback && (!restore || rec.from === null)) {
            rec = await this.record('failed', { detail: rec.forwardFailure }, 'no rollback');
            return end({ outcome: 'failed', detail: `job ${rec.oldJobId} stopped with savepoint ${rec.savepoint}; ${rec.forwardFailure}; the job is NOT running` });
          }
          if (rec.submissions >= maxSubmissions || submissionsHere >= 2) {
            const why = rec.submissions >= maxSubmissions ? `${rec.submissions} submissions made, the limit` : 'retried on the next attempt';
            return end({ outcome: 'failed', detail: `${rec.forwardFailure ?? 'not resubmitted'}; the job is NOT running; savepoint ${rec.savepoint} (${why})` });
          }
          let to = rec.to;
          let note = rollback ? `rollback to ${rec.from}` : `forward to ${to}`;
          if (!rollback && requested !== undefined && requested !== rec.to) {
            note = `forward to ${requested} (the newest decision; was ${rec.to})`;
            to = requested;
          }
          const parallelism = rollback ? (rec.from as number) : to;
          rec = await this.record('resubmitting', {
            to, submissions: rec.submissions + 1,
            submission: { jobId: newHex32(), parallelism, kind: rollback ? 'rollback' : 'forward' },
          }, note);
          submittedHere = true;
          submissionsHere++;
          continue;
        }
        case 'resubmitting': {
          const sub = rec.submission!;
          if (!submittedHere) {
            // Written by an earlier attempt: did its request arrive?
            const exists = await this.jobExists(sub.jobId);
            if (exists === undefined) return end({ outcome: 'failed', detail: `cannot tell whether job ${sub.jobId} was submitted (Flink unreachable); checked again on the next attempt` });
            if (exists) {
              this.currentJob = sub.jobId;
              rec = await this.record('resubmitted', { resultJobId: sub.jobId }, 'found by its job id');
              continue;
            }
            const active = await this.activeJobsNamed(rec);
            if (!active.ok) return end({ outcome: 'failed', detail: `cannot check for a running job (${active.state}); not resubmitting yet` });
            if (active.value.length > 0) return this.adopt(rec, active.value, end);
            submittedHere = true; // unknown to Flink: send it now, with the same id
          }
          try {
            await this.submit(rec.jarId, rec.savepoint!, sub.parallelism, sub.jobId);
          } catch (err) {
            if (err instanceof SubmissionUnconfirmed) {
              this.currentJob = sub.jobId;
              return end({
                outcome: 'failed',
                detail: `submission at ${sub.parallelism} from savepoint ${rec.savepoint} unanswered (${describeError(err.cause)}) and not confirmed; tracking job id ${sub.jobId}; it is sent again with the same id only once Flink says it does not know it, so the job cannot run twice`,
              });
            }
            const why = describeError(err);
            if (sub.kind === 'forward') {
              const failure = `resubmission at ${sub.parallelism} failed (${why})`;
              if (restore && rec.from !== null) {
                this.logger.warn('resubmission refused; restoring at the old parallelism', { from: rec.from, error: why });
                rec = await this.record('job-stopped', { forwardFailure: failure }, 'forward submission refused');
                continue;
              }
              rec = await this.record('failed', { forwardFailure: failure, detail: failure }, 'forward submission refused, no rollback');
              return end({ outcome: 'failed', detail: `job ${rec.oldJobId} stopped with savepoint ${rec.savepoint}; ${failure}; the job is NOT running` });
            }
            rec = await this.record('job-stopped', {}, `rollback submission refused (${why})`);
            return end({ outcome: 'failed', detail: `${rec.forwardFailure}; restoring at ${rec.from} failed too (${why}); the job is NOT running; savepoint ${rec.savepoint}` });
          }
          this.currentJob = sub.jobId;
          await this.step('run-sent', rec);
          rec = await this.record('resubmitted', { resultJobId: sub.jobId }, `job ${sub.jobId}`);
          this.logger.info('job resubmitted from savepoint', { job: sub.jobId, parallelism: sub.parallelism, kind: sub.kind });
          continue;
        }
        case 'resubmitted': {
          const sub = rec.submission!;
          if ((await this.jobExists(sub.jobId)) === false) {
            // Accepted once, unknown now: the JobManager lost it (restart without HA). Nothing of it runs.
            const active = await this.activeJobsNamed(rec);
            if (!active.ok) return end({ outcome: 'failed', detail: `job ${sub.jobId} is unknown to the JobManager and the job overview cannot be read (${active.state})` });
            if (active.value.length > 0) return this.adopt(rec, active.value, end);
            rec = await this.record('job-stopped', {}, `submitted job ${sub.jobId} unknown to the JobManager`);
            continue;
          }
          this.currentJob = sub.jobId;
          const waited = await this.awaitRunningAt(sub.jobId, sub.parallelism);
          if (waited.ok) {
            const reached = jobParallelism(waited.value) ?? sub.parallelism;
            if (sub.kind === 'forward') {
              const detail = `stop-with-savepoint ${rec.savepoint}; job ${rec.oldJobId} → ${sub.jobId} running at ${reached}`;
              rec = await this.record('done', { resultJobId: sub.jobId, resultParallelism: reached, detail }, `running at ${reached}`);
              return end({ outcome: 'completed', parallelism: reached, detail });
            }
            const detail = `${rec.forwardFailure}; restored from savepoint ${rec.savepoint} as job ${sub.jobId}, running at ${reached}`;
            rec = await this.record('rolled-back', { resultJobId: sub.jobId, resultParallelism: reached, detail }, `running at ${reached}`);
            return end({ outcome: 'failed', parallelism: reached, detail });
          }
          if (!waited.fatal) {
            return end({
              outcome: 'failed',
              detail: `resubmitted from savepoint ${rec.savepoint} as job ${sub.jobId}, but it is not running at ${sub.parallelism} within ${this.secondsText(this.runningTimeoutMs)} (${waited.state}); waiting for it on the next attempt`,
            });
          }
          const ended = `resubmitted from savepoint ${rec.savepoint} as job ${sub.jobId}, but it ended (${waited.state})`;
          if (sub.kind === 'forward') {
            if (restore && rec.from !== null) {
              this.logger.warn('the resubmitted job ended; restoring at the old parallelism', { job: sub.jobId, from: rec.from, state: waited.state });
              rec = await this.record('job-stopped', { forwardFailure: ended }, 'forward job ended');
              continue;
            }
            rec = await this.record('failed', { forwardFailure: ended, detail: ended }, 'forward job ended, no rollback');
            return end({ outcome: 'failed', detail: `${ended}; the job is NOT running; savepoint ${rec.savepoint}` });
          }
          rec = await this.record('job-stopped', {}, `rollback job ${sub.jobId} ended (${waited.state})`);
          if (submissionsHere >= 2 || rec.submissions >= maxSubmissions) {
            return end({ outcome: 'failed', detail: `${rec.forwardFailure}; the restore ${ended.replace(/^resubmitted/, 'resubmitted too')}; the job is NOT running; savepoint ${rec.savepoint}` });
          }
          continue;
        }
        default:
          return end(this.terminalOutcome(rec), rec.phase === 'aborted');
      }
    }
    return end({ outcome: 'failed', detail: `rescale ${rec.id} did not settle (phase ${rec.phase}); resumed on the next attempt` });
  }

  /** The outcome a finished journal entry stands for. */
  private terminalOutcome(rec: RescaleRecord): Outcome {
    const parallelism = rec.resultParallelism !== null ? { parallelism: rec.resultParallelism } : {};
    const detail = rec.detail ?? `rescale ${rec.id} ${rec.phase}`;
    return rec.phase === 'done' && rec.resultParallelism === rec.to
      ? { outcome: 'completed', ...parallelism, detail }
      : { outcome: 'failed', ...parallelism, detail };
  }

  /** A job of that name is active although phoebe submitted none (or not the one it recorded): track it, submit nothing. */
  private async adopt(rec: RescaleRecord, active: { jid: string; state: JobStatus }[], end: (o: Outcome, proceed?: boolean) => Driven): Promise<Driven> {
    const ours = rec.submission && active.find((j) => j.jid === rec.submission!.jobId);
    if (ours) {
      const next = await this.record('resubmitted', { resultJobId: ours.jid }, 'found in the job overview');
      return this.drive(next, {}, undefined, undefined, false);
    }
    if (active.length > 1) {
      return end({ outcome: 'failed', detail: `${active.length} jobs named "${rec.jobName}" are active (${active.map((j) => j.jid).join(', ')}); phoebe submits nothing and waits for an operator` });
    }
    const other = active[0]!;
    this.currentJob = other.jid;
    const waited = await pollUntil<JobDetailsInfo>(
      { timeoutMs: this.runningTimeoutMs, intervalMs: this.pollIntervalMs },
      async (): Promise<Probe<JobDetailsInfo>> => {
        const job = await this.client.getJob(other.jid);
        if (job.state === 'RUNNING' && verticesRunning(job)) return { done: true, value: job };
        const state = `job ${job.state}, vertex parallelism [${vertexSummary(job)}]`;
        return TERMINAL.has(job.state) ? { done: false, fatal: true, state } : { done: false, state };
      },
      describeError,
    );
    if (!waited.ok && !waited.fatal) return end({ outcome: 'failed', detail: `job ${other.jid} ("${rec.jobName}") was started by someone else and is not running yet (${waited.state}); phoebe submits nothing` });
    if (!waited.ok) {
      // It ended: back to job-stopped, phoebe resubmits on the next attempt.
      return end({ outcome: 'failed', detail: `job ${other.jid} ("${rec.jobName}"), started by someone else, ended (${waited.state}); resubmitting on the next attempt` });
    }
    const reached = jobParallelism(waited.value);
    const detail = `job ${other.jid} ("${rec.jobName}") was started by someone else after the stop and runs at ${reached ?? '?'}; phoebe adopted it and submitted nothing`;
    const next = await this.record('done', { resultJobId: other.jid, resultParallelism: reached ?? null, detail }, 'adopted');
    return end(this.terminalOutcome(next));
  }

  /** Polls the stop's trigger: completed, failed, unknown to Flink, or still running at the timeout. */
  private async awaitStop(rec: RescaleRecord, live: LiveStop | undefined): Promise<StopState> {
    let resent = false;
    const waited = await pollUntil<Exclude<StopState, { kind: 'timeout' }>>(
      { timeoutMs: this.savepointTimeoutMs, intervalMs: this.pollIntervalMs },
      async () => {
        let status: AsynchronousOperationResult;
        try {
          status = await this.client.getSavepointStatus(rec.oldJobId, rec.triggerId);
        } catch (err) {
          if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
          // Unknown trigger. A stop sent by this call without an answer is sent once more (same trigger id, so never twice).
          if (!live || live.confirmed || resent) return { done: true, value: { kind: 'unknown' } };
          resent = true;
          await this.client.stopWithSavepoint(rec.oldJobId, live.body).catch((e: unknown) => {
            if (e instanceof HttpStatusError) throw e;
          });
          return { done: false, state: 'stop request resent' };
        }
        if (live) live.confirmed = true;
        const state = interpretSavepoint(status);
        return state.kind === 'in-progress' ? { done: false, state: 'IN_PROGRESS' } : { done: true, value: state };
      },
      describeError,
    );
    return waited.ok ? waited.value : { kind: 'timeout', state: waited.state };
  }

  /** Polls the old job until it has terminated (or Flink no longer knows it). */
  private awaitTerminated(jobId: string) {
    return pollUntil<string>(
      { timeoutMs: this.runningTimeoutMs, intervalMs: this.pollIntervalMs },
      async (): Promise<Probe<string>> => {
        try {
          const job = await this.client.getJob(jobId);
          return TERMINAL.has(job.state) ? { done: true, value: `is ${job.state}` } : { done: false, state: `job ${job.state}` };
        } catch (err) {
          if (err instanceof HttpStatusError && err.status === 404) return { done: true, value: 'is no longer known' };
          throw err;
        }
      },
      describeError,
    );
  }

  /** Active (not terminal) jobs with the rescale's job name, other than the old one; [] without a name. */
  private activeJobsNamed(rec: RescaleRecord) {
    return pollUntil<{ jid: string; state: JobStatus }[]>(
      { timeoutMs: Math.min(this.runningTimeoutMs, 30_000), intervalMs: this.pollIntervalMs },
      async () => {
        if (!rec.jobName) return { done: true, value: [] };
        const overview = await this.client.getJobsOverview();
        const active = overview.jobs.filter((j) => j.name === rec.jobName && j.jid !== rec.oldJobId && !TERMINAL.has(j.state));
        return { done: true, value: active.map((j) => ({ jid: j.jid, state: j.state })) };
      },
      describeError,
    );
  }

  private awaitRunningAt(jobId: string, p: number) {
    return pollUntil<JobDetailsInfo>(
      { timeoutMs: this.runningTimeoutMs, intervalMs: this.pollIntervalMs },
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
   * POST /jars/{jarid}/run with the job id phoebe chose: when the answer is lost, GET /jobs/{id} tells
   * whether the job was submitted; if not, the same request is sent once more (a duplicate job id
   * would be refused, so the job can never run twice).
   */
  private async submit(jarId: string, savepointPath: string, parallelism: number, jobId: string): Promise<void> {
    const body = this.runBody(savepointPath, parallelism, jobId);
    let unanswered: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        const answer = await this.client.runJar(jarId, body);
        if (answer.jobid !== jobId) this.logger.warn('Flink answered another job id than the one phoebe chose', { chosen: jobId, answered: answer.jobid });
        return;
      } catch (err) {
        if (err instanceof HttpStatusError) {
          // Refused. On the second attempt a duplicate-job refusal means the first one got through.
          if (attempt > 1 && (await this.jobExists(jobId)) === true) return;
          throw err;
        }
        unanswered = err;
        this.logger.warn('job submission unanswered; checking for the job', { job: jobId, error: describeError(err) });
        const exists = await this.jobExists(jobId);
        if (exists === true) return;
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

  /** The job's state, 'not found', or why it cannot be told. */
  private async jobState(jobId: string): Promise<string> {
    try {
      return (await this.client.getJob(jobId)).state;
    } catch (err) {
      return err instanceof HttpStatusError && err.status === 404 ? 'not found' : `unknown (${describeError(err)})`;
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

  /**
   * Moves the journal on and tells the step hook. After the stop has been sent a failed write does
   * not stop the rescale (the job must not stay down): it goes on from memory, and a resumption
   * from the older entry finds the newer state in Flink (trigger, job overview, job id).
   */
  private async record(phase: RescalePhase, changes: Parameters<RescaleJournal['advance']>[1], note?: string): Promise<RescaleRecord> {
    let rec: RescaleRecord;
    try {
      rec = this.journal.advance(phase, changes, note);
    } catch (err) {
      if (!(err instanceof JournalError)) throw err;
      this.logger.warn('rescale journal write failed; going on from memory', { phase, error: err.message });
      rec = this.journal.latest!;
    }
    await this.step(phase, rec);
    return rec;
  }

  private async step(step: string, rec: RescaleRecord): Promise<void> {
    if (!this.options.onStep) return;
    try {
      await this.options.onStep(step, structuredClone(rec));
    } catch {
      // a hook never changes the protocol
    }
  }

  private fromField(rec: RescaleRecord): { parallelism?: number } {
    return rec.from !== null ? { parallelism: rec.from } : {};
  }

  private get savepointTimeoutMs(): number {
    return this.options.savepointTimeoutMs ?? 600_000;
  }

  private get runningTimeoutMs(): number {
    return this.options.runningTimeoutMs ?? 300_000;
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
