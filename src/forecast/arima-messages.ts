/** Messages between the main thread and the `arima` worker (structured-clone data only). */

import type { SarimaOrder } from './sarima-css.js';

/** A SARIMA order with its seasonal period. */
export type ArimaOrderSpec = SarimaOrder & { s: number };

export type ArimaRequest =
  | { id: number; type: 'fit'; key: number; series: number[]; order: ArimaOrderSpec }
  | { id: number; type: 'predict'; key: number; window: number[]; horizon: number }
  | { id: number; type: 'free'; key: number };

export interface ArimaResponse {
  id: number;
  ok: boolean;
  values: number[];
  error?: string;
}
