/**
 * Seasonal period detection by autocorrelation. Nothing about the period is assumed: a
 * preferred candidate (a day, when the caller knows the sampling) is confirmed by the data or
 * dropped, and without one the strongest autocorrelation peak is taken if it is clear enough.
 */

export interface SeasonalityOptions {
  /** Periods (in steps) to prefer when the data supports them, best first. */
  candidates?: readonly number[];
  /** Smallest autocorrelation that counts as a season. */
  minCorrelation?: number;
  /** Cycles of a period the history must hold for the period to be considered. */
  minCycles?: number;
}

/**
 * Autocorrelation of y at lags 1..maxLag after removing a straight-line trend, which would
 * otherwise make every lag look correlated.
 */
export function autocorrelation(y: readonly number[], maxLag: number): number[] {
  const n = y.length;
  const xMean = (n - 1) / 2;
  const yMean = y.reduce((a, v) => a + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - xMean) * ((y[i] as number) - yMean);
    sxx += (i - xMean) * (i - xMean);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const r = y.map((v, i) => v - yMean - slope * (i - xMean));
  let denominator = 0;
  for (const v of r) denominator += v * v;
  const acf = [1];
  for (let lag = 1; lag <= maxLag; lag++) {
    let s = 0;
    for (let i = lag; i < n; i++) s += (r[i] as number) * (r[i - lag] as number);
    acf.push(denominator > 0 ? s / denominator : 0);
  }
  return acf;
}

/** The seasonal period in steps, or null when the series shows none. */
export function detectSeason(y: readonly number[], options: SeasonalityOptions = {}): number | null {
  const minCorrelation = options.minCorrelation ?? 0.3;
  const minCycles = options.minCycles ?? 2;
  const maxLag = Math.floor(y.length / minCycles);
  if (maxLag < 2) return null;
  const acf = autocorrelation(y, maxLag);
  for (const c of options.candidates ?? []) {
    if (Number.isInteger(c) && c >= 2 && c <= maxLag && (acf[c] as number) >= minCorrelation) return c;
  }
  // The strongest local maximum after the first dip: short lags correlate on any smooth series.
  let lag = 1;
  while (lag < maxLag && (acf[lag + 1] as number) < (acf[lag] as number)) lag++;
  let best: number | null = null;
  for (let k = Math.max(2, lag); k < maxLag; k++) {
    const v = acf[k] as number;
    if (v >= minCorrelation && v >= (acf[k - 1] as number) && v >= (acf[k + 1] as number) && (best === null || v > (acf[best] as number))) best = k;
  }
  return best;
}

/**
 * The longest of `multiples`·season the data confirm as a second, longer season (a week over a
 * day): the history must hold two of its cycles, and its autocorrelation must reach the same
 * bar a season has to. Null when none is confirmed.
 */
export function detectLongSeason(y: readonly number[], season: number | null, multiples: readonly number[], minCorrelation = 0.3): number | null {
  if (season === null) return null;
  const periods = multiples.map((m) => m * season).filter((p) => Number.isInteger(p) && p > season && 2 * p <= y.length).sort((a, b) => b - a);
  if (periods.length === 0) return null;
  const acf = autocorrelation(y, periods[0] as number);
  return periods.find((p) => (acf[p] as number) >= minCorrelation) ?? null;
}
