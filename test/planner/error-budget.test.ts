import { describe, expect, it } from 'vitest';
import { JOB_STATUS_CODE } from '../../src/observe/signals.js';
import { errorBudget, type ErrorBudgetConfig } from '../../src/planner/error-budget.js';
import { history } from '../support/twin-history.js';

const config: ErrorBudgetConfig = {
  objective: 0.98, latencySeconds: 1, windowSeconds: 6 * 3600, targetSpend: 0.5, basePrice: 120, recoverySeconds: 180,
};

/** `seconds` of 1-s samples; `bad(i)` puts second i over the latency SLO (1.5 s vs 0.5 s). */
function latencies(seconds: number, bad: (i: number) => boolean, extra: Parameters<typeof history>[1] = {}) {
  return history(seconds, { latencySeconds: (i) => (bad(i) ? 1.5 : 0.5), ...extra });
}

describe('errorBudget', () => {
  it('prices below base with no violations', () => {
    // An hour counted, nothing spent: 120 · 2^((0 − 0.5) / 0.25) = 30.
    const s = errorBudget(latencies(3600, () => false), config);
    expect(s.violations).toBe(0);
    expect(s.allowed).toBeCloseTo(72, 9);
    expect(s.spent).toBe(0);
    expect(s.price).toBeCloseTo(30, 9);
  });

  it('prices at base on the target spend and above base beyond it', () => {
    // 72 violation-seconds allowed in the hour: 36 is the target half, 54 is three quarters.
    const atTarget = errorBudget(latencies(3600, (i) => i < 36), config);
    expect(atTarget.spent).toBeCloseTo(0.5, 12);
    expect(atTarget.price).toBeCloseTo(120, 9);
    const over = errorBudget(latencies(3600, (i) => i >= 1000 && i < 1054), config);
    expect(over.violations).toBe(54);
    expect(over.spent).toBeCloseTo(0.75, 12);
    expect(over.price).toBeCloseTo(240, 9);
  });

  it('counts a missing latency neither as a violation nor as a counted second', () => {
    const s = errorBudget(history(3600, { latencySeconds: (i) => (i < 18 ? Number.NaN : 0.5) }), config);
    expect(s.violations).toBe(0);
    expect(s.allowed).toBeCloseTo(0.02 * (3600 - 18), 9);
    // An infinite latency is a reading (overloaded), and a violation.
    expect(errorBudget(history(3600, { latencySeconds: (i) => (i < 18 ? Number.POSITIVE_INFINITY : 0.5) }), config).violations).toBe(18);
  });

  it('leaves a restart and the recovery time after it out of the budget', () => {
    // Restart at 1000 (down 1000–1029); every RESTARTING second extends the exclusion by 180 s,
    // so 1000–1209 (210 s) are not counted, however slow they are.
    const down = (i: number): boolean => i >= 1000 && i < 1030;
    const extra = {
      numRestarts: (i: number) => (i >= 1000 ? 1 : 0),
      status: (i: number) => (down(i) ? JOB_STATUS_CODE.RESTARTING : JOB_STATUS_CODE.RUNNING),
    };
    const excused = errorBudget(latencies(3600, (i) => i >= 1000 && i < 1210, extra), config);
    expect(excused.violations).toBe(0);
    expect(excused.allowed).toBeCloseTo(0.02 * (3600 - 210), 9);
    expect(excused.price).toBeCloseTo(30, 9);
    // One second later is the latency budget's again.
    expect(errorBudget(latencies(3600, (i) => i >= 1000 && i < 1211, extra), config).violations).toBe(1);
  });

  it('spots a restart from the counter alone (no RESTARTING sample scraped)', () => {
    const extra = { numRestarts: (i: number) => (i >= 2000 ? 3 : 2) };
    const s = errorBudget(latencies(3600, (i) => i >= 2000 && i < 2181, extra), config);
    expect(s.violations).toBe(0); // 2000 … 2180 inclusive are excused
  });

  it('rescale downtime is not excused', () => {
    const extra = { status: (i: number) => (i >= 1000 && i < 1010 ? JOB_STATUS_CODE.RESCALING : JOB_STATUS_CODE.RUNNING) };
    const s = errorBudget(latencies(3600, (i) => i >= 1000 && i < 1010, extra), config);
    expect(s.violations).toBe(10);
  });

  it('blends a young window towards the target spend', () => {
    // 900 s of 1800: half weight on the observed spend (0), half on the target (0.5) → 0.25,
    // price 120 · 2^(−1) = 60.
    const clean = errorBudget(latencies(900, () => false), config);
    expect(clean.spent).toBeCloseTo(0.25, 12);
    expect(clean.price).toBeCloseTo(60, 9);
    // All 900 over: observed spend 900 / 18 = 50 → 0.5 · 50 + 0.25.
    const bad = errorBudget(latencies(900, () => true), config);
    expect(bad.spent).toBeCloseTo(25.25, 9);
    expect(bad.price).toBeGreaterThan(1e6);
    // No history at all: the base price.
    expect(errorBudget(history(0, {}), config)).toEqual({ violations: 0, allowed: 0, spent: 0.5, price: 120 });
  });

  it('forgets violations older than the window', () => {
    // 8 h of history, the first 2 h all over the SLO; the 6-h window sees only the clean part.
    const s = errorBudget(latencies(8 * 3600, (i) => i < 2 * 3600 - 1), config);
    expect(s.violations).toBe(0);
    expect(s.price).toBeCloseTo(30, 9);
    const short = errorBudget(latencies(8 * 3600, (i) => i < 2 * 3600 - 1), { ...config, windowSeconds: 7 * 3600 });
    // 7 h back from now = 28799 s reaches t = 3599 (inclusive): seconds 3599 … 7198 are over.
    expect(short.violations).toBe(3600);
  });
});
