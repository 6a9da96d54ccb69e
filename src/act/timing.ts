/** Bounded waiting: every loop in act/ ends by a deadline and by an attempt cap. */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Seconds since `startMs` (from Date.now()), for RescaleResult.seconds. */
export function secondsSince(startMs: number): number {
  return Math.round((Date.now() - startMs) / 10) / 100;
}

export class Deadline {
  private readonly endMs: number;
  constructor(readonly timeoutMs: number) {
    this.endMs = Date.now() + Math.max(0, timeoutMs);
  }
  remainingMs(): number {
    return Math.max(0, this.endMs - Date.now());
  }
  expired(): boolean {
    return Date.now() >= this.endMs;
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
}

/**
 * Calls `probe` until it reports done, reports a fatal state, or `timeoutMs` passes. A probe
 * that throws counts as "not yet" (its message becomes the last state): the target may be
 * briefly unavailable while it restarts. The number of attempts is capped as well, so a
 * misbehaving clock cannot make this spin.
 */
export async function pollUntil<T>(options: PollOptions, probe: () => Promise<Probe<T>>, describeError: (err: unknown) => string): Promise<PollResult<T>> {
  const interval = Math.max(1, options.intervalMs);
  const deadline = new Deadline(options.timeoutMs);
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
    await sleep(Math.min(interval, deadline.remainingMs()));
  }
  return { ok: false, fatal: false, state, attempts: maxAttempts };
}
