import { minimize, minimizeCooperatively, squash, type MinimizeOptions, type MinimizeResult } from '../util/nelder-mead.js';
import type { FittedModel, ModelFamily } from './types.js';

/**
 * Seasonal ARIMA estimated by conditional sum of squares. Exact likelihood (the `arima`
 * worker) is slower by orders of magnitude at long seasons; CSS needs one O(n) pass per
 * objective evaluation, so it refits in milliseconds, and new observations only extend the
 * innovation recursion.
 */

export interface SarimaOrder {
  p: number;
  d: number;
  q: number;
  P: number;
  D: number;
  Q: number;
}

/** (1 + c1·B + c2·B² …) from factor polynomials given as coefficient lists of B^(k·stride). */
function multiply(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j] = (out[i + j] as number) + (a[i] as number) * (b[j] as number);
  return out;
}

/** 1 + Σ c_k·B^(k·stride), as dense coefficients starting at B^0. */
function lagPolynomial(coefficients: readonly number[], stride: number): number[] {
  const out = new Array<number>(coefficients.length * stride + 1).fill(0);
  out[0] = 1;
  coefficients.forEach((c, k) => { out[(k + 1) * stride] = c; });
  return out;
}

/** (1 − B)^d (1 − B^s)^D as dense coefficients. */
export function differencingPolynomial(d: number, D: number, s: number): number[] {
  let poly = [1];
  for (let i = 0; i < d; i++) poly = multiply(poly, [1, -1]);
  for (let i = 0; i < D; i++) poly = multiply(poly, lagPolynomial([-1], s));
  return poly;
}

interface ArmaPolynomials {
  /** w_t − μ = Σ ar[i]·(w_{t−i} − μ) + e_t + Σ ma[j]·e_{t−j}; index 0 unused. */
  ar: number[];
  ma: number[];
  mean: number;
  /** Lags with a non-zero coefficient: seasonal polynomials are sparse, and long seasons
   * would otherwise cost O(season) per step. */
  arLags: number[];
  maLags: number[];
}

function nonZeroLags(coefficients: readonly number[]): number[] {
  const lags: number[] = [];
  for (let i = 1; i < coefficients.length; i++) if (coefficients[i] !== 0) lags.push(i);
  return lags;
}

function polynomialsFrom(x: readonly number[], order: SarimaOrder, s: number): ArmaPolynomials {
  let k = 0;
  const take = (count: number): number[] => Array.from({ length: count }, () => squash(x[k++] as number, -0.98, 0.98));
  const phi = take(order.p);
  const bigPhi = take(order.P);
  const theta = take(order.q);
  const bigTheta = take(order.Q);
  const mean = x[k] as number;
  // AR side is 1 − φ(B)…, so its expanded coefficients enter with a flipped sign.
  const arPoly = multiply(lagPolynomial(phi.map((c) => -c), 1), lagPolynomial(bigPhi.map((c) => -c), s));
  const maPoly = multiply(lagPolynomial(theta, 1), lagPolynomial(bigTheta, s));
  const ar = arPoly.map((c) => -c);
  return { ar, ma: maPoly, mean, arLags: nonZeroLags(ar), maLags: nonZeroLags(maPoly) };
}

function difference(y: readonly number[], delta: readonly number[]): number[] {
  const out: number[] = [];
  for (let t = delta.length - 1; t < y.length; t++) {
    let w = 0;
    for (let i = 0; i < delta.length; i++) w += (delta[i] as number) * (y[t - i] as number);
    out.push(w);
  }
  return out;
}

function innovation(w: ArrayLike<number>, e: ArrayLike<number>, t: number, poly: ArmaPolynomials): number {
  let v = (w[t] as number) - poly.mean;
  for (const i of poly.arLags) if (t - i >= 0) v -= (poly.ar[i] as number) * ((w[t - i] as number) - poly.mean);
  for (const j of poly.maLags) if (t - j >= 0) v -= (poly.ma[j] as number) * (e[t - j] as number);
  return v;
}

/** `e` is scratch space of w's length (reused across evaluations: no garbage per call). */
function conditionalSumOfSquares(w: Float64Array, poly: ArmaPolynomials, burnIn: number, e: Float64Array): number {
  const arLags = Int32Array.from(poly.arLags);
  const arCoef = Float64Array.from(poly.arLags, (i) => poly.ar[i] as number);
  const maLags = Int32Array.from(poly.maLags);
  const maCoef = Float64Array.from(poly.maLags, (j) => poly.ma[j] as number);
  const mean = poly.mean;
  let sse = 0;
  for (let t = 0; t < w.length; t++) {
    let v = (w[t] as number) - mean;
    for (let a = 0; a < arLags.length; a++) {
      const lag = arLags[a] as number;
      if (t >= lag) v -= (arCoef[a] as number) * ((w[t - lag] as number) - mean);
    }
    for (let b = 0; b < maLags.length; b++) {
      const lag = maLags[b] as number;
      if (t >= lag) v -= (maCoef[b] as number) * (e[t - lag] as number);
    }
    e[t] = v;
    if (t >= burnIn) sse += v * v;
  }
  return sse;
}

export interface SarimaFit {
  model: FittedModel;
  sse: number;
}

/**
 * Fits on y scaled by its mean absolute value, so the optimiser's step size means the same on
 * every series; forecasts are scaled back.
 */
export function fitSarimaCss(y: readonly number[], order: SarimaOrder, s: number): SarimaFit | null {
  const problem = cssProblem(y, order, s);
  return problem === null ? null : problem.finish(minimize(problem.objective, problem.start, problem.options));
}

/** fitSarimaCss, yielding to the event loop while it optimises. */
export async function fitSarimaCssCooperatively(y: readonly number[], order: SarimaOrder, s: number): Promise<SarimaFit | null> {
  const problem = cssProblem(y, order, s);
  return problem === null ? null : problem.finish(await minimizeCooperatively(problem.objective, problem.start, problem.options));
}

interface CssProblem {
  objective: (x: readonly number[]) => number;
  start: number[];
  options: MinimizeOptions;
  finish: (best: MinimizeResult) => SarimaFit;
}

function cssProblem(y: readonly number[], order: SarimaOrder, s: number): CssProblem | null {
  const delta = differencingPolynomial(order.d, order.D, s);
  const arLen = order.p + order.P * s;
  const maLen = order.q + order.Q * s;
  const burnIn = Math.max(arLen, maLen);
  if (y.length < delta.length + burnIn + 2 * Math.max(s, 10)) return null;
  const scale = y.reduce((a, v) => a + Math.abs(v), 0) / y.length || 1;
  const scaled = y.map((v) => v / scale);
  const w = difference(scaled, delta);
  const wMean = w.reduce((a, v) => a + v, 0) / w.length;
  const nCoef = order.p + order.P + order.q + order.Q;
  const withMean = order.d + order.D <= 1;
  const wFast = Float64Array.from(w);
  const scratch = new Float64Array(w.length);
  const objective = (x: readonly number[]): number => conditionalSumOfSquares(wFast, polynomialsFrom(withMean ? x : [...x, 0], order, s), burnIn, scratch);
  const start = [...new Array<number>(nCoef).fill(0), ...(withMean ? [wMean] : [])];
  const finish = (best: MinimizeResult): SarimaFit => modelFrom(best, { order, s, scale, scaled, w, delta, arLen, maLen, withMean });
  return { objective, start, options: { maxEvaluations: 250 * start.length, step: 0.3 }, finish };
}

interface CssData {
  order: SarimaOrder;
  s: number;
  scale: number;
  scaled: number[];
  w: number[];
  delta: number[];
  arLen: number;
  maLen: number;
  withMean: boolean;
}

function modelFrom(best: MinimizeResult, { order, s, scale, scaled, w, delta, arLen, maLen, withMean }: CssData): SarimaFit {
  const poly = polynomialsFrom(withMean ? best.x : [...best.x, 0], order, s);

  // Running state: scaled observations, differenced values and innovations, newest last.
  const ys = [...scaled];
  const ws = [...w];
  const es = new Array<number>(ws.length).fill(0);
  for (let t = 0; t < ws.length; t++) es[t] = innovation(ws, es, t, poly);
  const keep = Math.max(delta.length, arLen + 1, maLen + 1) + 1;
  const trim = (): void => {
    // Only the last `keep` entries matter; trimming rarely keeps appends O(1) amortised.
    if (ys.length > 8 * keep + 1024) {
      ys.splice(0, ys.length - keep);
      ws.splice(0, ws.length - keep);
      es.splice(0, es.length - keep);
    }
  };

  const model: FittedModel = {
    name: orderLabel(order),
    append(v) {
      ys.push(v / scale);
      let wt = 0;
      for (let i = 0; i < delta.length; i++) wt += (delta[i] as number) * (ys[ys.length - 1 - i] as number);
      ws.push(wt);
      es.push(0);
      es[es.length - 1] = innovation(ws, es, ws.length - 1, poly);
      trim();
    },
    forecast(h) {
      const wf = [...ws.slice(-keep)];
      const ef = [...es.slice(-keep)];
      const yf = [...ys.slice(-keep)];
      const out = new Array<number>(h);
      for (let k = 0; k < h; k++) {
        wf.push(0);
        ef.push(0);
        // With the future innovation at zero, the innovation equation gives w's expectation.
        const t = wf.length - 1;
        wf[t] = -innovation(wf, ef, t, poly);
        let level = wf[t] as number;
        for (let i = 1; i < delta.length; i++) level -= (delta[i] as number) * (yf[yf.length - i] as number);
        yf.push(level);
        out[k] = level * scale;
      }
      return out;
    },
  };
  return { model, sse: best.value };
}

export const DEFAULT_SARIMA_ORDER: SarimaOrder = { p: 1, d: 0, q: 1, P: 0, D: 1, Q: 1 };

export function orderLabel(o: SarimaOrder): string {
  return o.P + o.D + o.Q === 0 ? `arima(${o.p},${o.d},${o.q})` : `sarima(${o.p},${o.d},${o.q})(${o.P},${o.D},${o.Q})`;
}

/** A CSS (S)ARIMA of one order; a seasonal order needs a detected season, a plain one does not. */
export function sarimaCssFamily(order: SarimaOrder = DEFAULT_SARIMA_ORDER): ModelFamily {
  const seasonal = order.P + order.D + order.Q > 0;
  const name = `${orderLabel(order)}-css`;
  return {
    name,
    async fit(y, season) {
      if (seasonal && season === null) return null;
      const fit = await fitSarimaCssCooperatively(y, order, seasonal ? (season as number) : 1);
      if (fit === null) return null;
      const inner = fit.model;
      return { name, append: (v) => inner.append(v), forecast: (h) => inner.forecast(h) };
    },
  };
}
