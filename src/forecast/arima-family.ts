import type { ArimaOrderSpec } from './arima-messages.js';
import type { ArimaWorkerClient } from './arima-worker-client.js';
import type { FittedModel, ModelFamily } from './types.js';

/**
 * Exact-likelihood (S)ARIMA from the `arima` package, run in the replaceable worker. Its fit
 * grows steeply with the season length (tens of seconds at s = 96), so seasons above
 * `maxSeason` get a non-seasonal model instead; the window stays far below the package's
 * ~8,000-point limit.
 */

export interface ArimaFamilyOptions {
  maxSeason: number;
  /** Fit on at most this many of the newest values. */
  maxPoints: number;
  seasonal: Omit<ArimaOrderSpec, 's'>;
  nonSeasonal: Omit<ArimaOrderSpec, 's' | 'P' | 'D' | 'Q'>;
}

export const DEFAULT_ARIMA_FAMILY: ArimaFamilyOptions = {
  maxSeason: 48,
  maxPoints: 2000,
  seasonal: { p: 1, d: 0, q: 1, P: 0, D: 1, Q: 1 },
  nonSeasonal: { p: 2, d: 1, q: 1 },
};

/** The package refuses or breaks beyond this; stay well inside. */
const ARIMA_POINT_LIMIT = 7000;

export function arimaFamily(client: ArimaWorkerClient, options: Partial<ArimaFamilyOptions> = {}): ModelFamily {
  const o = { ...DEFAULT_ARIMA_FAMILY, ...options };
  return {
    name: 'arima-exact',
    async fit(y, season) {
      const seasonal = season !== null && season <= o.maxSeason;
      const order: ArimaOrderSpec = seasonal ? { ...o.seasonal, s: season } : { ...o.nonSeasonal, P: 0, D: 0, Q: 0, s: 0 };
      const minimum = seasonal ? 3 * season + 10 : 30;
      const length = Math.min(y.length, o.maxPoints, ARIMA_POINT_LIMIT);
      if (length < minimum) return null;
      const window = y.slice(y.length - length);
      const key = client.newKey();
      await client.request({ type: 'fit', key, series: window, order });
      const model: FittedModel = {
        name: 'arima-exact',
        append(v) {
          window.push(v);
          window.shift();
        },
        forecast: (h) => client.request({ type: 'predict', key, window, horizon: h }),
        dispose: () => client.release(key),
      };
      return model;
    },
  };
}
