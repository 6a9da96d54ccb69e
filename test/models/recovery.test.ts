import { describe, expect, it } from 'vitest';
import { recoverySeconds } from '../../src/models/recovery.js';

describe('recoverySeconds', () => {
  it('constant load: downtime + (replay + λ·downtime) / (μ − λ)', () => {
    // Backlog = 6000 replayed + 600·30 arriving while down = 24000; surplus 400/s → 60 s.
    const inputs = { capacity: 1000, stepSeconds: 30, replayRecords: 6000, downtimeSeconds: 30 };
    expect(recoverySeconds({ ...inputs, arrivals: [600] })).toBeCloseTo(90, 12);
    // The same with the forecast spelled out step by step (the backlog ends exactly at a step edge).
    expect(recoverySeconds({ ...inputs, arrivals: [600, 600, 600, 600, 600] })).toBeCloseTo(90, 12);
  });

  it('a drop in arrivals mid-catch-up speeds it up from that step on', () => {
    // At 30 s the backlog is 24000; 30–60 s works off 400·30 = 12000; from 60 s the surplus is
    // 800/s, so the remaining 12000 take 15 s → 75 s.
    const inputs = { capacity: 1000, stepSeconds: 30, replayRecords: 6000, downtimeSeconds: 30 };
    expect(recoverySeconds({ ...inputs, arrivals: [600, 600, 200, 200] })).toBeCloseTo(75, 12);
    // A rise to 900/s instead: 60–90 s removes only 3000; 9000 left at 100/s → 180 s.
    expect(recoverySeconds({ ...inputs, arrivals: [600, 600, 900, 900] })).toBeCloseTo(180, 12);
  });

  it('counts arrivals during the downtime step by step, including a partial step', () => {
    // Down 25 s over steps of 10 s at 100, 200, 300: 1000 + 2000 + 1500 = 4500 records.
    // 25–30 s at surplus 700 removes 3500; 1000 left at 700/s from 30 s → 30 + 10/7.
    const r = recoverySeconds({ capacity: 1000, arrivals: [100, 200, 300, 300], stepSeconds: 10, replayRecords: 0, downtimeSeconds: 25 });
    expect(r).toBeCloseTo(30 + 1000 / 700, 12);
  });

  it('an overloaded step in the middle adds to the backlog', () => {
    // 24000 replayed, no downtime: 0–30 s removes 12000, 30–60 s adds 200·30 = 6000 → 18000 at
    // 60 s, then 400/s → 45 s more.
    const r = recoverySeconds({ capacity: 1000, arrivals: [600, 1200, 600], stepSeconds: 30, replayRecords: 24000, downtimeSeconds: 0 });
    expect(r).toBeCloseTo(105, 12);
  });

  it('is Infinity when the capacity does not exceed the arrival rate at the end', () => {
    // 15000 left after the first step; the last value (= capacity, then above it) holds forever.
    const base = { capacity: 1000, stepSeconds: 30, replayRecords: 30000, downtimeSeconds: 0 };
    expect(recoverySeconds({ ...base, arrivals: [500, 1000] })).toBe(Number.POSITIVE_INFINITY);
    expect(recoverySeconds({ ...base, arrivals: [500, 1200] })).toBe(Number.POSITIVE_INFINITY);
    // …unless the backlog is gone before the overload: 10000 at 500/s → 20 s.
    expect(recoverySeconds({ ...base, replayRecords: 10000, arrivals: [500, 1200] })).toBeCloseTo(20, 12);
    // A short forecast does not truncate: the last value is extended (1000 left at 100/s).
    expect(recoverySeconds({ capacity: 1000, arrivals: [900], stepSeconds: 30, replayRecords: 1000, downtimeSeconds: 0 })).toBeCloseTo(10, 12);
    expect(recoverySeconds({ capacity: 1000, arrivals: [900], stepSeconds: 30, replayRecords: 9000, downtimeSeconds: 0 })).toBeCloseTo(90, 12);
  });

  it('zero replay and zero downtime recover at once; no capacity or no forecast never does', () => {
    expect(recoverySeconds({ capacity: 1000, arrivals: [600], stepSeconds: 30, replayRecords: 0, downtimeSeconds: 0 })).toBe(0);
    // Even with an overloaded forecast: there is nothing to catch up.
    expect(recoverySeconds({ capacity: 1000, arrivals: [2000], stepSeconds: 30, replayRecords: 0, downtimeSeconds: 0 })).toBe(0);
    expect(recoverySeconds({ capacity: 0, arrivals: [600], stepSeconds: 30, replayRecords: 0, downtimeSeconds: 0 })).toBe(Number.POSITIVE_INFINITY);
    expect(recoverySeconds({ capacity: 1000, arrivals: [], stepSeconds: 30, replayRecords: 0, downtimeSeconds: 0 })).toBe(Number.POSITIVE_INFINITY);
  });

  it('accepts a Float64Array view of the forecast', () => {
    const all = Float64Array.from([9999, 600, 600, 200, 200]);
    const r = recoverySeconds({ capacity: 1000, arrivals: all.subarray(1), stepSeconds: 30, replayRecords: 6000, downtimeSeconds: 30 });
    expect(r).toBeCloseTo(75, 12);
  });
});
