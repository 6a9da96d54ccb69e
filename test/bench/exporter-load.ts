/**
 * Exporter benchmark (issue 5): /metrics latency under 50 requests/s from a separate load
 * generator process on loopback while phoebe's decisions run, and idle RSS with 6 h of 1 s
 * history held.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Actuator } from '../../src/act/actuator.js';
import { loadScenario } from '../../src/config/scenario.js';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import { createApp, startServer } from '../../src/export/server.js';
import { ControlLoop } from '../../src/loop/control-loop.js';
import { DecisionPipeline } from '../../src/loop/decision-pipeline.js';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import { defaultPhoebeForecaster, phoebeSettings } from '../../src/sim/policies/phoebe.js';
import { policyContext, scenarioArrivals } from '../../src/sim/runner.js';
import { loadTrace } from '../../src/sim/trace.js';
import { Twin } from '../../src/sim/twin.js';
import { markdownTable, REPO_ROOT, writeBenchmarkSection } from './benchmarks-file.js';

const RATE = 50;
const SECONDS = 60;
const DECISION_INTERVAL = 5;

const scenario = loadScenario(join(REPO_ROOT, 'config', 'scenarios', 'cars.yaml'));
const trace = loadTrace(scenario.tracePath);
const arrivals = scenarioArrivals(scenario, trace);
const context = policyContext(scenario, clairvoyantLowerBound(scenario, arrivals));
const twin = new Twin(scenario, arrivals, { seed: 1, startTime: Math.floor(Date.now() / 1000) - 21_000 });
for (let s = 0; s < 21_000; s++) twin.step();

const recommend: Actuator = { mode: 'recommend', currentParallelism: async () => twin.parallelism, rescale: async () => ({ outcome: 'skipped', detail: 'recommend mode', seconds: 0 }) };
const metrics = new PhoebeMetrics({ slo: { ...scenario.slo, latencyObjective: 0.98 }, minParallelism: context.minParallelism, maxParallelism: context.maxParallelism });
const twinSettings = phoebeSettings(context);
// Decisions more often than the configured interval, on a history whose clock is not the wall's.
const settings = { ...twinSettings, intervalSeconds: DECISION_INTERVAL, quality: { ...twinSettings.quality, staleAfterSeconds: 1e9 } };
const loop = new ControlLoop({
  // Every decision sees ~6 h of 1 s history, growing by one second per second.
  source: { read: async () => { if (!twin.done) twin.step(); return twin.signals(); } },
  settings, pipeline: new DecisionPipeline(settings.pipeline, defaultPhoebeForecaster(settings)),
  actuator: recommend, metrics, log: () => undefined,
});
const server = await startServer(createApp(metrics.registry, loop), '127.0.0.1:0');
loop.start();

const generator = join(REPO_ROOT, 'dist', 'test', 'bench', 'load-generator.js');
const { stdout } = await promisify(execFile)(process.execPath, [generator, `http://127.0.0.1:${server.port}/metrics`, String(RATE), String(SECONDS)]);
const load = JSON.parse(stdout) as { count: number; errors: number; p50: number; p99: number; max: number };
const decisions = Number(/^phoebe_decision_duration_seconds_count (\d+)/m.exec(await metrics.registry.metrics())?.[1] ?? 0);

await loop.stop();
global.gc?.();
await new Promise((r) => setTimeout(r, 2000));
const idleRssMb = process.memoryUsage().rss / 2 ** 20;
await server.close();

process.stdout.write(`${JSON.stringify({ ...load, decisions, idleRssMb })}\n`);
writeBenchmarkSection(
  'exporter',
  `## Exporter\n\nWritten by \`test/bench/exporter-load.ts\`: \`/metrics\` of a running control loop (decisions every ` +
    `${DECISION_INTERVAL} s on ~6 h of 1-second history, ${decisions} decisions during the run) under ${RATE} requests/s for ` +
    `${SECONDS} s from a separate load-generator process on loopback; then the process's RSS with the 6 h history still held. ` +
    `Targets: p99 < 10 ms, idle RSS < 150 MB.\n\n` +
    markdownTable(['requests', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'idle RSS MB'], [[String(load.count), String(load.errors), load.p50.toFixed(2), load.p99.toFixed(2), load.max.toFixed(1), idleRssMb.toFixed(0)]]),
);
