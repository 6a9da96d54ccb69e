import { describe, expect, it } from 'vitest';
import { ArimaWorkerClient } from '../../src/forecast/arima-worker-client.js';
import { EnsembleForecaster, ForecastInputError } from '../../src/forecast/forecaster.js';
import { expectSane } from '../support/forecast-checks.js';

const hourly = (n: number) => Array.from({ length: n }, (_, i) => 1_700_000_000 + 3600 * i);
const daily = (i: number) => 1000 + 400 * Math.sin((2 * Math.PI * i) / 24) + 30 * Math.sin(i * 1.7);

describe('EnsembleForecaster on bad input', () => {
  it('refuses an empty history and a history with no usable value', async () => {
    const f = new EnsembleForecaster({ mstl: false });
    await expect(f.fit([], [])).rejects.toThrow(ForecastInputError);
    await expect(f.fit([1, 2, 3], [Number.NaN, -5, Number.POSITIVE_INFINITY])).rejects.toThrow(ForecastInputError);
    await expect(f.fit([1, 2], [1])).rejects.toThrow(ForecastInputError);
    await expect(f.forecast(3)).rejects.toThrow(ForecastInputError);
  });

  it('forecasts a constant series as that constant', async () => {
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 6 });
    await f.fit(hourly(200), new Array<number>(200).fill(42));
    const out = await f.forecast(6);
    expectSane(out, 6);
    for (const v of out.mean) expect(v).toBeCloseTo(42, 6);
  });

  it('treats NaN and negative values (counter resets) as gaps, not as workload', async () => {
    const y = Array.from({ length: 24 * 10 }, (_, i) => daily(i));
    for (const i of [30, 31, 100, 200, 239]) y[i] = Number.NaN;
    for (const i of [50, 150]) y[i] = -1e9;
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 12 });
    await f.fit(hourly(y.length), y);
    await f.update([hourly(y.length + 1)[y.length]!], [-3]);
    const out = await f.forecast(12);
    expectSane(out, 12);
    expect(Math.max(...out.mean)).toBeLessThan(2000);
    expect(Math.min(...out.mean)).toBeGreaterThan(300);
  });

  it('copes with a history too short for its season, and with a single point', async () => {
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 4 });
    await f.fit(hourly(30), Array.from({ length: 30 }, (_, i) => daily(i)));
    expect(f.shape?.season).toBeNull();
    expectSane(await f.forecast(4), 4);
    await f.fit([1000], [7]);
    const one = await f.forecast(3);
    expectSane(one, 3);
    expect(one.mean).toEqual([7, 7, 7]);
  });

  it('fills gaps in time by carrying the last value, so the grid stays regular', async () => {
    const t = hourly(24 * 10).filter((_, i) => i % 17 !== 5);
    const y = t.map((s) => daily((s - 1_700_000_000) / 3600));
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 12 });
    await f.fit(t, y);
    expect(f.shape).toEqual({ season: 24, longSeason: null, stepSeconds: 3600 });
    expectSane(await f.forecast(12), 12);
  });
});

describe('EnsembleForecaster behaviour', () => {
  it('finds the season in the data without being told, and reports rolling accuracy', async () => {
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 6, seasonCandidatesSeconds: [] });
    const y = Array.from({ length: 24 * 12 }, (_, i) => daily(i));
    await f.fit(hourly(y.length), y);
    expect(f.shape?.season).toBe(24);
    const acc = f.accuracy();
    expect(acc.count).toBeGreaterThan(0);
    expect(acc.relativeMae).not.toBeNull();
    expect(acc.relativeMae!).toBeLessThan(0.1);
  });

  it('confirms a weekly season (weekdays against weekends) and forecasts the weekend from a week ago', async () => {
    // Weekdays follow the daily curve; the two weekend days stay low. A day-ago forecast gets
    // the first weekend hours wrong; a week-ago one does not.
    const weekly = (i: number) => (Math.floor(i / 24) % 7 >= 5 ? 300 + 20 * Math.sin(i * 1.3) : daily(i));
    const n = 24 * 7 * 3 + 24 * 5; // ends on a Friday night: the weekend is next
    const y = Array.from({ length: n }, (_, i) => weekly(i));
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 12 });
    await f.fit(hourly(n), y);
    expect(f.shape?.longSeason).toBe(168);
    const out = await f.forecast(12);
    expectSane(out, 12);
    const truth = Array.from({ length: 12 }, (_, k) => weekly(n + k));
    const mae = truth.reduce((a, v, k) => a + Math.abs(v - out.mean[k]!), 0) / 12;
    const dayAgoMae = truth.reduce((a, v, k) => a + Math.abs(v - y[n + k - 24]!), 0) / 12;
    expect(dayAgoMae).toBeGreaterThan(500);
    expect(mae).toBeLessThan(0.25 * dayAgoMae);
    expect(Object.keys(out.weights)).toContain('seasonal-naive@168');
  });

  it('uses no weekly season when the history holds less than two weeks', async () => {
    const f = new EnsembleForecaster({ mstl: false, horizonSteps: 12 });
    const y = Array.from({ length: 24 * 13 }, (_, i) => daily(i));
    await f.fit(hourly(y.length), y);
    expect(f.shape).toMatchObject({ season: 24, longSeason: null });
  });

  it('keeps working when the ARIMA worker fails: the component drops out, the forecast stays sane', async () => {
    const failures: string[] = [];
    const client = new ArimaWorkerClient({ timeoutMs: 1 });
    const f = new EnsembleForecaster({ mstl: false, arima: client, horizonSteps: 6, onComponentFailure: (name) => failures.push(name) });
    const y = Array.from({ length: 24 * 10 }, (_, i) => daily(i));
    await f.fit(hourly(y.length), y);
    expectSane(await f.forecast(6), 6);
    expect(failures).toContain('arima-exact');
    expect(Object.keys(f.accuracy().components)).not.toContain('arima-exact');
    await f.close();
  });
});
