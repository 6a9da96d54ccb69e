import { expect } from 'vitest';
import type { Forecast } from '../../src/forecast/types.js';

/** A usable forecast of `h` steps: finite, non-negative, lower ≤ mean ≤ upper at every step. */
export function expectSane(f: Forecast, h: number): void {
  expect(f.mean).toHaveLength(h);
  expect(f.t).toHaveLength(h);
  for (let k = 0; k < h; k++) {
    for (const v of [f.mean[k]!, f.lower[k]!, f.upper[k]!]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(f.lower[k]!).toBeLessThanOrEqual(f.mean[k]!);
    expect(f.upper[k]!).toBeGreaterThanOrEqual(f.mean[k]!);
  }
}
