import { describe, expect, it } from 'vitest';
import { cheapestSchedule } from '../../src/planner/schedule.js';

const flat = (cost: number) => (): number => cost;

describe('cheapestSchedule', () => {
  it('stays put on a constant requirement it already meets', () => {
    const r = cheapestSchedule({ required: [3, 3, 3, 3], current: 3, min: 1, max: 6, stepSeconds: 30, switchCost: flat(1000) });
    expect(r).toEqual({ path: [3, 3, 3, 3], cost: 4 * 3 * 30, changes: 0 });
  });

  it('drops to the requirement when switching is cheap, stays when it is dearer than the saving', () => {
    // From 5 to 3 saves 2 slots · 120 s = 240 slot-s.
    const cheap = cheapestSchedule({ required: [3, 3, 3, 3], current: 5, min: 1, max: 6, stepSeconds: 30, switchCost: flat(10) });
    expect(cheap).toEqual({ path: [3, 3, 3, 3], cost: 360 + 10, changes: 1 });
    const dear = cheapestSchedule({ required: [3, 3, 3, 3], current: 5, min: 1, max: 6, stepSeconds: 30, switchCost: flat(241) });
    expect(dear).toEqual({ path: [5, 5, 5, 5], cost: 600, changes: 0 });
  });

  it('with cheap switching, goes up exactly at the step up', () => {
    const r = cheapestSchedule({ required: [2, 2, 2, 5, 5, 5], current: 2, min: 1, max: 8, stepSeconds: 30, switchCost: flat(10) });
    expect(r).toEqual({ path: [2, 2, 2, 5, 5, 5], cost: 3 * 60 + 3 * 150 + 10, changes: 1 });
  });

  it('follows a dip when switching is cheap; goes up once at the start when it is expensive', () => {
    const required = [5, 2, 2, 5, 5];
    const cheap = cheapestSchedule({ required, current: 2, min: 1, max: 8, stepSeconds: 30, switchCost: flat(10) });
    // 2→5, 5→2, 2→5: three changes.
    expect(cheap).toEqual({ path: [5, 2, 2, 5, 5], cost: 150 + 60 + 60 + 150 + 150 + 30, changes: 3 });
    // Riding out the dip at 5 costs 2 · 3 · 30 = 180 slot-s, less than two switches of 100.
    const dear = cheapestSchedule({ required, current: 2, min: 1, max: 8, stepSeconds: 30, switchCost: flat(100) });
    expect(dear).toEqual({ path: [5, 5, 5, 5, 5], cost: 5 * 150 + 100, changes: 1 });
  });

  it('passes (from, to, k) to the switch cost and waits for the step where switching is cheap', () => {
    const calls: [number, number, number][] = [];
    const r = cheapestSchedule({
      required: [3, 3, 3, 3], current: 5, min: 3, max: 5, stepSeconds: 30,
      switchCost: (from, to, k) => { calls.push([from, to, k]); return k < 2 ? 1000 : 1; },
    });
    expect(r).toEqual({ path: [5, 5, 3, 3], cost: 2 * 150 + 2 * 90 + 1, changes: 1 });
    expect(calls).toContainEqual([5, 3, 0]);
    expect(calls).toContainEqual([5, 3, 2]);
    expect(calls.every(([from, to, k]) => from !== to && from >= 3 && to <= 5 && k >= 0 && k < 4)).toBe(true);
  });

  it('never falls below the requirement and matches brute force', () => {
    let seed = 7;
    const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    for (let trial = 0; trial < 40; trial++) {
      const steps = 4;
      const min = 2;
      const max = 5;
      const required = Array.from({ length: steps }, () => min + Math.floor(rand() * (max - min + 1)));
      const current = min + Math.floor(rand() * (max - min + 1));
      const price = Math.floor(rand() * 120);
      const switchCost = (from: number, to: number, k: number): number => price * (1 + Math.abs(to - from)) + 5 * k;
      const r = cheapestSchedule({ required, current, min, max, stepSeconds: 30, switchCost });
      r.path.forEach((p, k) => {
        expect(p).toBeGreaterThanOrEqual(required[k]!);
        expect(p).toBeLessThanOrEqual(max);
      });
      // Brute force over every path.
      let best = Number.POSITIVE_INFINITY;
      const walk = (k: number, prev: number, acc: number): void => {
        if (k === steps) { best = Math.min(best, acc); return; }
        for (let p = required[k]!; p <= max; p++) walk(k + 1, p, acc + p * 30 + (p === prev ? 0 : switchCost(prev, p, k)));
      };
      walk(0, current, 0);
      expect(r.cost).toBeCloseTo(best, 9);
      // The reported cost and changes are those of the reported path.
      let cost = 0;
      let changes = 0;
      r.path.forEach((p, k) => {
        const prev = k === 0 ? current : r.path[k - 1]!;
        cost += p * 30 + (p === prev ? 0 : switchCost(prev, p, k));
        if (p !== prev) changes++;
      });
      expect(r.cost).toBeCloseTo(cost, 9);
      expect(r.changes).toBe(changes);
    }
  });

  // BUG (src/planner/schedule.ts, back-tracking after the DP): when no path has a finite cost
  // (every switch the requirement forces costs Infinity, as planner.ts passes for targets that
  // cannot meet the latency SLO at all), all parents stay −1 and the back-tracking indexes
  // parent[k][−1]: required [5, 5, 5], current 2, min 1, max 5 returns path [NaN, 0, 1] — below
  // min and below the requirement. Expected: a path that still meets the requirement
  // ([5, 5, 5], cost Infinity). See planner.test.ts for the effect: no scale-up under overload.
  it('returns a path meeting the requirement even when every forced switch costs Infinity', () => {
    const r = cheapestSchedule({ required: [5, 5, 5], current: 2, min: 1, max: 5, stepSeconds: 30, switchCost: flat(Number.POSITIVE_INFINITY) });
    expect(r.path).toEqual([5, 5, 5]);
  });

  it('is empty for an empty horizon', () => {
    expect(cheapestSchedule({ required: [], current: 4, min: 1, max: 8, stepSeconds: 30, switchCost: flat(1) })).toEqual({ path: [], cost: 0, changes: 0 });
  });
});
