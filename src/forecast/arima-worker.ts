/**
 * Worker-thread side of the exact-likelihood (S)ARIMA. The `arima` package is synchronous
 * WebAssembly that corrupts its memory for good after a failure (e.g. a series above about
 * 8,000 points), so it lives here, where the main thread can throw the whole thread away.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type { ArimaRequest, ArimaResponse } from './arima-messages.js';

interface ArimaModel {
  train(ts: number[]): ArimaModel;
  predict(h: number): [number[], number[]];
  destroy(): void;
  /** The series the model holds; `predict` runs the fitted filter over it. */
  ts: Uint8Array;
}
type ArimaConstructor = new (options: Record<string, number | boolean>) => ArimaModel;

// `arima` is CommonJS with `export =`; require keeps its constructor intact under ESM.
const ARIMA = createRequire(import.meta.url)('arima') as ArimaConstructor;
const models = new Map<number, { model: ArimaModel; length: number }>();

function handle(request: ArimaRequest): ArimaResponse {
  switch (request.type) {
    case 'fit': {
      models.get(request.key)?.model.destroy();
      models.delete(request.key);
      const model = new ARIMA({ ...request.order, method: 0, optimizer: 6, verbose: false }).train(request.series);
      models.set(request.key, { model, length: request.series.length });
      return { id: request.id, ok: true, values: [] };
    }
    case 'predict': {
      const entry = models.get(request.key);
      if (entry === undefined) throw new Error(`no model ${request.key}`);
      if (request.window.length !== entry.length) throw new Error(`window of ${request.window.length} values, model fitted on ${entry.length}`);
      // The package has no state update; its predict filters the held series with the fitted
      // parameters, so a same-length window of the newest values is an update without a refit.
      entry.model.ts = new Uint8Array(Float64Array.from(request.window).buffer);
      const [mean] = entry.model.predict(request.horizon);
      return { id: request.id, ok: true, values: mean };
    }
    case 'free': {
      models.get(request.key)?.model.destroy();
      models.delete(request.key);
      return { id: request.id, ok: true, values: [] };
    }
  }
}

parentPort?.on('message', (request: ArimaRequest) => {
  let response: ArimaResponse;
  try {
    response = handle(request);
  } catch (err) {
    response = { id: request.id, ok: false, values: [], error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(response);
});
