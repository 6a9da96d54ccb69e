import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/util/clock.js';
import { FakeClock } from '../support/fake-clock.js';

describe('FakeClock', () => {
  it('wakes sleepers in time order as time advances, and only then', async () => {
    const clock = new FakeClock(0);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(250);
    expect(woke).toEqual(['a@100', 'b@300']);
    expect(clock.now()).toBe(349);
  });

  it('lets a polling loop take every step it is due', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        seen.push(clock.now());
        await clock.sleep(1000);
      }
    })();
    await clock.advance(10_000);
    await loop;
    expect(seen).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('auto-advances on sleep when asked to', async () => {
    const clock = new FakeClock(0, { autoAdvance: true });
    await clock.sleep(60_000);
    await clock.sleep(-5);
    expect(clock.now()).toBe(60_000);
  });

  it('an aborted sleep resolves at once without moving time', async () => {
    const clock = new FakeClock(0);
    const abort = new AbortController();
    let woke = false;
    const sleeping = clock.sleep(30_000, abort.signal).then(() => { woke = true; });
    abort.abort();
    await sleeping;
    expect(woke).toBe(true);
    expect(clock.now()).toBe(0);
    expect(clock.pending).toBe(0);
    await clock.sleep(1000, abort.signal);
    expect(clock.now()).toBe(0);
  });
});

describe('systemClock', () => {
  it('an aborted sleep resolves at once and leaves no timer behind', async () => {
    const abort = new AbortController();
    const sleeping = systemClock.sleep(3_600_000, abort.signal);
    abort.abort();
    // Resolved by the abort (an hour's timer would fail the test by its timeout).
    await expect(sleeping).resolves.toBeUndefined();
  });
});
