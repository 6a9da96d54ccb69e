/**
 * `flink-rest`: rescales a job through the JobManager REST API.
 *
 * Default scheduler — stop-with-savepoint and resubmit, as a persisted state machine (the rescale
 * journal, journal.ts; every step is stored before the request that follows it):
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
 *
 * The pieces: settings.ts (options and their defaults), jobs.ts (job lookup and resolution),
 * in-place.ts, stop.ts (steps 2-3), phases.ts (steps 4-8 and the resumption: one handler per
 * journal phase), submission.ts (step 7's request), progress.ts (journal writes and the step hook),
 * savepoint-rescale.ts (the drive from phase to phase), client.ts, journal.ts. This file is the
 * Actuator around them: one rescale at a time, resumption, and the periodic recovery.
 */
import type { Actuator, RescaleRequest, RescaleResult } from '../actuator.js';
import { RescaleGuard, type GuardedRescale, type RescaleSeen } from '../guarded-rescale.js';
import type { ActLogger } from '../logger.js';
import { FlinkRestClient, isHex32 } from './client.js';
import type { Outcome, SavepointRescaleContext } from './drive-state.js';
import { InPlaceRescale } from './in-place.js';
import { JobTracker } from './jobs.js';
import { FileJournalStore, MemoryJournalStore, RescaleJournal, type RescaleRecord } from './journal.js';
import { RescaleProgress } from './progress.js';
import { drive, rescaleWithSavepoint } from './savepoint-rescale.js';
import { withDefaults, type FlinkRestActuatorOptions, type FlinkRestSettings } from './settings.js';

export type { FlinkRestActuatorOptions } from './settings.js';
export { interpretSavepoint } from './jobs.js';
export { jobParallelism } from './vertices.js';

/** A stop-with-savepoint whose outcome was not known when the rescale gave up waiting. */
export interface PendingStop {
  jobId: string;
  triggerId: string;
  /** Parallelism the stopped job ran at. */
  from: number | undefined;
  sinceMs: number;
}

export class FlinkRestActuator implements Actuator {
  readonly mode = 'flink-rest' as const;
  private readonly settings: FlinkRestSettings;
  private readonly logger: ActLogger;
  private readonly journal: RescaleJournal;
  private readonly jobs: JobTracker;
  private readonly inPlace: InPlaceRescale;
  private readonly savepoint: SavepointRescaleContext;
  private readonly guard: RescaleGuard;
  /** rescale() and recover() calls under way. */
  private inFlight = 0;

  constructor(options: FlinkRestActuatorOptions) {
    if (!options.jobId && !options.jobName) throw new Error('flink-rest actuator: set jobId or jobName');
    if (options.jobId !== undefined && !isHex32(options.jobId)) throw new Error('flink-rest actuator: jobId must be 32 hex characters');
    if (options.inPlace !== 'always' && !options.jarId && !options.jarName) {
      throw new Error('flink-rest actuator: set jarId or jarName (needed to resubmit from a savepoint)');
    }
    const settings = withDefaults(options);
    this.settings = settings;
    this.logger = settings.logger;
    this.guard = new RescaleGuard(settings.clock);
    const client = new FlinkRestClient({
      baseUrl: settings.restUrl,
      requestTimeoutMs: settings.requestTimeoutMs,
      ...(settings.restHeaders ? { headers: settings.restHeaders } : {}),
    });
    this.jobs = new JobTracker(client, settings);
    this.inPlace = new InPlaceRescale(client, settings, this.jobs);

    const key = options.jobName ?? options.jobId!;
    let store: FileJournalStore | MemoryJournalStore;
    if (options.stateDirectory) {
      const file = new FileJournalStore(options.stateDirectory, key);
      file.prepare(); // throws JournalError when the directory cannot be written
      store = file;
    } else {
      store = new MemoryJournalStore();
    }
    this.journal = new RescaleJournal(store, key, { clock: settings.clock });
    this.savepoint = { client, settings, jobs: this.jobs, progress: new RescaleProgress(this.journal, this.logger, options.onStep) };
    // After a restart, the journal knows the job's current id better than the configuration.
    const unfinished = this.journal.unfinished;
    const known = unfinished ? unfinished.submission?.jobId ?? unfinished.oldJobId : this.journal.latest?.resultJobId ?? undefined;
    if (known && isHex32(known)) this.jobs.current = known;
    if (this.journal.error) this.logger.warn(`rescale journal unusable: ${this.journal.error.message}`, {});
  }

  /** The job id phoebe currently acts on (changes after every resubmission). */
  get jobId(): string | undefined {
    return this.jobs.current;
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
      return this.jobs.parallelism(await this.jobs.runningJob());
    } catch {
      return undefined;
    }
  }

  rescale(request: RescaleRequest): Promise<RescaleResult> {
    return this.counted(() => this.guard.perform({
      mode: this.mode, request, logger: this.logger,
      logFields: () => ({ job: this.jobs.current }),
      run: (seen: RescaleSeen) => this.run(request, seen),
      ...this.events(),
    }));
  }

  /**
   * Resumes an interrupted rescale (after a restart, or one that gave up waiting) until it ends or
   * cannot go on now; undefined when there is none. Bounded by the actuator's timeouts.
   */
  async recover(): Promise<RescaleResult | undefined> {
    if (this.journal.error) this.journal.reload();
    const open = this.journal.unfinished;
    if (!open) return undefined;
    const request: RescaleRequest = { parallelism: open.to, reason: `resume interrupted rescale ${open.id} (${open.phase})` };
    return this.counted(() => this.guard.perform({
      mode: this.mode, request, logger: this.logger,
      logFields: () => ({ job: this.jobs.current, rescale: open.id }),
      run: async (seen: RescaleSeen) => {
        const rec = this.journal.unfinished;
        if (!rec) return { outcome: 'skipped', detail: 'no interrupted rescale' };
        return (await drive(this.savepoint, rec, { seen, resumed: true })).outcome;
      },
      ...this.events(),
    }));
  }

  /**
   * Calls recover() now and then every `intervalMs` while a rescale is unfinished, so an
   * interrupted rescale is finished even when no decision asks for one. `mayAct` (e.g. "this
   * instance holds the leader lease") is asked before every attempt. Returns a stop function.
   */
  keepRecovering(intervalMs: number, mayAct: () => boolean = () => true): () => void {
    const stop = new AbortController();
    const { clock } = this.settings;
    const loop = async (): Promise<void> => {
      await clock.sleep(0, stop.signal);
      while (!stop.signal.aborted) {
        if (this.journal.unfinished && this.inFlight === 0 && mayAct()) await this.recover();
        if (stop.signal.aborted) return;
        await clock.sleep(Math.max(10, intervalMs), stop.signal);
      }
    };
    loop().catch((err: unknown) => this.logger.warn('resuming the interrupted rescale failed', { error: String(err) }));
    return () => stop.abort();
  }

  /** Events on the configured object, if any. */
  private events(): Pick<GuardedRescale<RescaleSeen>, 'events'> {
    const events = this.settings.events;
    return events ? { events: { sink: events.sink, target: () => events.target } } : {};
  }

  private async counted<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
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
      const resumed = await drive(this.savepoint, open, { seen, requested: p, resumed: true });
      if (!resumed.proceed) return resumed.outcome;
      this.logger.info('earlier rescale ended without touching the job; starting this one', { rescale: open.id, detail: resumed.outcome.detail });
    }

    const job = await this.jobs.runningJob();
    const from = this.jobs.parallelism(job);
    seen.from = from;
    if (from === p) return { outcome: 'skipped', parallelism: p, detail: `job ${job.jid} already runs at ${p}` };

    if (await this.inPlace.applies(job)) return this.inPlace.rescale(job, p);
    return rescaleWithSavepoint(this.savepoint, job, p, from, request.reason, seen);
  }
}
