import { probit } from 'simple-statistics';
import { arimaFamily } from './arima-family.js';
import type { ArimaWorkerClient } from './arima-worker-client.js';
import { DEFAULT_COMBINATION, type CombinationRule } from './combination.js';
import { Ensemble } from './ensemble.js';
import { holtWintersFamilyFor } from './holt-winters.js';
import { mstlFamily } from './mstl-model.js';
import { lastValueFamily, seasonalNaiveFamily } from './naive-models.js';
import { BucketAccumulator, isObservation, typicalStep } from './regular-series.js';
import { quantile } from './rolling-errors.js';
import { sarimaCssFamily } from './sarima-css.js';
import { detectLongSeason, detectSeason } from './seasonality.js';
import type { Forecast, ForecastAccuracy, Forecaster, ModelFamily } from './types.js';

/**
 * phoebe's forecaster: cleans and (when long) buckets the history, detects its season, and
 * forecasts with a combination of models weighted by their recent rolling-origin errors.
 */

export class ForecastInputError extends Error {
  override readonly name = 'ForecastInputError';
}

export interface ForecasterConfig {
  /** Most model steps kept; older ones are dropped. */
  maxPoints: number;
  /**
   * Seconds per model step (observations are averaged per bucket); null keeps the input's own
   * step. A 1-second rate wants 10–30 s buckets: the same hours in far fewer points.
   */
  bucketSeconds: number | null;
  /** Seasonal periods (seconds) to prefer when the data confirms them, e.g. one day. */
  seasonCandidatesSeconds: readonly number[];
  /**
   * Whole multiples of the season that may form a second, longer one (a week over a day); it
   * is used only when the history holds two of its cycles and its autocorrelation confirms it.
   */
  longSeasonMultiples: readonly number[];
  /** Input steps ahead the combination is judged on: the horizon the forecasts serve. */
  horizonSteps: number;
  /** Coverage of the prediction interval. */
  level: number;
  /** Tail origins replayed at fit time to weight the components. */
  validationOrigins: number;
  combination: CombinationRule;
  /** Exact-likelihood ARIMA worker; null leaves that component out. */
  arima: ArimaWorkerClient | null;
  /** Include MSTL (its WebAssembly must have been initialised by the caller). */
  mstl: boolean;
  onComponentFailure?: (name: string, reason: unknown) => void;
}

export const DEFAULT_FORECASTER: ForecasterConfig = {
  maxPoints: 2000,
  bucketSeconds: null,
  seasonCandidatesSeconds: [86_400],
  longSeasonMultiples: [7],
  horizonSteps: 1,
  level: 0.9,
  validationOrigins: 200,
  combination: DEFAULT_COMBINATION,
  arima: null,
  mstl: true,
};

/**
 * Histories shorter than this get no ARIMA orders beyond the basic ones: with five or six
 * coefficients, conditional least squares on a few hundred points mostly fits noise, and each
 * order adds its fit to every refit (on a 6-hour 1-second trace bucketed to a minute, 360
 * points, the refit has a latency budget).
 */
const RICH_ORDER_MIN_POINTS = 500;

function withMinimumHistory(family: ModelFamily, minPoints: number): ModelFamily {
  return { name: family.name, fit: (y, season) => (y.length < minPoints ? null : family.fit(y, season)) };
}

/** A family fitted at a fixed period instead of the detected season, under its own name. */
function atPeriod(family: ModelFamily, period: number): ModelFamily {
  const name = `${family.name}@${period}`;
  return { name, fit: (y) => family.fit(y, period) };
}

/**
 * The components for a series with this season (and confirmed longer season). `leads`: steps
 * whose forecasts are averaged where they are used; Holt–Winters estimates its smoothing
 * weights on that averaged error rather than on the one-step error.
 */
export function componentFamilies(config: Pick<ForecasterConfig, 'arima' | 'mstl'>, season: number | null, longSeason: number | null = null, leads = 1): ModelFamily[] {
  const holtWinters = holtWintersFamilyFor(leads);
  const families: ModelFamily[] = [
    seasonalNaiveFamily,
    lastValueFamily,
    holtWinters,
    sarimaCssFamily({ p: 1, d: 0, q: 1, P: 0, D: 1, Q: 1 }),
    sarimaCssFamily({ p: 1, d: 0, q: 1, P: 1, D: 1, Q: 1 }),
    sarimaCssFamily({ p: 2, d: 1, q: 1, P: 0, D: 0, Q: 0 }),
    // Richer orders (five or six coefficients) only where the history can pin them down.
    withMinimumHistory(sarimaCssFamily({ p: 3, d: 0, q: 1, P: 0, D: 1, Q: 1 }), RICH_ORDER_MIN_POINTS),
    withMinimumHistory(sarimaCssFamily({ p: 3, d: 1, q: 1, P: 1, D: 0, Q: 0 }), RICH_ORDER_MIN_POINTS),
    withMinimumHistory(sarimaCssFamily({ p: 2, d: 1, q: 2, P: 0, D: 0, Q: 0 }), RICH_ORDER_MIN_POINTS),
  ];
  // A confirmed longer season (weekday against weekend) gets its own naive and Holt-Winters.
  if (longSeason !== null) families.push(atPeriod(seasonalNaiveFamily, longSeason), atPeriod(holtWinters, longSeason));
  // MSTL has no state update: it refits twice a season, which bounds its cost (it is the
  // costliest component; refitting 12 times a season took most of the benchmark's time and
  // scored no better, since between refits its forecast is shifted by its recent error).
  if (config.mstl) families.push(mstlFamily({ refitEvery: Math.max(2, Math.round((season ?? 24) / 2)) }));
  if (config.arima !== null) families.push(arimaFamily(config.arima));
  return families;
}

interface State {
  ensemble: Ensemble;
  buckets: BucketAccumulator;
  inputStep: number;
  lastT: number;
  season: number | null;
  longSeason: number | null;
}

export class EnsembleForecaster implements Forecaster {
  private readonly config: ForecasterConfig;
  private state: State | null = null;

  constructor(config: Partial<ForecasterConfig> = {}) {
    this.config = { ...DEFAULT_FORECASTER, ...config };
  }

  /** The season in use (in model steps) and the model step (seconds), for explanations. */
  get shape(): { season: number | null; longSeason: number | null; stepSeconds: number } | null {
    return this.state === null ? null : { season: this.state.season, longSeason: this.state.longSeason, stepSeconds: this.state.buckets.width };
  }

  async fit(t: readonly number[], y: readonly number[]): Promise<void> {
    if (t.length !== y.length) throw new ForecastInputError(`${t.length} timestamps but ${y.length} values`);
    const times: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < t.length; i++) {
      const ti = t[i] as number;
      if (Number.isFinite(ti) && (times.length === 0 || ti > (times[times.length - 1] as number))) {
        times.push(ti);
        values.push(y[i] as number);
      }
    }
    if (!values.some(isObservation)) throw new ForecastInputError('the history has no finite, non-negative value');
    const inputStep = typicalStep(times) ?? 1;
    const first = times[0] as number;
    const lastT = times[times.length - 1] as number;
    const width = this.modelStep(inputStep);
    const buckets = new BucketAccumulator(Math.floor(first / width) * width, width, inputStep);
    let grid: number[] = [];
    for (let i = 0; i < times.length; i++) grid.push(...buckets.push(times[i] as number, values[i]));
    if (grid.length > this.config.maxPoints) grid = grid.slice(grid.length - this.config.maxPoints);
    if (grid.length === 0) {
      // One bucket, still open: the mean so far stands for the whole history.
      const seen = values.filter(isObservation);
      grid = [seen.reduce((a, v) => a + v, 0) / seen.length];
    }
    const candidates = this.config.seasonCandidatesSeconds.map((s) => s / width).filter((s) => Number.isInteger(s));
    const season = detectSeason(grid, { candidates });
    const longSeason = detectLongSeason(grid, season, this.config.longSeasonMultiples);
    const served = Math.ceil((this.config.horizonSteps * inputStep) / width);
    const horizon = served + 1;
    const ensemble = await Ensemble.fit(grid, season, {
      families: componentFamilies(this.config, season, longSeason, served),
      horizon,
      averagedLeads: served,
      validationOrigins: this.config.validationOrigins,
      errorWindow: this.config.validationOrigins,
      combination: this.config.combination,
      maxMultipleOfRecentMax: 3,
      recentWindow: Math.max(2 * (season ?? 0), 4 * horizon, 50),
      ...(this.config.onComponentFailure ? { onComponentFailure: this.config.onComponentFailure } : {}),
    });
    this.state?.ensemble.dispose();
    this.state = { ensemble, buckets, inputStep, lastT, season, longSeason };
  }

  async update(t: readonly number[], y: readonly number[]): Promise<void> {
    const state = this.requireState();
    if (t.length !== y.length) throw new ForecastInputError(`${t.length} timestamps but ${y.length} values`);
    for (let i = 0; i < t.length; i++) {
      const ti = t[i] as number;
      if (!Number.isFinite(ti) || ti <= state.lastT) continue;
      state.lastT = ti;
      for (const v of state.buckets.push(ti, y[i])) state.ensemble.append(v);
    }
  }

  async forecast(h: number): Promise<Forecast> {
    const state = this.requireState();
    if (!Number.isInteger(h) || h < 1) throw new ForecastInputError(`horizon must be a positive integer, got ${h}`);
    const open = state.buckets.openIndex ?? 0;
    const times = Array.from({ length: h }, (_, k) => state.lastT + (k + 1) * state.inputStep);
    const leads = times.map((ti) => Math.max(0, state.buckets.bucketOf(ti) - open));
    const combined = await state.ensemble.forecast((leads[leads.length - 1] as number) + 1);
    const mean = leads.map((lead) => combined.mean[lead] as number);
    const { lower, upper } = this.intervals(state, leads, mean);
    return { t: times, mean, lower, upper, level: this.config.level, weights: Object.fromEntries(combined.weights) };
  }

  accuracy(): ForecastAccuracy {
    if (this.state === null) return { mae: null, relativeMae: null, count: 0, components: {} };
    const { errors } = this.state.ensemble;
    return { mae: errors.mae(), relativeMae: errors.relativeMae(), count: errors.size, components: this.state.ensemble.componentMae() };
  }

  async close(): Promise<void> {
    this.state?.ensemble.dispose();
    this.state = null;
    await this.config.arima?.close();
  }

  private requireState(): State {
    if (this.state === null) throw new ForecastInputError('forecaster used before fit');
    return this.state;
  }

  /** The bucket width: a whole number of input steps, at least the configured width. */
  private modelStep(inputStep: number): number {
    const wanted = this.config.bucketSeconds ?? inputStep;
    return wanted <= inputStep ? inputStep : Math.ceil(wanted / inputStep) * inputStep;
  }

  /**
   * Empirical intervals: quantiles of the combination's own recent errors at each lead. Until
   * enough are scored, the one-step error spread (or the series' own step-to-step spread)
   * grows with the square root of the lead, as for a random walk.
   */
  private intervals(state: State, leads: readonly number[], mean: readonly number[]): { lower: number[]; upper: number[] } {
    const tail = (1 - this.config.level) / 2;
    const errors = state.ensemble.errors;
    const firstLead = errors.at(0);
    const baseSpread = firstLead.length >= 2 ? Math.sqrt(firstLead.reduce((a, e) => a + e * e, 0) / firstLead.length) : state.ensemble.stepSpread();
    const z = probit(1 - tail);
    const lower: number[] = [];
    const upper: number[] = [];
    leads.forEach((lead, i) => {
      const m = mean[i] as number;
      const seen = errors.at(lead);
      let lo: number;
      let hi: number;
      if (seen.length >= 20) {
        lo = quantile(seen, tail);
        hi = quantile(seen, 1 - tail);
      } else {
        const spread = z * baseSpread * Math.sqrt(lead + 1);
        lo = -spread;
        hi = spread;
      }
      lower.push(Math.max(0, Math.min(m, m + lo)));
      upper.push(Math.max(m, m + hi));
    });
    return { lower, upper };
  }
}
