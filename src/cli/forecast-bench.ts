import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ArimaWorkerClient } from '../forecast/arima-worker-client.js';
import { BenchInputError, parseBenchCsv, runProtocol, type BenchSeries, type ProtocolResult } from '../forecast/benchmark-protocol.js';
import { EnsembleForecaster } from '../forecast/forecaster.js';
import { typicalStep } from '../forecast/regular-series.js';
import { loadAugursMstl } from './load-augurs.js';
import { UserError } from '../util/user-error.js';

interface ForecastBenchOptions {
  input: string;
  horizon: number;
  season: number;
  split: number;
  output: string;
  json?: string;
}

/** What `--json` writes: the figures the benchmark script tabulates. */
export interface ForecastBenchSummary {
  input: string;
  horizon: number;
  season: number;
  split: number;
  trainRows: number;
  testRows: number;
  mae: number;
  fitSeconds: number;
  updateSeconds: number;
  /** The season the forecaster confirmed in the data (model steps), or null. */
  detectedSeason: number | null;
  /** The longer season (a week) the forecaster confirmed in the data, or null. */
  detectedLongSeason: number | null;
  /** Each component's rolling MAE at the end (over its last scored origins). */
  componentMae: Record<string, number | null>;
}

export function registerForecastBench(program: Command): void {
  program
    .command('forecast-bench')
    .description('score the forecaster with the rolling-origin protocol of the load-prediction study (EVALUATION.md §2)')
    .requiredOption('--input <file>', 'series as "date,messages" CSV')
    .requiredOption('--horizon <steps>', 'steps forecast at each test origin (12 for 1 h, 4 for 15 min, 1 for 5 min)', positiveInteger)
    .requiredOption('--season <steps>', 'seasonal period to test for, in steps (one day: 24, 96, 288)', positiveInteger)
    .option('--split <ratio>', 'fraction of rows used for fitting', splitRatio, 0.8)
    .requiredOption('--output <file>', 'where to write "date,t,phoebe", one row per test point')
    .option('--json <file>', 'also write the summary as JSON')
    .action(async (options: ForecastBenchOptions) => {
      const summary = await forecastBench(options);
      process.stdout.write(
        `${options.input}: MAE ${summary.mae.toFixed(3)} over ${summary.testRows} test rows; ` +
          `fit ${summary.fitSeconds.toFixed(3)} s, updates ${summary.updateSeconds.toFixed(3)} s; ` +
          `season ${summary.detectedSeason ?? 'none'}, long season ${summary.detectedLongSeason ?? 'none'}\n`,
      );
    });
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function splitRatio(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

function readSeries(path: string): BenchSeries {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseBenchCsv(text);
  } catch (err) {
    if (err instanceof BenchInputError) throw new UserError(`${path}: ${err.message}`);
    throw err;
  }
}

export async function forecastBench(options: ForecastBenchOptions): Promise<ForecastBenchSummary> {
  const series = readSeries(options.input);
  const step = typicalStep(series.t);
  if (step === null) throw new UserError(`${options.input}: needs at least two dated rows`);
  loadAugursMstl();
  const forecaster = new EnsembleForecaster({
    horizonSteps: options.horizon,
    seasonCandidatesSeconds: [options.season * step],
    arima: new ArimaWorkerClient({ timeoutMs: 60_000 }),
    mstl: true,
  });
  let result: ProtocolResult;
  let detectedSeason: number | null;
  let detectedLongSeason: number | null;
  let componentMae: Record<string, number | null>;
  try {
    result = await runProtocol(series, forecaster, options.horizon, options.split);
    detectedSeason = forecaster.shape?.season ?? null;
    detectedLongSeason = forecaster.shape?.longSeason ?? null;
    componentMae = { ...forecaster.accuracy().components };
  } catch (err) {
    if (err instanceof BenchInputError) throw new UserError(`${options.input}: ${err.message}`);
    throw err;
  } finally {
    await forecaster.close();
  }
  const trainRows = series.y.length - result.actual.length;
  const rows = result.predictions.map((p, j) => `${series.dates[trainRows + j] as string},${result.actual[j] as number},${p}`);
  writeFileSync(options.output, `date,t,phoebe\n${rows.join('\n')}\n`);
  const summary: ForecastBenchSummary = {
    input: options.input,
    horizon: options.horizon,
    season: options.season,
    split: options.split,
    trainRows,
    testRows: result.actual.length,
    mae: result.mae,
    fitSeconds: result.fitSeconds,
    updateSeconds: result.updateSeconds,
    detectedSeason,
    detectedLongSeason,
    componentMae,
  };
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
