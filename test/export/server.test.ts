import { afterEach, describe, expect, it } from 'vitest';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import { createApp, parseListen, startServer, type ServerState } from '../../src/export/server.js';
import type { Decision } from '../../src/planner/decision.js';

const slo = { latencySeconds: 1, latencyObjective: 0.98, recoveryTimeSeconds: 180 };

function decision(): Decision {
  return {
    action: 'scale-up', currentParallelism: 4, recommendedParallelism: 6, reason: 'test',
    inputs: { time: 1000, arrivalRate: 4200, lag: 10, forecastStepSeconds: 30, forecastPeakUpper: 5000, restartDowntimeSeconds: 30, rescaleDowntimeSeconds: 10, capacityModel: 'linear', violationPrice: 120 },
    candidates: [2, 3, 4, 5, 6].map((p) => ({
      parallelism: p, capacity: 900 * p, expectedCapacity: 1000 * p, worstLatencySeconds: p < 6 ? Number.POSITIVE_INFINITY : 0.5,
      worstRecoverySeconds: p < 5 ? Number.POSITIVE_INFINITY : 120, recoveryNowSeconds: 100, meetsSlos: p >= 6,
    })),
    requiredPerStep: [6, 6, 6], schedule: [6, 6, 6],
  };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });

describe('exporter', () => {
  it('serves phoebe metrics with conventional names, /healthz, /readyz and the status document', async () => {
    const metrics = new PhoebeMetrics({ slo, minParallelism: 2, maxParallelism: 6 });
    metrics.recordDecision({
      decision: decision(), forecast: { stepSeconds: 30, mean: Array(20).fill(4500), upper: Array(20).fill(5000) },
      budget: { violations: 3, allowed: 100, spent: 0.03, price: 80 }, forecastErrorRatio: 0.07, seconds: 0.042, time: 1_700_000_000,
    });
    metrics.recordRescale({ outcome: 'completed', parallelism: 6, detail: 'ok', seconds: 12 });
    let ready = false;
    const state: ServerState = {
      live: () => true,
      readiness: () => ({ ready, reason: ready ? 'ready' : 'no decision yet' }),
      status: () => ({ mode: 'recommend', lastDecision: decision() }),
    };
    const started = await startServer(createApp(metrics.registry, state), '127.0.0.1:0');
    close = started.close;
    const base = `http://127.0.0.1:${started.port}`;

    const body = await (await fetch(`${base}/metrics`)).text();
    expect(body).toMatch(/^phoebe_parallelism 4$/m);
    expect(body).toMatch(/^phoebe_parallelism_recommended 6$/m);
    expect(body).toMatch(/^phoebe_forecast_arrival_rate_records_per_second\{horizon_seconds="600",bound="upper"\} 5000$/m);
    expect(body).toMatch(/^phoebe_predicted_recovery_seconds\{parallelism="2"\} \+Inf$/m);
    expect(body).toMatch(/^phoebe_predicted_latency_seconds\{parallelism="6"\} 0.5$/m);
    expect(body).toMatch(/^phoebe_capacity_records_per_second\{parallelism="3",estimate="expected"\} 3000$/m);
    expect(body).toMatch(/^phoebe_slo_target\{slo="recovery_seconds"\} 180$/m);
    expect(body).toMatch(/^phoebe_rescales_total\{result="completed"\} 1$/m);
    expect(body).toMatch(/^phoebe_rescales_total\{result="failed"\} 0$/m);
    expect(body).toMatch(/^phoebe_decision_duration_seconds_count 1$/m);
    expect(body).toMatch(/^phoebe_forecast_error_ratio 0.07$/m);
    expect(body).toMatch(/^process_resident_memory_bytes /m);

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('no decision yet');
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const status = (await (await fetch(`${base}/api/v1/status`)).json()) as { lastDecision: Decision };
    expect(status.lastDecision.recommendedParallelism).toBe(6);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('parses listen addresses and refuses ones without a host', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen(':9464')).toThrow(/host:port/);
    expect(() => parseListen('127.0.0.1:99999')).toThrow(/range/);
  });
});
