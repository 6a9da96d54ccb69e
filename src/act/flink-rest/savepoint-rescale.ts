/**
 * The default scheduler's rescale — stop with a savepoint, resubmit from it — as a journalled state
 * machine: the stop is sent (stop.ts), then the rescale is driven from phase to phase by the
 * handlers of phases.ts until it ends or cannot go on now (a wait timed out, Flink cannot be reached).
 */
import type { JobDetailsInfo } from './client.js';
import type { DriveStart, DriveState, Driven, Outcome, SavepointRescaleContext } from './drive-state.js';
import type { RescaleRecord } from './journal.js';
import { PHASE_HANDLERS, terminalOutcome } from './phases.js';
import { sendStop } from './stop.js';

/** Phase changes one drive may make before it stops for the next attempt (a guard against a loop). */
const MAX_TRANSITIONS = 16;

export async function rescaleWithSavepoint(
  ctx: SavepointRescaleContext, job: JobDetailsInfo, p: number, from: number | undefined, reason: string, seen: { from?: number },
): Promise<Outcome> {
  const sent = await sendStop(ctx, job, p, from, reason);
  if ('end' in sent) return sent.end;
  return (await drive(ctx, sent.drive, { seen, requested: p, ...(sent.live ? { live: sent.live } : {}), resumed: false })).outcome;
}

/** Drives a journalled rescale from its phase to an end, or until it cannot go on now. */
export async function drive(ctx: SavepointRescaleContext, start: RescaleRecord, how: DriveStart): Promise<Driven> {
  const d: DriveState = { ...how, rec: start, submittedHere: false, submissionsHere: 0 };
  d.seen.from = start.from ?? undefined;
  const prefix = how.resumed ? `resumed rescale ${start.id} (${start.from ?? '?'} → ${start.to}, was ${start.phase}): ` : '';
  const ended = (outcome: Outcome, proceed = false): Driven => ({ outcome: { ...outcome, detail: `${prefix}${outcome.detail}` }, proceed });

  for (let transitions = 0; transitions < MAX_TRANSITIONS; transitions++) {
    const phase = d.rec.phase;
    if (phase === 'done' || phase === 'rolled-back' || phase === 'aborted' || phase === 'failed') {
      return ended(terminalOutcome(d.rec), phase === 'aborted');
    }
    const transition = await PHASE_HANDLERS[phase](ctx, d);
    if ('next' in transition) d.rec = transition.next;
    else if ('end' in transition) return ended(transition.end, transition.proceed);
    // A job of ours found in the overview: follow it as a drive of its own (its outcome is that drive's).
    else return drive(ctx, transition.restart, { seen: {}, resumed: false });
  }
  return ended({ outcome: 'failed', detail: `rescale ${d.rec.id} did not settle (phase ${d.rec.phase}); resumed on the next attempt` });
}
