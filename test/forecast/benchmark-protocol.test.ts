import { describe, expect, it } from 'vitest';
import { meanAbsoluteError, parseBenchCsv, runProtocol, trainSize, BenchInputError } from '../../src/forecast/benchmark-protocol.js';
import { EnsembleForecaster } from '../../src/forecast/forecaster.js';
import type { Forecast, Forecaster } from '../../src/forecast/types.js';

/** A forecaster whose forecast at origin i for lead k is 1000·i + k: every protocol value is known. */
function scriptedForecaster(): Forecaster & { origins: number } {
  let seen = 0;
  const f = {
    origins: 0,
    async fit(_t: readonly number[], y: readonly number[]) { seen = y.length; },
    async update(_t: readonly number[], y: readonly number[]) { seen += y.length; },
    async forecast(h: number): Promise<Forecast> {
      f.origins++;
      const mean = Array.from({ length: h }, (_, k) => 1000 * seen + k);
      return { t: [], mean, lower: mean, upper: mean, level: 0.9, weights: {} };
    },
    accuracy: () => ({ mae: null, relativeMae: null, count: 0, components: {} }),
    async close() {},
  };
  return f;
}

function series(n: number, value: (i: number) => number) {
  const t = Array.from({ length: n }, (_, i) => 1_600_000_000 + 3600 * i);
  return { dates: t.map((s) => new Date(s * 1000).toISOString()), t, y: Array.from({ length: n }, (_, i) => value(i)) };
}

describe('parseBenchCsv', () => {
  it('drops rows without a value and truncates toward zero, as astype(int) did', () => {
    const s = parseBenchCsv('date,messages\n2020-01-01 00:00:00,10.9\n2020-01-01 01:00:00,\n2020-01-01 02:00:00,nan\n2020-01-01 03:00:00,7.2\n');
    expect(s.y).toEqual([10, 7]);
    expect(s.dates).toEqual(['2020-01-01 00:00:00', '2020-01-01 03:00:00']);
    expect(s.t[1]! - s.t[0]!).toBe(3 * 3600);
  });

  it('rejects a file that is not date,messages', () => {
    expect(() => parseBenchCsv('time,value\n1,2\n')).toThrow(BenchInputError);
  });
});

describe('runProtocol', () => {
  it('splits at floor(0.8 n) like int(len * 0.8)', () => {
    expect(trainSize(263, 0.8)).toBe(210);
    expect(trainSize(10, 0.8)).toBe(8);
  });

  it('averages the forecasts made for each test point by the origins max(0, j-fh+1)..j', async () => {
    const n = 50;
    const fh = 4;
    const s = series(n, (i) => i);
    const f = scriptedForecaster();
    const result = await runProtocol(s, f, fh, 0.8);
    const nTrain = 40;
    expect(result.predictions).toHaveLength(n - nTrain);
    expect(f.origins).toBe(n - nTrain);
    result.predictions.forEach((p, j) => {
      // Origin i has seen nTrain + i values and predicts j with lead k = j - i.
      const origins = Array.from({ length: j - Math.max(0, j - fh + 1) + 1 }, (_, m) => Math.max(0, j - fh + 1) + m);
      const expected = origins.reduce((a, i) => a + 1000 * (nTrain + i) + (j - i), 0) / origins.length;
      expect(p).toBeCloseTo(expected, 9);
    });
    expect(result.actual).toEqual(s.y.slice(nTrain));
  });

  it('scores a last-value forecast of a straight line exactly', async () => {
    // y = 2i: at origin i the last value is y[nTrain+i-1]; leads 1..fh miss by 2k.
    const s = series(100, (i) => 2 * i);
    let last = 0;
    const lastValue: Forecaster = {
      async fit(_t, y) { last = y[y.length - 1]!; },
      async update(_t, y) { last = y[y.length - 1]!; },
      async forecast(h) { const mean = new Array<number>(h).fill(last); return { t: [], mean, lower: mean, upper: mean, level: 0.9, weights: {} }; },
      accuracy: () => ({ mae: null, relativeMae: null, count: 0, components: {} }),
      async close() {},
    };
    const result = await runProtocol(s, lastValue, 1, 0.8);
    expect(result.mae).toBe(2);
  });

  it('lets the ensemble forecast a purely periodic series without error', async () => {
    const s = series(24 * 20, (i) => 1000 + 500 * Math.round(Math.sin((2 * Math.PI * i) / 24) * 100) / 100);
    const f = new EnsembleForecaster({ horizonSteps: 12, mstl: false, arima: null });
    const result = await runProtocol(s, f, 12, 0.8);
    await f.close();
    expect(result.mae).toBeLessThan(1e-6);
  });

  it('computes MAE and refuses mismatched inputs', () => {
    expect(meanAbsoluteError([1, 2, 3], [2, 2, 5])).toBe(1);
    expect(() => meanAbsoluteError([1], [])).toThrow(RangeError);
  });
});
