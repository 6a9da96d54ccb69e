/**
 * The decision-cost benchmark of EVALUATION.md section 3: one full phoebe decision (read the
 * history, update the models, forecast, evaluate every parallelism, choose) on 6 h of 1-second
 * history (21,600 points), 100 times in one process; p50/p95 wall time and peak RSS.
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadScenario } from '../../src/config/scenario.js';
import { DecisionPipeline } from '../../src/loop/decision-pipeline.js';
import { toSignals } from '../../src/observe/prometheus-convert.js';
import type { SignalHistory, Signals } from '../../src/observe/signals.js';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import { defaultPhoebeForecaster, phoebeSettings } from '../../src/sim/policies/phoebe.js';
import { policyContext, scenarioArrivals } from '../../src/sim/runner.js';
import { loadTrace } from '../../src/sim/trace.js';
import { Twin } from '../../src/sim/twin.js';
import { quantile } from '../../src/util/numbers.js';
import { markdownTable, REPO_ROOT, writeBenchmarkSection } from './benchmarks-file.js';

const DECISIONS = 100;
const HISTORY_SECONDS = 21_600;

const scenario = loadScenario(join(REPO_ROOT, 'config', 'scenarios', 'cars.yaml'));
const trace = loadTrace(scenario.tracePath);
const arrivals = scenarioArrivals(scenario, trace).subarray(0, HISTORY_SECONDS + DECISIONS * 30);
const context = policyContext(scenario, clairvoyantLowerBound(scenario, arrivals));
const settings = phoebeSettings(context);
const config = settings.pipeline;

// 6 h of history with restarts and rescales in it, as the job would have produced.
const twin = new Twin(scenario, arrivals, { seed: 1, startTime: trace.startTime });
while (!twin.done) {
  twin.step();
  if (twin.elapsed === 5000) twin.requestRescale(15);
  if (twin.elapsed === 15000) twin.requestRescale(11);
}
const full = twin.signals();

/** Copies the first n points into fresh arrays, as a Prometheus range query would deliver them. */
function queryHistory(n: number): Signals {
  const h = full.history;
  const copy = (column: ArrayLike<number>): Float64Array => Float64Array.from({ length: n }, (_, i) => column[i] as number);
  const history: SignalHistory = {
    length: n, t: copy(h.t), arrivalRate: copy(h.arrivalRate), throughput: copy(h.throughput), lag: copy(h.lag),
    busyTimeMsPerSecond: copy(h.busyTimeMsPerSecond), backPressuredTimeMsPerSecond: copy(h.backPressuredTimeMsPerSecond),
    latencySeconds: copy(h.latencySeconds), parallelism: copy(h.parallelism), checkpointAgeSeconds: copy(h.checkpointAgeSeconds),
    numRestarts: copy(h.numRestarts), status: copy(h.status),
  };
  return toSignals(history);
}

/** The pipeline's arguments for a decision on the first n points, made at the newest one's time. */
function decisionAt(n: number): [Signals, number[], number] {
  const signals = queryHistory(n);
  return [signals, [], signals.latest.t];
}

async function measure(name: string, run: (k: number) => Promise<void>): Promise<{ name: string; p50: number; p95: number; max: number }> {
  const times: number[] = [];
  for (let k = 0; k < DECISIONS; k++) {
    const started = performance.now();
    await run(k);
    times.push(performance.now() - started);
  }
  return { name, p50: quantile(times, 0.5), p95: quantile(times, 0.95), max: Math.max(...times) };
}

// Cold: a new pipeline each time — every model learns the whole 6 h and the forecaster is fitted.
const cold = await measure('cold start (new pipeline, full fit on 21,600 points)', async () => {
  const pipeline = new DecisionPipeline(config, defaultPhoebeForecaster(settings));
  const outcome = await pipeline.decide(...decisionAt(HISTORY_SECONDS));
  if (outcome.kind !== 'decision') throw new Error(`no decision: ${outcome.reason}`);
  await pipeline.close();
});

// Steady state: one pipeline, a decision every 30 s on the growing history (as `phoebe run` does).
const steadyPipeline = new DecisionPipeline(config, defaultPhoebeForecaster(settings));
await steadyPipeline.decide(...decisionAt(HISTORY_SECONDS - 30));
const steady = await measure('steady state (every 30 s, history ≥ 21,600 points)', async (k) => {
  const outcome = await steadyPipeline.decide(...decisionAt(HISTORY_SECONDS + k * 30));
  if (outcome.kind !== 'decision') throw new Error(`no decision: ${outcome.reason}`);
});
await steadyPipeline.close();

const peakRssMb = process.resourceUsage().maxRSS / 1024;
const rows = [cold, steady].map((r) => [r.name, r.p50.toFixed(1), r.p95.toFixed(1), r.max.toFixed(1)]);
process.stdout.write(`${rows.map((r) => r.join('  ')).join('\n')}\npeak RSS ${peakRssMb.toFixed(0)} MB\n`);
writeBenchmarkSection(
  'decision-cost',
  `## Decision cost\n\nWritten by \`test/bench/decision-cost.ts\`: ${DECISIONS} full decisions of the \`phoebe\` pipeline ` +
    `(copy the history out of the store as a query would, update capacity/latency/downtime models, forecast ` +
    `${config.horizonSteps * config.bucketSeconds} s, evaluate p = ${config.planner.minParallelism}…${config.planner.maxParallelism}, choose) ` +
    `on ${HISTORY_SECONDS.toLocaleString('en')} points of 1-second history (cars), in one process, node ${process.version}. ` +
    `Targets: p95 ≤ 250 ms, peak RSS ≤ 200 MB.\n\n` +
    `${markdownTable(['mode', 'p50 ms', 'p95 ms', 'max ms'], rows)}\n\nPeak RSS of the whole benchmark process: **${peakRssMb.toFixed(0)} MB**.`,
);
