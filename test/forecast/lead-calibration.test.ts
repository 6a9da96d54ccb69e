import { describe, expect, it } from 'vitest';
import { LeadCalibration } from '../../src/forecast/lead-calibration.js';

/**
 * Plays a forecaster that always predicts `predict` for the next `leads` values against the
 * series `actual`: before value j is known a forecast with origin j is remembered, then value j
 * arrives and is scored. Returns the calibration and the values.
 */
function play(actual: readonly number[], options: { leads?: number; window?: number; level?: number; predict?: number; scale?: number } = {}) {
  const leads = options.leads ?? 3;
  const cal = new LeadCalibration(leads, options.window ?? 100, options.level ?? 0.9);
  const values: number[] = [];
  for (let j = 0; j < actual.length; j++) {
    cal.remember(j, new Array<number>(leads).fill(options.predict ?? 0));
    values.push(actual[j] as number);
    cal.observe(values, options.scale ?? 1);
  }
  return { cal, values };
}

const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);

describe('LeadCalibration', () => {
  it('scores each remembered forecast once per lead, when its value arrives', () => {
    const { cal } = play(oneToTwenty);
    // Lead 0 is scored for values 0…19, lead 1 for 1…19, lead 2 for 2…19.
    expect([cal.count(0), cal.count(1), cal.count(2)]).toEqual([20, 19, 18]);
  });

  it('falls back before minErrors per lead: the fallback upper (never below the mean), the mean itself', () => {
    const fresh = new LeadCalibration(3, 100, 0.9);
    expect(fresh.upper([100, 100, 100], 1, [150, 90, 120])).toEqual([150, 100, 120]);
    expect(fresh.median([100, 100, 100], 1)).toEqual([100, 100, 100]);
    // With 20 errors at lead 0 and 19, 18 at leads 1, 2: only lead 0 is calibrated.
    const { cal } = play(oneToTwenty);
    expect(cal.upper([100, 100, 100], 1, [150, 150, 150])).toEqual([119, 150, 150]);
    expect(cal.median([100, 100, 100], 1)).toEqual([111, 100, 100]);
    // A smaller minErrors calibrates leads 1 and 2 too: errors 2…20 and 3…20.
    expect(cal.upper([100, 100, 100], 1, [150, 150, 150], 18)).toEqual([119, 119, 119]);
  });

  it('puts the upper bound at the 0.9 quantile of the errors (index ⌊0.9·n⌋ of the sorted errors)', () => {
    // Errors 1…20 (actual i + 1 against a forecast of 0), shuffled order must not matter.
    const shuffled = [7, 19, 3, 12, 20, 1, 15, 9, 5, 17, 11, 2, 14, 8, 18, 4, 10, 16, 6, 13];
    const { cal } = play(shuffled, { leads: 1 });
    expect(cal.upper([50], 1, [0])).toEqual([50 + 19]);
    const { cal: cal50 } = play(shuffled, { leads: 1, level: 0.5 });
    expect(cal50.upper([50], 1, [0])).toEqual([50 + 11]);
  });

  it('corrects the mean by the median error (a biased forecaster)', () => {
    // The forecaster says 100; the truth is 90, 92, 94, … : errors −10, −8, … +28 (20 of them).
    const actual = Array.from({ length: 20 }, (_, i) => 90 + 2 * i);
    const { cal } = play(actual, { leads: 1, predict: 100 });
    // Sorted errors −10 … 28 in steps of 2; index 10 → +10.
    expect(cal.median([100], 1)).toEqual([110]);
    // Index 18 → +26.
    expect(cal.upper([100], 1, [0])).toEqual([126]);
  });

  it('never lets the corrected mean go negative nor the upper bound below the mean', () => {
    // Always 5 too high: errors −5.
    const { cal } = play(new Array<number>(25).fill(0), { leads: 1, predict: 5 });
    expect(cal.median([3], 1)).toEqual([0]);
    expect(cal.upper([3], 1, [0])).toEqual([3]);
  });

  it('measures errors relative to the scale and re-scales them to the current one', () => {
    // Errors 1…20 seen at scale 10 are 0.1…2.0; at scale 20 the 0.9 quantile (1.9) is 38.
    const { cal } = play(oneToTwenty, { leads: 1, scale: 10 });
    expect(cal.upper([100], 20, [0])[0]).toBeCloseTo(138, 9);
    expect(cal.median([100], 20)[0]).toBeCloseTo(100 + 1.1 * 20, 9);
    // A scale of 0 is taken as 1 (absolute errors).
    const { cal: abs } = play(oneToTwenty, { leads: 1, scale: 0 });
    expect(abs.upper([100], 0, [0])).toEqual([119]);
  });

  it('keeps only the newest `window` errors per lead', () => {
    const oneToForty = Array.from({ length: 40 }, (_, i) => i + 1);
    const { cal } = play(oneToForty, { leads: 1, window: 20 });
    expect(cal.count(0)).toBe(20);
    // Errors 21…40 remain: index 18 → 39 (with all forty it would be 37).
    expect(cal.upper([0], 1, [0])).toEqual([39]);
  });

  it('a forecast remembered again for the same origin replaces the earlier one', () => {
    const cal = new LeadCalibration(1, 100, 0.9);
    const values: number[] = [];
    for (let j = 0; j < 20; j++) {
      cal.remember(j, [1000]); // superseded
      cal.remember(j, [j]); // exact
      values.push(j);
      cal.observe(values, 1);
    }
    expect(cal.count(0)).toBe(20);
    expect(cal.upper([7], 1, [0])).toEqual([7]);
    expect(cal.median([7], 1)).toEqual([7]);
  });

  it('uses the last lead for longer forecasts', () => {
    const { cal } = play(oneToTwenty, { leads: 1 });
    expect(cal.upper([100, 100, 100], 1, [0, 0, 0])).toEqual([119, 119, 119]);
  });
});
