/**
 * Against a REAL Prometheus scraping the live twin: the control loop holds while Prometheus is
 * stopped, while it is back but has not scraped yet (it repeats its last samples), and while it
 * hangs (SIGSTOP: requests time out); it never acts meanwhile, says why on /readyz and in
 * phoebe_hold, and resumes by itself each time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RescaleRequest } from '../../../src/act/actuator.js';
import { PhoebeMetrics } from '../../../src/export/metrics.js';
import { createApp, startServer } from '../../../src/export/server.js';
import { ControlLoop, type LoopEvent } from '../../../src/loop/control-loop.js';
import type { DecisionPipeline, PipelineOutcome } from '../../../src/loop/decision-pipeline.js';
import { createPrometheusClient } from '../../../src/observe/prometheus-client.js';
import { defaultQueries, DEFAULT_SOURCE_TASK_PATTERN } from '../../../src/observe/promql-catalogue.js';
import { PrometheusSource } from '../../../src/observe/prometheus-source.js';
import { HOLD_REASONS, NoSignalsError } from '../../../src/observe/signal-quality.js';
import type { Signals } from '../../../src/observe/signals.js';
import { startLiveTwinServer, type LiveTwinServer } from '../../../src/sim/live/server.js';
import { findPrometheus, startPrometheus } from '../../support/prometheus-harness.js';
import { makeCluster } from '../../support/live-cluster-harness.js';
import { prometheusOutages, type PrometheusOutages } from '../../support/prometheus-restart.js';
import { testSettings } from '../../support/controller-settings.js';
import { FakeActuator } from '../../support/fake-actuator.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wants one more subtask on every tick that reaches it: any tick that gets through acts. */
function eagerPipeline(): DecisionPipeline {
  return {
    async decide(signals: Signals): Promise<PipelineOutcome> {
      const p = signals.latest.parallelism;
      return {
        kind: 'decision', forecastSource: 'test', forecastErrorRatio: null,
        decision: {
          action: 'scale-up', currentParallelism: p, recommendedParallelism: p + 1, reason: 'always one more (test pipeline)',
          inputs: {
            time: signals.latest.t, arrivalRate: signals.latest.arrivalRate, lag: signals.latest.lag, forecastStepSeconds: 1,
            forecastPeakUpper: 0, restartDowntimeSeconds: 30, rescaleDowntimeSeconds: 10, capacityModel: 'test', violationPrice: 1,
          },
          candidates: [], requiredPerStep: [p + 1], schedule: [p + 1],
        },
        forecast: { stepSeconds: 1, mean: [0], upper: [0] },
        budget: { violations: 0, allowed: 0, spent: 0, price: 1 },
      };
    },
    async close(): Promise<void> {},
  } as unknown as DecisionPipeline;
}

const available = findPrometheus() !== undefined;
let twin: LiveTwinServer;
let outages: PrometheusOutages;
let loop: ControlLoop;
let metrics: PhoebeMetrics;
let server: Awaited<ReturnType<typeof startServer>>;
let requests: RescaleRequest[] = [];
const events: LoopEvent[] = [];

beforeAll(async () => {
  if (!available) return;
  twin = await startLiveTwinServer({ cluster: makeCluster({ startWallMs: Date.now(), seconds: 3600 }), port: 0 });
  const prometheus = await startPrometheus({ targets: [twin.url.replace('http://', '')], scrapeIntervalSeconds: 1 });
  outages = prometheusOutages(prometheus);
  await prometheus.waitFor('flink_jobmanager_job_uptime', (v) => (v[0] ?? 0) > 0, 20_000);
  await sleep(3000);
  const source = new PrometheusSource({
    client: createPrometheusClient({ url: prometheus.url, timeoutSeconds: 2 }),
    queries: defaultQueries({ jobName: 'twin-test', sourceTaskPattern: DEFAULT_SOURCE_TASK_PATTERN, rateWindow: '5s', latencyQuantile: 0.99 }),
    stepSeconds: 1, backfillSeconds: 600, carryForwardSeconds: 30, clockCheck: true,
  });
  // Records the request only: the twin keeps its parallelism, so every tick wants to act.
  const actuator = new FakeActuator({ parallelism: () => 10 });
  requests = actuator.requests;
  metrics = new PhoebeMetrics({ defaultMetrics: false, slo: { latencySeconds: 1, latencyObjective: 0.98, recoveryTimeSeconds: 180 }, minParallelism: 2, maxParallelism: 24 });
  loop = new ControlLoop({
    source: {
      read: async () => {
        const signals = await source.refresh();
        if (!signals) throw new NoSignalsError('Prometheus returned no samples for the job yet');
        return signals;
      },
      quality: () => source.quality(),
    },
    // Every tick that gets through acts: the rate limits are out of the way.
    settings: testSettings({
      intervalSeconds: 1, minHistorySeconds: 0, quality: { staleAfterSeconds: 60, settleSeconds: 10, ownRescaleGraceSeconds: 60 },
      limits: { minSecondsBetweenRescales: 0, maxRescalesPerHour: 100_000 },
    }),
    pipeline: eagerPipeline(), actuator, metrics, log: (e) => events.push(e),
  });
  server = await startServer(createApp(metrics.registry, loop), '127.0.0.1:0');
}, 60_000);

afterAll(async () => {
  await loop?.stop();
  await server?.close();
  await outages?.close();
  await twin?.close();
});

async function readyz(): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
  return { status: res.status, body: await res.text() };
}

async function holds(): Promise<string[]> {
  const body = await metrics.registry.metrics();
  return HOLD_REASONS.filter((r) => new RegExp(`^phoebe_hold\\{reason="${r}"\\} 1$`, 'm').test(body));
}

/** Ticks once a second until ready (or the deadline); the seconds it took. */
async function untilReady(timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    await loop.tick();
    if (loop.readiness().ready) return (Date.now() - started) / 1000;
    await sleep(1000);
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${loop.readiness().reason}`);
}

describe.skipIf(!available)('ControlLoop against a real Prometheus that goes away', () => {
  it('holds while Prometheus is stopped and until it scrapes again after its restart, then resumes by itself', async () => {
    await untilReady(15_000);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(await readyz()).toEqual({ status: 200, body: 'ready\n' });

    await outages.down();
    const before = requests.length;
    for (let k = 0; k < 3; k++) {
      await sleep(1000);
      await loop.tick();
      const { status, body } = await readyz();
      expect(status).toBe(503);
      expect(body).toMatch(/^holding \(source_unavailable\): signal source failed: .*cannot reach Prometheus/);
      expect(await holds()).toEqual(['source_unavailable']);
      expect(events.at(-1)?.event).toBe('source-error');
    }
    await sleep(5000);
    expect(requests.length).toBe(before);

    // Back, with its TSDB: until the first scrape it answers with the samples from before it stopped.
    await outages.up();
    const held = new Set<string>();
    const resumedIn = await (async () => {
      const started = Date.now();
      for (;;) {
        await loop.tick();
        if (loop.readiness().ready) return (Date.now() - started) / 1000;
        for (const r of await holds()) held.add(r);
        expect(requests.length, loop.readiness().reason).toBe(before);
        if (Date.now() - started > 30_000) throw new Error(`not ready again: ${loop.readiness().reason}`);
        await sleep(500);
      }
    })();
    expect(resumedIn).toBeLessThan(30);
    // The last samples before the outage, repeated, are seen as stale (not acted on).
    expect([...held]).toEqual(['stale']);
    expect(await holds()).toEqual([]);
    expect((await readyz()).status).toBe(200);
    expect(requests.length).toBe(before + 1);
    expect(events.some((e) => e.event === 'resume')).toBe(true);
  }, 90_000);

  it('holds while Prometheus hangs (requests time out), then resumes by itself', async () => {
    await untilReady(10_000);
    outages.freeze();
    const before = requests.length;
    try {
      for (let k = 0; k < 2; k++) {
        await loop.tick();
        const { status, body } = await readyz();
        expect(status).toBe(503);
        expect(body).toMatch(/^holding \(source_timeout\): signal source failed: .*did not answer within 2 s/);
        expect(await holds()).toEqual(['source_timeout']);
      }
      expect(requests.length).toBe(before);
    } finally {
      outages.thaw();
    }
    await untilReady(20_000);
    expect(requests.length).toBe(before + 1);
    expect(await holds()).toEqual([]);
  }, 60_000);
});
