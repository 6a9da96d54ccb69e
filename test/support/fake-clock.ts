import type { Clock } from '../../src/util/clock.js';

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

/** Lets pending promise callbacks (and I/O callbacks already due) run before time moves on. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Fake time for unit tests. Time moves only when told:
 * - `advance(ms)` / `advanceTo(t)` wake every sleeper due on the way, in time order, letting the
 *   code each one resumes run before the next (so a polling loop sees every step);
 * - with `autoAdvance`, a sleep moves the clock to its own end at once (after letting other
 *   work run): code that only waits between requests runs as fast as its requests do.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly sleepers: Sleeper[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1), private readonly options: { autoAdvance?: boolean } = {}) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return settle();
    if (this.options.autoAdvance) {
      return settle().then(() => {
        this.t = Math.max(this.t, this.t + Math.max(0, ms));
      });
    }
    if (!(ms > 0)) return settle();
    return new Promise((resolve) => {
      const sleeper: Sleeper = { at: this.t + ms, seq: this.seq++, wake: resolve };
      this.sleepers.push(sleeper);
      // An abort wakes the sleeper now, without moving time.
      signal?.addEventListener('abort', () => {
        const i = this.sleepers.indexOf(sleeper);
        if (i >= 0) this.sleepers.splice(i, 1);
        resolve();
      }, { once: true });
    });
  }

  /** Sleepers waiting now. */
  get pending(): number {
    return this.sleepers.length;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  /** Moves to `target`, waking each due sleeper in order, and settles after each. */
  async advanceTo(target: number): Promise<void> {
    await settle();
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.wake();
      await settle();
    }
    this.t = Math.max(this.t, target);
    await settle();
  }

  /** Advances in `stepMs` steps until `done()` or `maxMs` has passed; true when done. */
  async runUntil(done: () => boolean, options: { stepMs?: number; maxMs?: number } = {}): Promise<boolean> {
    const step = options.stepMs ?? 1000;
    const end = this.t + (options.maxMs ?? 3_600_000);
    while (!done() && this.t < end) await this.advance(step);
    return done();
  }
}
