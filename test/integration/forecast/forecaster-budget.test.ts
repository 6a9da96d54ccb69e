import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { loadAugursMstl } from '../../../src/cli/load-augurs.js';
import { ArimaWorkerClient } from '../../../src/forecast/arima-worker-client.js';
import { EnsembleForecaster } from '../../../src/forecast/forecaster.js';
import { loadTrace } from '../../../src/sim/trace.js';
import { ROOT } from '../../support/built-cli.js';
import { expectSane } from '../../support/forecast-checks.js';

/**
 * The forecaster's share of a decision's time budget, on the wall clock: a refit and a forecast
 * must leave the control loop responsive. Wall time and event-loop delay are what the loop feels,
 * so this runs with the integration tests, one file at a time, where no other test competes for
 * the cores.
 */
describe('EnsembleForecaster time budget', () => {
  it('refits on a 6-hour 1-second trace and forecasts 600 s in under 500 ms without blocking the event loop for 50 ms', async () => {
    loadAugursMstl();
    const trace = loadTrace(join(ROOT, 'config', 'traces', 'cars_measured_workload.csv'));
    const y = Array.from(trace.values);
    const t = y.map((_, i) => trace.startTime + i);
    expect(y.length).toBeGreaterThanOrEqual(21_600);
    const f = new EnsembleForecaster({ bucketSeconds: 60, horizonSteps: 600, seasonCandidatesSeconds: [], arima: new ArimaWorkerClient({ timeoutMs: 5_000 }) });
    // Warm-up: JIT compilation and the worker's start are one-off costs, not a decision's.
    await f.fit(t.slice(0, 18_000), y.slice(0, 18_000));
    await f.forecast(600);

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const start = performance.now();
    await f.fit(t, y);
    const out = await f.forecast(600);
    const elapsed = performance.now() - start;
    delay.disable();
    await f.close();

    expectSane(out, 600);
    expect(out.t[0]).toBe(t[t.length - 1]! + 1);
    expect(elapsed).toBeLessThan(500);
    expect(delay.max / 1e6).toBeLessThan(50);
  });
});
