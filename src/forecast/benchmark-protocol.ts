import type { Forecaster } from './types.js';

/**
 * The rolling-origin protocol of the load-prediction study (EVALUATION.md §2): fit on the
 * first 80 %, then at every test origin forecast `horizon` steps with the model updated on all
 * earlier actuals, and score each test point by the mean of the forecasts that covered it.
 */

export interface BenchSeries {
  /** The `date` column as written in the file. */
  dates: string[];
  /** Unix seconds of each date (read as UTC). */
  t: number[];
  /** The values truncated to integers, as the study's `astype(int)` did. */
  y: number[];
}

export class BenchInputError extends Error {
  override readonly name = 'BenchInputError';
}

/** Reads `date,messages` text: rows without a value are dropped, values truncated toward zero. */
export function parseBenchCsv(text: string): BenchSeries {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim().split(',');
  if (header[0] !== 'date' || header[1] !== 'messages') throw new BenchInputError(`expected the header "date,messages", got "${lines[0] ?? ''}"`);
  const out: BenchSeries = { dates: [], t: [], y: [] };
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const [date = '', raw = ''] = line.split(',');
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (Number.isNaN(value)) continue;
    if (!Number.isFinite(value)) throw new BenchInputError(`line ${i + 1}: value "${raw}" is not finite`);
    const t = Date.parse(`${date.trim().replace(' ', 'T')}Z`) / 1000;
    if (!Number.isFinite(t)) throw new BenchInputError(`line ${i + 1}: date "${date}" is not a date`);
    out.dates.push(date.trim());
    out.t.push(t);
    out.y.push(Math.trunc(value));
  }
  return out;
}

/** The study's split: int(len · ratio) rows for fitting. */
export function trainSize(n: number, ratio: number): number {
  return Math.floor(n * ratio);
}

export interface ProtocolResult {
  /** One prediction per test row, in order. */
  predictions: number[];
  actual: number[];
  mae: number;
  fitSeconds: number;
  /** Wall time of every update plus the forecast that follows it (the published "tune" time × test rows). */
  updateSeconds: number;
}

export async function runProtocol(series: BenchSeries, forecaster: Forecaster, horizon: number, ratio: number, now: () => number = () => performance.now()): Promise<ProtocolResult> {
  if (!Number.isInteger(horizon) || horizon < 1) throw new BenchInputError(`horizon must be a positive integer, got ${horizon}`);
  if (!(ratio > 0 && ratio < 1)) throw new BenchInputError(`split must be between 0 and 1, got ${ratio}`);
  const nTrain = trainSize(series.y.length, ratio);
  const nTest = series.y.length - nTrain;
  if (nTrain < 2 || nTest < 1) throw new BenchInputError(`${series.y.length} rows are too few to split at ${ratio}`);

  const fitStart = now();
  await forecaster.fit(series.t.slice(0, nTrain), series.y.slice(0, nTrain));
  const fitSeconds = (now() - fitStart) / 1000;

  const sums = new Array<number>(nTest).fill(0);
  const counts = new Array<number>(nTest).fill(0);
  const updateStart = now();
  for (let i = 0; i < nTest; i++) {
    if (i > 0) await forecaster.update([series.t[nTrain + i - 1] as number], [series.y[nTrain + i - 1] as number]);
    const { mean } = await forecaster.forecast(horizon);
    for (let k = 0; k < horizon && i + k < nTest; k++) {
      sums[i + k] = (sums[i + k] as number) + (mean[k] as number);
      counts[i + k] = (counts[i + k] as number) + 1;
    }
  }
  const updateSeconds = (now() - updateStart) / 1000;

  const actual = series.y.slice(nTrain);
  const predictions = sums.map((s, j) => s / (counts[j] as number));
  return { predictions, actual, mae: meanAbsoluteError(predictions, actual), fitSeconds, updateSeconds };
}

export function meanAbsoluteError(predicted: readonly number[], actual: readonly number[]): number {
  if (predicted.length !== actual.length || actual.length === 0) throw new RangeError('MAE needs two non-empty series of equal length');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs((predicted[i] as number) - (actual[i] as number));
  return sum / actual.length;
}
