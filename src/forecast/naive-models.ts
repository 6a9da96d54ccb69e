import type { FittedModel, ModelFamily } from './types.js';

/**
 * The two baselines of the published study: the last observed value, and the value one
 * season ago. They are also the fallback when every fitted model fails.
 */

export const lastValueFamily: ModelFamily = {
  name: 'last-value',
  fit(y) {
    if (y.length === 0) return null;
    let last = y[y.length - 1] as number;
    return {
      name: 'last-value',
      append(v) { last = v; },
      forecast: (h) => new Array<number>(h).fill(last),
    } satisfies FittedModel;
  },
};

export const seasonalNaiveFamily: ModelFamily = {
  name: 'seasonal-naive',
  fit(y, season) {
    if (season === null || y.length < season) return null;
    // A ring of the last season: slot i holds the value at index ≡ i (mod season).
    const ring = y.slice(y.length - season);
    let next = 0; // ring slot of the value one season before the next step
    return {
      name: 'seasonal-naive',
      append(v) {
        ring[next] = v;
        next = (next + 1) % season;
      },
      forecast(h) {
        const out = new Array<number>(h);
        for (let k = 0; k < h; k++) out[k] = ring[(next + k) % season] as number;
        return out;
      },
    } satisfies FittedModel;
  },
};
