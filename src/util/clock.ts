/**
 * Time as a parameter: every stage that waits or reads the time takes a Clock, so tests run on
 * fake time (test/support/fake-clock.ts) instead of sleeping, and production uses the system's.
 */
export interface Clock {
  /** Wall time, ms since the Unix epoch. */
  now(): number;
  /** Resolves once `ms` of this clock's time has passed (at once for ms ≤ 0). */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
