/**
 * The first half of a savepoint rescale: the stop-with-savepoint. The jar is found before the job
 * is touched; the rescale is journalled (`requested`, with the trigger id phoebe chose) before the
 * stop is sent; a stop whose answer is lost is followed through its trigger id and sent at most once
 * more with the same id (Flink de-duplicates triggers); a refused stop is checked for a registered
 * trigger before the rescale is closed.
 */
import { describeError, HttpStatusError, redact } from '../errors.js';
import { newHex32, type AsynchronousOperationResult, type JobDetailsInfo, type StopWithSavepointRequestBody } from './client.js';
import type { LiveStop, Outcome, SavepointRescaleContext } from './drive-state.js';
import { interpretSavepoint } from './jobs.js';
import type { RescaleRecord } from './journal.js';

/** What sending the stop led to: an end already, or a journalled rescale to drive on. */
export type StopSent = { end: Outcome } | { drive: RescaleRecord; live?: LiveStop };

/** Where a stop-with-savepoint ended up: its savepoint's outcome, unknown to Flink, or still running at the timeout. */
export type StopState =
  | { kind: 'completed'; location: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'unknown' }
  | { kind: 'timeout'; state: string };

/** The old parallelism as an outcome field (when known). */
export function fromField(rec: RescaleRecord): { parallelism?: number } {
  return rec.from !== null ? { parallelism: rec.from } : {};
}

export async function sendStop(ctx: SavepointRescaleContext, job: JobDetailsInfo, p: number, from: number | undefined, reason: string): Promise<StopSent> {
  const { client, settings, progress } = ctx;
  // Find the jar first: a job must not be stopped when it cannot be started again.
  const jarId = await ctx.jobs.resolveJar().catch((err: unknown) => {
    throw new Error(`${describeError(err)}; job ${job.jid} left running`);
  });
  // phoebe picks the trigger id, so a stop whose answer is lost can still be found (Flink de-duplicates it).
  const triggerId = newHex32();
  let rec: RescaleRecord;
  try {
    rec = progress.journal.begin({
      id: newHex32().slice(0, 12), from: from ?? null, to: p, reason: redact(reason, 200),
      oldJobId: job.jid, jobName: job.name ?? settings.jobName ?? null, jarId, triggerId,
    });
  } catch (err) {
    // Nothing was sent: without a record of the stop, phoebe does not stop the job.
    return { end: { outcome: 'failed', detail: `cannot record the rescale (${describeError(err)}); job ${job.jid} left running` } };
  }
  await progress.step('requested', rec);
  const body: StopWithSavepointRequestBody = {
    drain: false,
    triggerId,
    ...(settings.savepointDirectory ? { targetDirectory: settings.savepointDirectory } : {}),
    ...(settings.savepointFormatType ? { formatType: settings.savepointFormatType } : {}),
  };
  const live: LiveStop = { body, confirmed: true };
  try {
    await client.stopWithSavepoint(job.jid, body);
  } catch (err) {
    if (err instanceof HttpStatusError) return stopRefused(ctx, rec, err);
    live.confirmed = false; // no answer: the stop may or may not have arrived; its trigger tells
    settings.logger.warn('stop-with-savepoint unanswered; checking its trigger', { job: job.jid, trigger: triggerId, error: describeError(err) });
  }
  await progress.step('stop-sent', rec);
  if (live.confirmed) rec = await progress.record('savepoint-triggered', {}, 'stop accepted');
  settings.logger.info('stop-with-savepoint triggered', { job: job.jid, trigger: triggerId, to: p });
  return { drive: rec, live };
}

/** Flink refused the stop: make sure it registered nothing and the job still runs, then close the rescale. */
async function stopRefused(ctx: SavepointRescaleContext, rec: RescaleRecord, err: HttpStatusError): Promise<StopSent> {
  const why = describeError(err);
  let probe: AsynchronousOperationResult | 'unknown';
  try {
    probe = await ctx.client.getSavepointStatus(rec.oldJobId, rec.triggerId);
  } catch (e) {
    if (!(e instanceof HttpStatusError && e.status === 404)) {
      return { end: { outcome: 'failed', ...fromField(rec), detail: `${why}; whether the stop was registered is not known yet (${describeError(e)}); the next attempt checks trigger ${rec.triggerId} first` } };
    }
    probe = 'unknown';
  }
  if (probe !== 'unknown') {
    // Refused, yet registered: follow it like any other stop.
    return { drive: await ctx.progress.record('savepoint-triggered', {}, `stop answered ${err.status} but trigger found`) };
  }
  const still = await ctx.jobs.stateText(rec.oldJobId);
  await ctx.progress.record('aborted', { resultJobId: rec.oldJobId, resultParallelism: rec.from, detail: `stop refused (${why})` }, 'stop refused; trigger unknown');
  return { end: { outcome: 'failed', ...fromField(rec), detail: `${why}; job ${rec.oldJobId} ${still}, not stopped` } };
}

/** Polls the stop's trigger: completed, failed, unknown to Flink, or still running at the timeout. */
export async function awaitStop(ctx: SavepointRescaleContext, rec: RescaleRecord, live: LiveStop | undefined): Promise<StopState> {
  let resent = false;
  const waited = await ctx.jobs.poll<Exclude<StopState, { kind: 'timeout' }>>(ctx.settings.savepointTimeoutMs, async () => {
    let status: AsynchronousOperationResult;
    try {
      status = await ctx.client.getSavepointStatus(rec.oldJobId, rec.triggerId);
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
      // Unknown trigger. A stop sent by this call without an answer is sent once more (same trigger id, so never twice).
      if (!live || live.confirmed || resent) return { done: true, value: { kind: 'unknown' } };
      resent = true;
      await ctx.client.stopWithSavepoint(rec.oldJobId, live.body).catch((e: unknown) => {
        if (e instanceof HttpStatusError) throw e;
      });
      return { done: false, state: 'stop request resent' };
    }
    if (live) live.confirmed = true;
    const state = interpretSavepoint(status);
    return state.kind === 'in-progress' ? { done: false, state: 'IN_PROGRESS' } : { done: true, value: state };
  });
  return waited.ok ? waited.value : { kind: 'timeout', state: waited.state };
}
