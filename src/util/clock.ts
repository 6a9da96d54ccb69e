/**
 * Time as a parameter: every stage that waits or reads the time takes a Clock, so tests run on
 * fake time (test/support/fake-clock.ts) instead of sleeping, and production uses the system's.
 */
export interface Clock {
  /** Wall time, ms since the Unix epoch. */
  now(): number;
  /**
   * Resolves once `ms` of this clock's time has passed (at once for ms ≤ 0), or as soon as
   * `signal` aborts: a loop waiting for its next turn must stop at once, not an interval later.
   * Never rejects.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  }),
};
