import { minimize, minimizeCooperatively, squash, unsquash, type MinimizeResult } from '../util/nelder-mead.js';
import type { FittedModel, ModelFamily } from './types.js';

/**
 * Seasonal exponential smoothing (Holt–Winters), additive or multiplicative seasonality, with
 * or without a damped additive trend. The published study's winner in half of the cells was
 * this model family; no installed library offers a seasonal variant, so it is written here.
 * Smoothing weights are estimated once by minimising the in-sample one-step squared error;
 * afterwards each observation only advances the states.
 */

export type SeasonalForm = 'add' | 'mul';

export interface HoltWintersSpec {
  seasonal: SeasonalForm;
  trend: boolean;
}

export interface HoltWintersParams extends HoltWintersSpec {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

interface State {
  level: number;
  trend: number;
  /** season[i] belongs to steps ≡ i (mod m) counted from the series start. */
  season: Float64Array;
  /** Index of the next observation (its seasonal slot is step % m). */
  step: number;
}

function initialState(y: readonly number[], m: number, spec: HoltWintersSpec): State {
  const seasons = Math.min(Math.floor(y.length / m), 4);
  const means: number[] = [];
  for (let k = 0; k < seasons; k++) {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += y[k * m + i] as number;
    means.push(sum / m);
  }
  const first = means[0] as number;
  const season = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let acc = 0;
    for (let k = 0; k < seasons; k++) {
      const v = y[k * m + i] as number;
      const mean = means[k] as number;
      acc += spec.seasonal === 'add' ? v - mean : v / mean;
    }
    season[i] = acc / seasons;
  }
  const trend = spec.trend && seasons >= 2 ? ((means[seasons - 1] as number) - first) / ((seasons - 1) * m) : 0;
  // The level starts where the first season's mean sits, half a season before its centre.
  return { level: first - trend * (m - 1) / 2, trend, season, step: 0 };
}

function forecastFrom(state: State, p: HoltWintersParams, m: number, h: number): number[] {
  const out = new Array<number>(h);
  let damp = 0;
  let phiPower = 1;
  for (let k = 0; k < h; k++) {
    phiPower *= p.phi;
    damp += phiPower;
    const base = state.level + (p.trend ? damp * state.trend : 0);
    const s = state.season[(state.step + k) % m] as number;
    out[k] = p.seasonal === 'add' ? base + s : base * s;
  }
  return out;
}

/** Advances the states by one observation and returns the one-step error made before it. */
function advance(state: State, p: HoltWintersParams, m: number, y: number): number {
  const slot = state.step % m;
  const s = state.season[slot] as number;
  const base = state.level + (p.trend ? p.phi * state.trend : 0);
  const predicted = p.seasonal === 'add' ? base + s : base * s;
  const deseasonalised = p.seasonal === 'add' ? y - s : y / s;
  const level = p.alpha * deseasonalised + (1 - p.alpha) * base;
  if (p.trend) state.trend = p.beta * (level - state.level) + (1 - p.beta) * p.phi * state.trend;
  state.season[slot] = p.seasonal === 'add' ? p.gamma * (y - level) + (1 - p.gamma) * s : p.gamma * (y / level) + (1 - p.gamma) * s;
  state.level = level;
  state.step++;
  return y - predicted;
}

function cloneState(s: State): State {
  return { level: s.level, trend: s.trend, season: s.season.slice(), step: s.step };
}

function sumSquaredErrors(y: readonly number[], m: number, p: HoltWintersParams, init: State): number {
  const state = cloneState(init);
  let sse = 0;
  for (let i = 0; i < y.length; i++) {
    const e = advance(state, p, m, y[i] as number);
    // The first season only calibrates the initial seasonal states; its errors say little.
    if (i >= m) sse += e * e;
  }
  return sse;
}

/**
 * In-sample squared error of the lead-averaged forecast: each target is predicted by the mean
 * of the forecasts made for it from the `leads` origins before it, the way decisions (and the
 * published protocol) use the forecasts. With leads = 1 this is the one-step error.
 *
 * Cheap because leads ≤ m: the target's seasonal state is not updated between those origins,
 * so the average is (mean over the origins of level + damped trend) with that seasonal state;
 * the levels' mean is a running sum, the damped trends a short weighted sum.
 */
function sumSquaredAveragedErrors(y: readonly number[], m: number, p: HoltWintersParams, init: State, leads: number): number {
  const L = Math.min(leads, m);
  if (L <= 1) return sumSquaredErrors(y, m, p, init);
  const state = cloneState(init);
  const levels = new Float64Array(L);
  const trends = new Float64Array(L);
  // damp[k]: the trend's multiplier k + 1 steps ahead (φ + φ² + … + φ^(k+1)).
  const damp = new Float64Array(L);
  let phiPower = 1;
  let acc = 0;
  for (let k = 0; k < L; k++) {
    phiPower *= p.phi;
    acc += phiPower;
    damp[k] = acc;
  }
  let levelSum = 0;
  let sse = 0;
  for (let i = 0; i < y.length; i++) {
    const r = i % L;
    levelSum += state.level - (levels[r] as number);
    levels[r] = state.level;
    trends[r] = state.trend;
    const count = Math.min(i + 1, L);
    let base = levelSum;
    if (p.trend) for (let k = 0; k < count; k++) base += (damp[k] as number) * (trends[(i - k + L) % L] as number);
    base /= count;
    const s = state.season[state.step % m] as number;
    const e = (y[i] as number) - (p.seasonal === 'add' ? base + s : base * s);
    advance(state, p, m, y[i] as number);
    // The first season only calibrates the initial seasonal states; its errors say little.
    if (i >= m) sse += e * e;
  }
  return sse;
}

/** The same error computed the slow way, forecasting every lead at every origin (for tests). */
export function averagedErrorsDirect(y: readonly number[], m: number, params: HoltWintersParams, leads: number): number {
  const state = initialState(y, m, params);
  const sums = new Float64Array(y.length + leads);
  const counts = new Float64Array(y.length + leads);
  let sse = 0;
  for (let i = 0; i < y.length; i++) {
    forecastFrom(state, params, m, leads).forEach((f, k) => {
      sums[i + k] = (sums[i + k] as number) + f;
      counts[i + k] = (counts[i + k] as number) + 1;
    });
    const e = (y[i] as number) - (sums[i] as number) / (counts[i] as number);
    advance(state, params, m, y[i] as number);
    if (i >= m) sse += e * e;
  }
  return sse;
}

/** The fast averaged error, exported for the test that checks it against the direct one. */
export function averagedErrors(y: readonly number[], m: number, params: HoltWintersParams, leads: number): number {
  return sumSquaredAveragedErrors(y, m, params, initialState(y, m, params), leads);
}

function paramsFrom(u: readonly number[], spec: HoltWintersSpec): HoltWintersParams {
  const alpha = squash(u[0] as number, 0.001, 0.999);
  const gamma = squash(u[1] as number, 0.001, 0.999) * (1 - alpha);
  if (!spec.trend) return { ...spec, alpha, gamma, beta: 0, phi: 1 };
  return { ...spec, alpha, gamma, beta: squash(u[2] as number, 0.001, 0.5) * alpha, phi: squash(u[3] as number, 0.8, 0.995) };
}

export interface HoltWintersFit {
  params: HoltWintersParams;
  /** In-sample sum of squared (lead-averaged) errors after the first season. */
  sse: number;
  /** Akaike's criterion on the same errors, for choosing between forms. */
  aic: number;
  model: FittedModel;
}

export function fitHoltWinters(y: readonly number[], m: number, spec: HoltWintersSpec, leads = 1): HoltWintersFit | null {
  const problem = holtWintersProblem(y, m, spec, leads);
  return problem === null ? null : problem.finish(minimize(problem.objective, problem.start, problem.options));
}

/** fitHoltWinters, yielding to the event loop while it optimises. */
export async function fitHoltWintersCooperatively(y: readonly number[], m: number, spec: HoltWintersSpec, leads = 1): Promise<HoltWintersFit | null> {
  const problem = holtWintersProblem(y, m, spec, leads);
  return problem === null ? null : problem.finish(await minimizeCooperatively(problem.objective, problem.start, problem.options));
}

function holtWintersProblem(y: readonly number[], m: number, spec: HoltWintersSpec, leads: number) {
  if (m < 2 || y.length < 2 * m + 2) return null;
  if (spec.seasonal === 'mul' && y.some((v) => !(v > 0))) return null;
  const init = initialState(y, m, spec);
  const start = spec.trend ? [unsquash(0.3, 0.001, 0.999), unsquash(0.1, 0.001, 0.999), unsquash(0.1, 0.001, 0.5), unsquash(0.95, 0.8, 0.995)] : [unsquash(0.3, 0.001, 0.999), unsquash(0.1, 0.001, 0.999)];
  const objective = (u: readonly number[]): number => sumSquaredAveragedErrors(y, m, paramsFrom(u, spec), init, leads);
  const finish = (best: MinimizeResult): HoltWintersFit => {
    const params = paramsFrom(best.x, spec);
    const state = cloneState(init);
    for (const v of y) advance(state, params, m, v);
    const scored = y.length - m;
    const k = start.length + m + 1;
    const aic = scored * Math.log(Math.max(best.value, 1e-300) / scored) + 2 * k;
    const name = `holt-winters-${spec.seasonal}${spec.trend ? '-damped' : ''}`;
    const model: FittedModel = {
      name,
      append(v) { advance(state, params, m, v); },
      forecast: (h) => forecastFrom(state, params, m, h),
    };
    return { params, sse: best.value, aic, model };
  };
  return { objective, start, options: { maxEvaluations: 300 * start.length, step: 1 }, finish };
}

const SPECS: readonly HoltWintersSpec[] = [
  { seasonal: 'add', trend: false },
  { seasonal: 'mul', trend: false },
  { seasonal: 'add', trend: true },
  { seasonal: 'mul', trend: true },
];

/**
 * Holt–Winters with its form (additive or multiplicative, trend or not) chosen by AIC; `leads`
 * > 1 estimates the smoothing weights on the lead-averaged error instead of the one-step one.
 */
export function holtWintersFamilyFor(leads = 1): ModelFamily {
  const name = 'holt-winters';
  return {
    name,
    async fit(y, season) {
      if (season === null) return null;
      let chosen: HoltWintersFit | null = null;
      for (const spec of SPECS) {
        const fit = await fitHoltWintersCooperatively(y, season, spec, leads);
        if (fit !== null && (chosen === null || fit.aic < chosen.aic)) chosen = fit;
      }
      if (chosen === null) return null;
      const inner = chosen.model;
      return { name, append: (v) => inner.append(v), forecast: (h) => inner.forecast(h) };
    },
  };
}

/** Holt–Winters with its form chosen by AIC, weights estimated on the one-step error. */
export const holtWintersFamily: ModelFamily = holtWintersFamilyFor(1);
