/**
 * The flink-rest rescale protocol as a persisted state machine: one JSON record per job, in a
 * directory that outlives the process (in Kubernetes a mounted volume), rewritten atomically
 * (temporary file, fsync, rename, fsync of the directory) at every step.
 *
 * Write-ahead: a step is recorded before the request that follows it is sent, and the ids
 * phoebe chooses (the stop's trigger id, the new job's id) are recorded before the request
 * that uses them. So the journal is never behind Flink by more than one request, and that
 * request can always be found again by its id. Phases, in order:
 *
 *   requested            from, to, the old job, the jar, the trigger id phoebe chose. Next: POST /jobs/{old}/stop.
 *   savepoint-triggered  the stop was accepted (202). Next: poll the trigger.
 *   savepoint-completed  the savepoint's location. Next: check that the old job has terminated.
 *   job-stopped          the old job is no longer running. Next: choose the new job id.
 *   resubmitting         the new job's id, parallelism and kind (forward, or rollback to `from`). Next: POST /jars/{jar}/run.
 *   resubmitted          the run was accepted. Next: wait until the job runs at that parallelism.
 *   done                 terminal: the job runs at `to` (or at what a newer decision asked for).
 *   rolled-back          terminal: the job runs again at `from`, restored from the same savepoint.
 *   aborted              terminal: the old job was never stopped (refused or failed savepoint, stop never sent).
 *   failed               terminal: phoebe gave up and says why (only when rollback is disabled).
 *
 * Every step is also appended to `steps` (time, phase, note), so the file tells the whole story.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync, accessSync, constants as fsConstants } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../util/clock.js';

export const JOURNAL_VERSION = 1;
const MAX_STEPS = 100;

export type RescalePhase =
  | 'requested'
  | 'savepoint-triggered'
  | 'savepoint-completed'
  | 'job-stopped'
  | 'resubmitting'
  | 'resubmitted'
  | 'done'
  | 'rolled-back'
  | 'aborted'
  | 'failed';

export const TERMINAL_PHASES: ReadonlySet<RescalePhase> = new Set<RescalePhase>(['done', 'rolled-back', 'aborted', 'failed']);

const PHASES: ReadonlySet<string> = new Set<RescalePhase>([
  'requested', 'savepoint-triggered', 'savepoint-completed', 'job-stopped', 'resubmitting', 'resubmitted', 'done', 'rolled-back', 'aborted', 'failed',
]);

export interface JournalSubmission {
  /** The job id phoebe chose for the submission (32 hex). */
  jobId: string;
  parallelism: number;
  /** forward: at the requested parallelism; rollback: at `from`, after the forward one failed. */
  kind: 'forward' | 'rollback';
}

export interface JournalStep {
  phase: RescalePhase;
  /** ISO time of the write. */
  at: string;
  note?: string;
}

/** One rescale, as stored. */
export interface RescaleRecord {
  version: typeof JOURNAL_VERSION;
  /** Random id of this rescale (for logs). */
  id: string;
  /** The journal's key: the configured job name, else the configured job id. */
  key: string;
  phase: RescalePhase;
  /** Parallelism of the old job; null when it could not be told (then no rollback is possible). */
  from: number | null;
  /** Parallelism asked for (a newer decision may change it before the resubmission). */
  to: number;
  reason: string;
  /** The job that was running when the rescale started. */
  oldJobId: string;
  /** Its name, to find the job in GET /jobs/overview whoever (re)submitted it. */
  jobName: string | null;
  jarId: string;
  triggerId: string;
  savepoint: string | null;
  submission: JournalSubmission | null;
  /** Job submissions made so far (forward and rollback), bounded. */
  submissions: number;
  /** Why the forward job is not running (set before a rollback). */
  forwardFailure: string | null;
  /** The job that runs when the rescale is over (terminal phases), or the one phoebe tracks. */
  resultJobId: string | null;
  /** Parallelism the job runs at when the rescale is over. */
  resultParallelism: number | null;
  /** One line on the outcome (terminal phases). */
  detail: string | null;
  startedAt: string;
  updatedAt: string;
  /** Who wrote it last: host name and process id (diagnostics). */
  writer: string;
  steps: JournalStep[];
}

export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalError';
  }
}

/** Where the record lives: a file, or memory (no state directory configured, tests). */
export interface JournalStore {
  /** Human-readable location, for messages. */
  readonly location: string;
  /** The stored record; undefined when there is none; throws JournalError when it cannot be read. */
  load(): RescaleRecord | undefined;
  save(record: RescaleRecord): void;
}

export class MemoryJournalStore implements JournalStore {
  readonly location = 'memory (no state directory)';
  private record: RescaleRecord | undefined;
  load(): RescaleRecord | undefined {
    return this.record ? structuredClone(this.record) : undefined;
  }
  save(record: RescaleRecord): void {
    this.record = structuredClone(record);
  }
}

/** A file name for the key: readable part plus a short hash, so different keys never share a file. */
export function journalFileName(key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60) || 'job';
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return `flink-rest-rescale-${readable}-${hash}.json`;
}

/**
 * The record as a file in `directory`. Writes are atomic and durable: the new content goes to a
 * temporary file in the same directory, is fsynced, renamed over the old file, and the directory
 * is fsynced so the rename survives a power loss. A reader sees the old record or the new one,
 * never a mix. Leftover temporary files (a crash before the rename) are ignored and removed.
 */
export class FileJournalStore implements JournalStore {
  readonly path: string;
  private sequence = 0;

  constructor(readonly directory: string, key: string) {
    this.path = join(directory, journalFileName(key));
  }

  get location(): string {
    return this.path;
  }

  /** Creates the directory when missing and checks it can be written; throws JournalError otherwise. */
  prepare(): void {
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      accessSync(this.directory, fsConstants.W_OK | fsConstants.R_OK);
    } catch (err) {
      throw new JournalError(`state directory ${this.directory} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }

  load(): RescaleRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new JournalError(`cannot read rescale journal ${this.path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    return parseRecord(text, this.path);
  }

  save(record: RescaleRecord): void {
    const base = journalFileName(record.key);
    const tmp = join(this.directory, `.${base}.${process.pid}.${++this.sequence}.tmp`);
    const text = `${JSON.stringify(record, null, 2)}\n`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (err) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // the directory itself is gone or unusable
      }
      throw new JournalError(`cannot write rescale journal ${this.path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    syncDirectory(this.directory);
    this.removeLeftovers(base);
  }

  private removeLeftovers(base: string): void {
    try {
      for (const name of readdirSync(this.directory)) {
        if (name.startsWith(`.${base}.`) && name.endsWith('.tmp') && !name.startsWith(`.${base}.${process.pid}.`)) rmSync(join(this.directory, name), { force: true });
      }
    } catch {
      // best effort
    }
  }
}

function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems do not support fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const isNullableString = (v: unknown): boolean => v === null || typeof v === 'string';
const isNullableInt = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isInteger(v));

/** Parses and checks a stored record; a JournalError names the file and what is wrong. */
export function parseRecord(text: string, where: string): RescaleRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JournalError(`rescale journal ${where} is not valid JSON`);
  }
  const r = value as Partial<RescaleRecord> | null;
  if (!r || typeof r !== 'object') throw new JournalError(`rescale journal ${where} is not an object`);
  if (r.version !== JOURNAL_VERSION) throw new JournalError(`rescale journal ${where} has version ${String(r.version)}, expected ${JOURNAL_VERSION}`);
  const problems: string[] = [];
  if (typeof r.phase !== 'string' || !PHASES.has(r.phase)) problems.push('phase');
  if (typeof r.key !== 'string') problems.push('key');
  if (!isNullableInt(r.from)) problems.push('from');
  if (typeof r.to !== 'number' || !Number.isInteger(r.to)) problems.push('to');
  if (typeof r.oldJobId !== 'string' || typeof r.jarId !== 'string' || typeof r.triggerId !== 'string') problems.push('oldJobId/jarId/triggerId');
  if (!isNullableString(r.savepoint) || !isNullableString(r.jobName) || !isNullableString(r.forwardFailure)) problems.push('savepoint/jobName/forwardFailure');
  const s = r.submission;
  if (s !== null && (typeof s !== 'object' || typeof s?.jobId !== 'string' || typeof s.parallelism !== 'number' || (s.kind !== 'forward' && s.kind !== 'rollback'))) problems.push('submission');
  if (typeof r.submissions !== 'number') problems.push('submissions');
  if (!Array.isArray(r.steps)) problems.push('steps');
  if (problems.length > 0) throw new JournalError(`rescale journal ${where} is malformed (${problems.join(', ')})`);
  return r as RescaleRecord;
}

export type JournalListener = (record: RescaleRecord) => void | Promise<void>;

/**
 * The journal of one job's flink-rest rescales: the record of the latest one. A new rescale may
 * begin only when the latest is in a terminal phase.
 */
export class RescaleJournal {
  private record: RescaleRecord | undefined;
  private loadError: JournalError | undefined;
  private readonly writer: string;
  private readonly clock: Clock;

  /** `writer`: who writes (default host/pid); `clock` dates the steps. */
  constructor(readonly store: JournalStore, readonly key: string, options: { writer?: string; clock?: Clock } = {}) {
    this.writer = options.writer ?? `${process.env.HOSTNAME ?? 'local'}/${process.pid}`;
    this.clock = options.clock ?? systemClock;
    this.reload();
  }

  /** Reads the store again (at start; tests). */
  reload(): void {
    try {
      this.record = this.store.load();
      this.loadError = undefined;
      if (this.record && this.record.key !== this.key) {
        this.loadError = new JournalError(`rescale journal ${this.store.location} belongs to job "${this.record.key}", not "${this.key}"`);
        this.record = undefined;
      }
    } catch (err) {
      this.record = undefined;
      this.loadError = err instanceof JournalError ? err : new JournalError(String(err));
    }
  }

  get location(): string {
    return this.store.location;
  }

  /** Why the stored journal cannot be used (phoebe then refuses to rescale until it is fixed or removed). */
  get error(): JournalError | undefined {
    return this.loadError;
  }

  /** The latest rescale (a copy), finished or not. */
  get latest(): RescaleRecord | undefined {
    return this.record ? structuredClone(this.record) : undefined;
  }

  /** The latest rescale when it has not reached a terminal phase. */
  get unfinished(): RescaleRecord | undefined {
    return this.record && !TERMINAL_PHASES.has(this.record.phase) ? structuredClone(this.record) : undefined;
  }

  /** Starts a new rescale in phase `requested`. Refuses while another one is unfinished. */
  begin(fields: Pick<RescaleRecord, 'id' | 'from' | 'to' | 'reason' | 'oldJobId' | 'jobName' | 'jarId' | 'triggerId'>, note?: string): RescaleRecord {
    if (this.loadError) throw this.loadError;
    if (this.unfinished) throw new JournalError(`rescale ${this.record!.id} is unfinished (${this.record!.phase}); not starting another`);
    const now = new Date(this.clock.now()).toISOString();
    const record: RescaleRecord = {
      version: JOURNAL_VERSION,
      key: this.key,
      phase: 'requested',
      savepoint: null,
      submission: null,
      submissions: 0,
      forwardFailure: null,
      resultJobId: null,
      resultParallelism: null,
      detail: null,
      startedAt: now,
      updatedAt: now,
      writer: this.writer,
      steps: [],
      ...fields,
    };
    record.steps.push({ phase: 'requested', at: now, ...(note ? { note } : {}) });
    const previous = this.record;
    try {
      this.write(record);
    } catch (err) {
      this.record = previous; // not recorded, not started
      throw err;
    }
    return structuredClone(record);
  }

  /**
   * Moves the unfinished rescale to `phase` with `changes`, and stores it before returning.
   * Throws JournalError when the store cannot be written; the record in memory is updated
   * anyway, so the caller may decide to go on (see progress.ts).
   */
  advance(phase: RescalePhase, changes: Partial<Omit<RescaleRecord, 'version' | 'key' | 'id' | 'steps' | 'phase'>> = {}, note?: string): RescaleRecord {
    const current = this.record;
    if (!current) throw new JournalError('no rescale to advance');
    const now = new Date(this.clock.now()).toISOString();
    const next: RescaleRecord = { ...current, ...changes, phase, updatedAt: now, writer: this.writer, steps: [...current.steps] };
    next.steps.push({ phase, at: now, ...(note ? { note } : {}) });
    // Bounded: the first step and the latest ones (a rescale retried for days stays a small file).
    if (next.steps.length > MAX_STEPS) next.steps = [next.steps[0]!, ...next.steps.slice(-(MAX_STEPS - 1))];
    this.write(next);
    return structuredClone(next);
  }

  private write(record: RescaleRecord): void {
    this.record = record;
    this.store.save(record);
  }
}
