/** Messages between the main thread and the `arima` worker (structured-clone data only). */

export interface ArimaOrderSpec {
  p: number;
  d: number;
  q: number;
  P: number;
  D: number;
  Q: number;
  s: number;
}

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
