/**
 * Bounded waiting: every loop in act/ ends by a deadline and by an attempt cap. Time comes from a
 * Clock (the system's unless told), so unit tests run on fake time instead of sleeping.
 */
import { systemClock, type Clock } from '../util/clock.js';

/** Seconds since `startMs` (from clock.now()), for RescaleResult.seconds. */
export function secondsSince(startMs: number, clock: Clock = systemClock): number {
  return Math.round((clock.now() - startMs) / 10) / 100;
}

export class Deadline {
  private readonly endMs: number;
  constructor(readonly timeoutMs: number, private readonly clock: Clock = systemClock) {
    this.endMs = clock.now() + Math.max(0, timeoutMs);
  }
  remainingMs(): number {
    return Math.max(0, this.endMs - this.clock.now());
  }
  expired(): boolean {
    return this.clock.now() >= this.endMs;
  }
}

export type Probe<T> =
  | { done: true; value: T }
  | { done: false; /** Why not yet, for the timeout message. */ state: string }
  /** A terminal failure: stop polling now. */
  | { done: false; fatal: true; state: string };

export type PollResult<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; fatal: boolean; state: string; attempts: number };

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * Calls `probe` until it reports done, reports a fatal state, or `timeoutMs` passes. A probe
 * that throws counts as "not yet" (its message becomes the last state): the target may be
 * briefly unavailable while it restarts. The number of attempts is capped as well, so a
 * misbehaving clock cannot make this spin.
 */
export async function pollUntil<T>(options: PollOptions, probe: () => Promise<Probe<T>>, describeError: (err: unknown) => string): Promise<PollResult<T>> {
  const clock = options.clock ?? systemClock;
  const interval = Math.max(1, options.intervalMs);
  const deadline = new Deadline(options.timeoutMs, clock);
  const maxAttempts = Math.ceil(options.timeoutMs / interval) + 2;
  let state = 'not checked';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const result = await probe();
      if (result.done) return { ok: true, value: result.value, attempts: attempt };
      state = result.state;
      if ('fatal' in result && result.fatal) return { ok: false, fatal: true, state, attempts: attempt };
    } catch (err) {
      state = describeError(err);
    }
    if (deadline.expired()) return { ok: false, fatal: false, state, attempts: attempt };
    await clock.sleep(Math.min(interval, deadline.remainingMs()));
  }
  return { ok: false, fatal: false, state, attempts: maxAttempts };
}
