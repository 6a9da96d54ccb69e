import type { ActuationMode, RescaleRequest, RescaleResult } from './actuator.js';
import { describeError } from './errors.js';
import { recordRescaleEvent, type EventTarget, type RescaleEventSink } from './kubernetes/events.js';
import type { ActLogger } from './logger.js';
import { secondsSince } from './timing.js';
import { systemClock, type Clock } from '../util/clock.js';

/** What a rescale learned about its target on the way (for the log line and the Event). */
export interface RescaleSeen {
  from?: number;
  uid?: string;
}

export interface GuardedRescale<S extends RescaleSeen> {
  mode: ActuationMode;
  request: RescaleRequest;
  logger: ActLogger;
  /** Identifies the target in log fields, e.g. { target: 'FlinkDeployment ns/name' }. */
  logFields: (seen: S) => Record<string, unknown>;
  /** Prefixes the detail of an unexpected error, e.g. the target's name. */
  errorPrefix?: string;
  run: (seen: S) => Promise<Omit<RescaleResult, 'seconds'>>;
  /** The Event's sink and object, when rescales are recorded as Kubernetes Events. */
  events?: { sink: RescaleEventSink; target: (seen: S) => EventTarget };
}

/**
 * Every actuator's rescale in the same frame: one at a time, timed, never rejecting (an error is
 * a failed outcome), logged once, and recorded as an Event unless nothing was done.
 */
export class RescaleGuard {
  private busy = false;

  /** `clock` times the rescale (RescaleResult.seconds). */
  constructor(private readonly clock: Clock = systemClock) {}

  async perform<S extends RescaleSeen>(spec: GuardedRescale<S>): Promise<RescaleResult> {
    const start = this.clock.now();
    if (this.busy) return { outcome: 'failed', detail: 'another rescale is still in progress', seconds: 0 };
    this.busy = true;
    const seen = {} as S;
    let outcome: Omit<RescaleResult, 'seconds'>;
    try {
      outcome = await spec.run(seen);
    } catch (err) {
      outcome = { outcome: 'failed', detail: `${spec.errorPrefix ? `${spec.errorPrefix}: ` : ''}${describeError(err)}` };
    } finally {
      this.busy = false;
    }
    const result: RescaleResult = { ...outcome, seconds: secondsSince(start, this.clock) };
    const fields = { ...spec.logFields(seen), from: seen.from, to: spec.request.parallelism, seconds: result.seconds };
    if (result.outcome === 'failed') spec.logger.warn(`rescale failed: ${result.detail}`, fields);
    else spec.logger.info(`rescale ${result.outcome}: ${result.detail}`, fields);
    if (result.outcome !== 'skipped' && spec.events) {
      const input = { target: spec.events.target(seen), mode: spec.mode, from: seen.from, request: spec.request, result };
      await recordRescaleEvent(spec.events.sink, input, spec.logger);
    }
    return result;
  }
}

/** Events on one Kubernetes object (with its uid once a rescale has read it), if a sink is set. */
export function eventsOn(sink: RescaleEventSink | undefined, object: Omit<EventTarget, 'uid'>): Pick<GuardedRescale<RescaleSeen>, 'events'> {
  if (!sink) return {};
  return { events: { sink, target: (seen) => ({ ...object, ...(seen.uid ? { uid: seen.uid } : {}) }) } };
}
