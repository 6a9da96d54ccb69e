/**
 * The savepoint rescale as a table: one handler per unfinished journal phase, each taking the
 * rescale one step on (`next`), ending the drive (`end`), or — when a job of ours turns up in the
 * job overview — starting a fresh drive from `resubmitted` (`restart`). See journal.ts for the
 * phases and actuator.ts for the protocol as a whole.
 */
import { describeError } from '../errors.js';
import { newHex32, type JobStatus } from './client.js';
import type { DriveState, Outcome, SavepointRescaleContext, Transition } from './drive-state.js';
import type { RescalePhase, RescaleRecord } from './journal.js';
import { secondsText } from './settings.js';
import { awaitStop, fromField } from './stop.js';
import { submit, SubmissionUnconfirmed } from './submission.js';

type UnfinishedPhase = Exclude<RescalePhase, 'done' | 'rolled-back' | 'aborted' | 'failed'>;
type PhaseHandler = (ctx: SavepointRescaleContext, d: DriveState) => Promise<Transition>;

const next = (rec: RescaleRecord): Transition => ({ next: rec });
const end = (outcome: Outcome, proceed = false): Transition => ({ end: outcome, proceed });

/** The outcome a finished journal entry stands for. */
export function terminalOutcome(rec: RescaleRecord): Outcome {
  const parallelism = rec.resultParallelism !== null ? { parallelism: rec.resultParallelism } : {};
  const detail = rec.detail ?? `rescale ${rec.id} ${rec.phase}`;
  return rec.phase === 'done' && rec.resultParallelism === rec.to
    ? { outcome: 'completed', ...parallelism, detail }
    : { outcome: 'failed', ...parallelism, detail };
}

/** The stop's trigger is polled until its savepoint completes (or fails, or Flink does not know it). */
const awaitSavepoint: PhaseHandler = async (ctx, d) => {
  const { jobs, progress } = ctx;
  let rec = d.rec;
  const stop = await awaitStop(ctx, rec, d.live);
  if (stop.kind === 'timeout') {
    const still = await jobs.stateText(rec.oldJobId);
    if (d.resumed) return end({ outcome: 'failed', ...fromField(rec), detail: `earlier stop-with-savepoint on job ${rec.oldJobId} still in progress; not starting another (last: ${stop.state}; job ${still})` });
    return end({
      outcome: 'failed', ...fromField(rec),
      detail: `savepoint not completed within ${secondsText(ctx.settings.savepointTimeoutMs)} (last: ${stop.state}); job ${rec.oldJobId} ${still}; the next rescale resubmits if the stop completes later`,
    });
  }
  if (stop.kind === 'unknown') {
    const state = await jobs.state(rec.oldJobId);
    if (state === 'RUNNING') {
      rec = await progress.record('aborted', { resultJobId: rec.oldJobId, resultParallelism: rec.from, detail: 'the stop never reached Flink' }, 'trigger unknown, job RUNNING');
      jobs.current = rec.oldJobId;
      return end({ outcome: 'failed', ...fromField(rec), detail: `the stop-with-savepoint never reached Flink (trigger ${rec.triggerId} unknown); job ${rec.oldJobId} is RUNNING, untouched` }, true);
    }
    // The JobManager knows neither (restarted without HA, or another cluster): a job of that name that runs is the truth.
    const active = await jobs.activeJobsNamed(rec);
    if (active.ok && active.value.length > 0) return adopt(ctx, rec, active.value);
    return end({
      outcome: 'failed',
      detail: `trigger ${rec.triggerId} is unknown to the JobManager (restarted, or its result expired) and job ${rec.oldJobId} is ${state}: the savepoint location cannot be told; resubmit the job from its latest savepoint and remove ${progress.journal.location}`,
    });
  }
  if (stop.kind === 'failed') {
    const still = await jobs.stateText(rec.oldJobId);
    rec = await progress.record('aborted', { resultJobId: rec.oldJobId, resultParallelism: rec.from, detail: `savepoint failed (${stop.reason})` }, 'savepoint failed; job kept running');
    jobs.current = rec.oldJobId;
    return end({ outcome: 'failed', ...fromField(rec), detail: `savepoint failed (${stop.reason}); job ${rec.oldJobId} ${still}, not resubmitted` }, true);
  }
  if (rec.phase === 'requested') rec = await progress.record('savepoint-triggered', {}, 'trigger found by its id');
  return next(await progress.record('savepoint-completed', { savepoint: stop.location }, stop.location));
};

/** The savepoint is there: wait until the old job has terminated before anything is resubmitted. */
const awaitOldJobEnd: PhaseHandler = async (ctx, { rec }) => {
  const stopped = await ctx.jobs.awaitTerminated(rec.oldJobId);
  if (!stopped.ok) {
    return end({ outcome: 'failed', detail: `savepoint ${rec.savepoint} completed but job ${rec.oldJobId} has not terminated (${stopped.state}); not resubmitting while it may run` });
  }
  return next(await ctx.progress.record('job-stopped', {}, `job ${rec.oldJobId} ${stopped.value}`));
};

/** The job is down: choose the next submission (forward, or rollback after a failed forward) and its job id. */
const chooseSubmission: PhaseHandler = async (ctx, d) => {
  const { settings, progress } = ctx;
  const rec = d.rec;
  const active = await ctx.jobs.activeJobsNamed(rec);
  if (!active.ok) return end({ outcome: 'failed', detail: `job ${rec.oldJobId} stopped with savepoint ${rec.savepoint}; cannot check for a running job (${active.state}); not resubmitting yet` });
  if (active.value.length > 0) return adopt(ctx, rec, active.value);
  const rollback = rec.forwardFailure !== null;
  if (rollback && (!settings.restoreOnSubmitFailure || rec.from === null)) {
    const failed = await progress.record('failed', { detail: rec.forwardFailure }, 'no rollback');
    return end({ outcome: 'failed', detail: `job ${failed.oldJobId} stopped with savepoint ${failed.savepoint}; ${failed.forwardFailure}; the job is NOT running` });
  }
  if (rec.submissions >= settings.maxSubmissions || d.submissionsHere >= 2) {
    const why = rec.submissions >= settings.maxSubmissions ? `${rec.submissions} submissions made, the limit` : 'retried on the next attempt';
    return end({ outcome: 'failed', detail: `${rec.forwardFailure ?? 'not resubmitted'}; the job is NOT running; savepoint ${rec.savepoint} (${why})` });
  }
  let to = rec.to;
  let note = rollback ? `rollback to ${rec.from}` : `forward to ${to}`;
  if (!rollback && d.requested !== undefined && d.requested !== rec.to) {
    note = `forward to ${d.requested} (the newest decision; was ${rec.to})`;
    to = d.requested;
  }
  const parallelism = rollback ? (rec.from as number) : to;
  const chosen = await progress.record('resubmitting', {
    to, submissions: rec.submissions + 1,
    submission: { jobId: newHex32(), parallelism, kind: rollback ? 'rollback' : 'forward' },
  }, note);
  d.submittedHere = true;
  d.submissionsHere++;
  return next(chosen);
};

/** Send the chosen submission — unless an earlier attempt's request arrived after all. */
const resubmit: PhaseHandler = async (ctx, d) => {
  const { jobs, progress, settings } = ctx;
  let rec = d.rec;
  const sub = rec.submission!;
  if (!d.submittedHere) {
    // Written by an earlier attempt: did its request arrive?
    const exists = await jobs.exists(sub.jobId);
    if (exists === undefined) return end({ outcome: 'failed', detail: `cannot tell whether job ${sub.jobId} was submitted (Flink unreachable); checked again on the next attempt` });
    if (exists) {
      jobs.current = sub.jobId;
      return next(await progress.record('resubmitted', { resultJobId: sub.jobId }, 'found by its job id'));
    }
    const active = await jobs.activeJobsNamed(rec);
    if (!active.ok) return end({ outcome: 'failed', detail: `cannot check for a running job (${active.state}); not resubmitting yet` });
    if (active.value.length > 0) return adopt(ctx, rec, active.value);
    d.submittedHere = true; // unknown to Flink: send it now, with the same id
  }
  try {
    await submit(ctx.client, jobs, settings, { jarId: rec.jarId, savepointPath: rec.savepoint!, parallelism: sub.parallelism, jobId: sub.jobId });
  } catch (err) {
    if (err instanceof SubmissionUnconfirmed) {
      jobs.current = sub.jobId;
      return end({
        outcome: 'failed',
        detail: `submission at ${sub.parallelism} from savepoint ${rec.savepoint} unanswered (${describeError(err.cause)}) and not confirmed; tracking job id ${sub.jobId}; it is sent again with the same id only once Flink says it does not know it, so the job cannot run twice`,
      });
    }
    const why = describeError(err);
    if (sub.kind === 'forward') {
      const failure = `resubmission at ${sub.parallelism} failed (${why})`;
      if (settings.restoreOnSubmitFailure && rec.from !== null) {
        settings.logger.warn('resubmission refused; restoring at the old parallelism', { from: rec.from, error: why });
        return next(await progress.record('job-stopped', { forwardFailure: failure }, 'forward submission refused'));
      }
      rec = await progress.record('failed', { forwardFailure: failure, detail: failure }, 'forward submission refused, no rollback');
      return end({ outcome: 'failed', detail: `job ${rec.oldJobId} stopped with savepoint ${rec.savepoint}; ${failure}; the job is NOT running` });
    }
    rec = await progress.record('job-stopped', {}, `rollback submission refused (${why})`);
    return end({ outcome: 'failed', detail: `${rec.forwardFailure}; restoring at ${rec.from} failed too (${why}); the job is NOT running; savepoint ${rec.savepoint}` });
  }
  jobs.current = sub.jobId;
  await progress.step('run-sent', rec);
  rec = await progress.record('resubmitted', { resultJobId: sub.jobId }, `job ${sub.jobId}`);
  settings.logger.info('job resubmitted from savepoint', { job: sub.jobId, parallelism: sub.parallelism, kind: sub.kind });
  return next(rec);
};

/** The submitted job is waited for: done (forward), rolled back (rollback), or — if it ended — the next submission. */
const awaitNewJob: PhaseHandler = async (ctx, d) => {
  const { jobs, progress, settings } = ctx;
  let rec = d.rec;
  const sub = rec.submission!;
  if ((await jobs.exists(sub.jobId)) === false) {
    // Accepted once, unknown now: the JobManager lost it (restart without HA). Nothing of it runs.
    const active = await jobs.activeJobsNamed(rec);
    if (!active.ok) return end({ outcome: 'failed', detail: `job ${sub.jobId} is unknown to the JobManager and the job overview cannot be read (${active.state})` });
    if (active.value.length > 0) return adopt(ctx, rec, active.value);
    return next(await progress.record('job-stopped', {}, `submitted job ${sub.jobId} unknown to the JobManager`));
  }
  jobs.current = sub.jobId;
  const waited = await jobs.awaitRunning(sub.jobId, (job) => jobs.parallelism(job) === sub.parallelism);
  if (waited.ok) {
    const reached = jobs.parallelism(waited.value) ?? sub.parallelism;
    if (sub.kind === 'forward') {
      const detail = `stop-with-savepoint ${rec.savepoint}; job ${rec.oldJobId} → ${sub.jobId} running at ${reached}`;
      await progress.record('done', { resultJobId: sub.jobId, resultParallelism: reached, detail }, `running at ${reached}`);
      return end({ outcome: 'completed', parallelism: reached, detail });
    }
    const detail = `${rec.forwardFailure}; restored from savepoint ${rec.savepoint} as job ${sub.jobId}, running at ${reached}`;
    await progress.record('rolled-back', { resultJobId: sub.jobId, resultParallelism: reached, detail }, `running at ${reached}`);
    return end({ outcome: 'failed', parallelism: reached, detail });
  }
  if (!waited.fatal) {
    return end({
      outcome: 'failed',
      detail: `resubmitted from savepoint ${rec.savepoint} as job ${sub.jobId}, but it is not running at ${sub.parallelism} within ${secondsText(settings.runningTimeoutMs)} (${waited.state}); waiting for it on the next attempt`,
    });
  }
  const ended = `resubmitted from savepoint ${rec.savepoint} as job ${sub.jobId}, but it ended (${waited.state})`;
  if (sub.kind === 'forward') {
    if (settings.restoreOnSubmitFailure && rec.from !== null) {
      settings.logger.warn('the resubmitted job ended; restoring at the old parallelism', { job: sub.jobId, from: rec.from, state: waited.state });
      return next(await progress.record('job-stopped', { forwardFailure: ended }, 'forward job ended'));
    }
    rec = await progress.record('failed', { forwardFailure: ended, detail: ended }, 'forward job ended, no rollback');
    return end({ outcome: 'failed', detail: `${ended}; the job is NOT running; savepoint ${rec.savepoint}` });
  }
  rec = await progress.record('job-stopped', {}, `rollback job ${sub.jobId} ended (${waited.state})`);
  if (d.submissionsHere >= 2 || rec.submissions >= settings.maxSubmissions) {
    return end({ outcome: 'failed', detail: `${rec.forwardFailure}; the restore ${ended.replace(/^resubmitted/, 'resubmitted too')}; the job is NOT running; savepoint ${rec.savepoint}` });
  }
  return next(rec);
};

export const PHASE_HANDLERS: Readonly<Record<UnfinishedPhase, PhaseHandler>> = {
  requested: awaitSavepoint,
  'savepoint-triggered': awaitSavepoint,
  'savepoint-completed': awaitOldJobEnd,
  'job-stopped': chooseSubmission,
  resubmitting: resubmit,
  resubmitted: awaitNewJob,
};

/** A job of that name is active although phoebe submitted none (or not the one it recorded): track it, submit nothing. */
async function adopt(ctx: SavepointRescaleContext, rec: RescaleRecord, active: { jid: string; state: JobStatus }[]): Promise<Transition> {
  const ours = rec.submission && active.find((j) => j.jid === rec.submission!.jobId);
  if (ours) return { restart: await ctx.progress.record('resubmitted', { resultJobId: ours.jid }, 'found in the job overview') };
  if (active.length > 1) {
    return end({ outcome: 'failed', detail: `${active.length} jobs named "${rec.jobName}" are active (${active.map((j) => j.jid).join(', ')}); phoebe submits nothing and waits for an operator` });
  }
  const other = active[0]!;
  ctx.jobs.current = other.jid;
  const waited = await ctx.jobs.awaitRunning(other.jid);
  if (!waited.ok && !waited.fatal) return end({ outcome: 'failed', detail: `job ${other.jid} ("${rec.jobName}") was started by someone else and is not running yet (${waited.state}); phoebe submits nothing` });
  if (!waited.ok) {
    // It ended: back to job-stopped, phoebe resubmits on the next attempt.
    return end({ outcome: 'failed', detail: `job ${other.jid} ("${rec.jobName}"), started by someone else, ended (${waited.state}); resubmitting on the next attempt` });
  }
  const reached = ctx.jobs.parallelism(waited.value);
  const detail = `job ${other.jid} ("${rec.jobName}") was started by someone else after the stop and runs at ${reached ?? '?'}; phoebe adopted it and submitted nothing`;
  return end(terminalOutcome(await ctx.progress.record('done', { resultJobId: other.jid, resultParallelism: reached ?? null, detail }, 'adopted')));
}
