import { MSTL } from '@bsull/augurs/mstl';
import type { FittedModel, ModelFamily } from './types.js';

/**
 * MSTL decomposition with an AutoETS trend (augurs). The WASM must have been initialised by
 * the caller (see src/cli/load-augurs.ts): this folder does no file I/O. MSTL has no state
 * update, so between refits the last fit's forecast is read further ahead, shifted by the
 * mean error the fit has made on the observations since.
 */

export interface MstlOptions {
  /** Fit on at most this many seasons of the newest history (older ones cost time, add little). */
  maxSeasons: number;
  /** Refit after this many new observations. */
  refitEvery: number;
}

const DEFAULTS: MstlOptions = { maxSeasons: 8, refitEvery: 1 };

export function mstlFamily(options: Partial<MstlOptions> = {}): ModelFamily {
  const { maxSeasons, refitEvery } = { ...DEFAULTS, ...options };
  return {
    name: 'mstl',
    fit(y, season) {
      if (season === null || y.length < 2 * season + 2) return null;
      const window = Math.min(y.length, maxSeasons * season);
      const history = y.slice(y.length - window);
      const fitOn = (values: readonly number[]): MSTL => {
        const m = MSTL.ets([season]);
        m.fit(Float64Array.from(values));
        return m;
      };
      let model = fitOn(history);
      // Observations since the last fit, and what that fit predicted for them.
      let since: number[] = [];
      return {
        name: 'mstl',
        append(v) {
          history.push(v);
          if (history.length > window) history.shift();
          since.push(v);
          if (since.length >= refitEvery) {
            model.free();
            model = fitOn(history);
            since = [];
          }
        },
        forecast(h) {
          const ahead = model.predict(since.length + h).point;
          let offset = 0;
          since.forEach((v, i) => { offset += v - (ahead[i] as number); });
          if (since.length > 0) offset /= since.length;
          return ahead.slice(since.length).map((v) => v + offset);
        },
        dispose() { model.free(); },
      } satisfies FittedModel;
    },
  };
}
