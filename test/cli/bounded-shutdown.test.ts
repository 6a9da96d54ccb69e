import { describe, expect, it } from 'vitest';
import { boundedShutdown } from '../../src/cli/bounded-shutdown.js';
import { FakeClock } from '../support/fake-clock.js';

describe('boundedShutdown', () => {
  it('finishes with the graceful stop when it ends in time, and leaves no timer behind', async () => {
    const clock = new FakeClock(0);
    let timedOut = false;
    const done = boundedShutdown(() => clock.sleep(3_000), 25_000, clock, () => { timedOut = true; });
    await clock.advance(3_000);
    expect(await done).toBe(true);
    expect(timedOut).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('gives up on a graceful stop that hangs once the limit has passed, and says so once', async () => {
    const clock = new FakeClock(0);
    let timeouts = 0;
    let settled: boolean | undefined;
    void boundedShutdown(() => new Promise<void>(() => undefined), 25_000, clock, () => { timeouts++; }).then((v) => { settled = v; });
    await clock.advance(24_999);
    expect(settled).toBeUndefined();
    await clock.advance(1);
    expect(settled).toBe(false);
    expect(timeouts).toBe(1);
  });

  it('counts a failed graceful stop as finished: there is nothing left to wait for', async () => {
    const clock = new FakeClock(0);
    expect(await boundedShutdown(() => Promise.reject(new Error('lease gone')), 25_000, clock, () => undefined)).toBe(true);
  });
});
