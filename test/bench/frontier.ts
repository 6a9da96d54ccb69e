/**
 * How close phoebe is to the best any policy could do, and where the rest goes. Per scenario:
 * - the clairvoyant schedule (src/sim/clairvoyant-schedule.ts): the whole future known, every
 *   rescale paid for, at most 4 rescales an hour; the cheapest of a price sweep that meets both
 *   SLOs on the twin;
 * - phoebe's own pipeline fed the true future as its forecast (the planner's share of the gap);
 * - phoebe as `phoebe simulate` runs it.
 * It drives the twin through the library, not the CLI, because two of the rows need the future.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, type Scenario } from '../../src/config/scenario.js';
import type { Forecast, Forecaster } from '../../src/forecast/types.js';
import { clairvoyantSchedule, scheduledPolicy } from '../../src/sim/clairvoyant-schedule.js';
import { clairvoyantLowerBound, type LowerBound } from '../../src/sim/lower-bound.js';
import { defaultPhoebeForecaster, phoebePolicy } from '../../src/sim/policies/phoebe.js';
import type { PolicyFactory } from '../../src/sim/policy.js';
import { runPolicy, scenarioArrivals } from '../../src/sim/runner.js';
import type { RunScores } from '../../src/sim/scores.js';
import { loadTrace, type Trace } from '../../src/sim/trace.js';
import { markdownTable, REPO_ROOT, writeBenchmarkSection } from './benchmarks-file.js';

const PRICES = [30, 40, 50, 60, 80, 100, 150, 200, 300];
const BUCKET_SECONDS = 30;
const MAX_RESCALES_PER_HOUR = 4;

/** A forecaster that knows the arrivals to come: the means of the true future per step. */
class FutureForecaster implements Forecaster {
  private lastT = 0;
  private step = 1;

  constructor(private readonly arrivals: Float64Array, private readonly startTime: number) {}

  async fit(t: readonly number[]): Promise<void> {
    this.step = t.length > 1 ? (t[1] as number) - (t[0] as number) : 1;
    this.lastT = t[t.length - 1] as number;
  }

  async update(t: readonly number[]): Promise<void> {
    if (t.length > 0) this.lastT = t[t.length - 1] as number;
  }

  async forecast(h: number): Promise<Forecast> {
    const t: number[] = [];
    const mean: number[] = [];
    for (let k = 1; k <= h; k++) {
      const from = this.lastT + k * this.step - this.startTime;
      let sum = 0;
      for (let s = from; s < from + this.step; s++) sum += this.arrivals[Math.min(this.arrivals.length - 1, Math.max(0, s))] as number;
      t.push(this.lastT + k * this.step);
      mean.push(sum / this.step);
    }
    return { t, mean, lower: mean, upper: mean, level: 0.9, weights: { future: 1 } };
  }

  accuracy() {
    return { mae: 0, relativeMae: 0, count: 0, components: {} };
  }

  async close(): Promise<void> {}
}

const meets = (s: RunScores): boolean => s.recoveredWithinTarget === s.failures && s.latencySloFraction >= 0.98;

async function score(scenario: Scenario, trace: Trace, lowerBound: LowerBound, factory: PolicyFactory): Promise<RunScores> {
  return (await runPolicy(scenario, trace, factory, { seed: scenario.seed, lowerBound })).scores;
}

function row(label: string, s: RunScores, note = ''): string[] {
  return [label, s.meanParallelism.toFixed(2), s.costRatio.toFixed(3), `${s.recoveredWithinTarget}/${s.failures}`, s.latencySloFraction.toFixed(4), String(s.rescales), note];
}

const scenarioDir = join(REPO_ROOT, 'config', 'scenarios');
const sections: string[] = [];
for (const file of readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml')).sort()) {
  const scenario = loadScenario(join(scenarioDir, file));
  const trace = loadTrace(scenario.tracePath);
  const arrivals = scenarioArrivals(scenario, trace);
  const lowerBound = clairvoyantLowerBound(scenario, arrivals);
  const maxRescales = Math.floor((MAX_RESCALES_PER_HOUR * arrivals.length) / 3600);

  let best: { scores: RunScores; price: number } | null = null;
  for (const price of PRICES) {
    const schedule = clairvoyantSchedule(scenario, arrivals, { bucketSeconds: BUCKET_SECONDS, maxRescales, violationPrice: price });
    const scores = await score(scenario, trace, lowerBound, () => scheduledPolicy(schedule, scenario.twin.rescaleDowntimeSeconds));
    if (meets(scores) && (best === null || scores.meanParallelism < best.scores.meanParallelism)) best = { scores, price };
  }
  const withFuture = await score(scenario, trace, lowerBound, (context) => phoebePolicy(context, () => new FutureForecaster(arrivals, trace.startTime)));
  const phoebe = await score(scenario, trace, lowerBound, (context) => phoebePolicy(context, defaultPhoebeForecaster));

  const rows = [
    ...(best ? [row('clairvoyant schedule', best.scores, `violation priced at ${best.price} slot-s`)] : []),
    row('phoebe, true future as forecast', withFuture),
    row('phoebe', phoebe),
  ];
  process.stdout.write(`${scenario.name}: lower bound ${lowerBound.meanParallelism.toFixed(2)}; ${rows.map((r) => `${r[0]} ${r[2]}`).join(', ')}\n`);
  sections.push(
    `### ${scenario.name} (seed ${scenario.seed}; lower bound mean p ${lowerBound.meanParallelism.toFixed(2)})\n\n` +
      (best ? '' : `No clairvoyant schedule of the price sweep met both SLOs.\n\n`) +
      markdownTable(['run', 'mean p', 'cost ratio', 'recovered ≤ target', 'latency SLO fraction', 'rescales', ''], rows),
  );
}

writeBenchmarkSection(
  'frontier',
  `## How close to the best possible\n\nWritten by \`test/bench/frontier.ts\` (node ${process.version}). The clairvoyant lower bound ` +
    `ignores what rescales cost. The **clairvoyant schedule** knows the whole future and pays for each rescale (downtime and ` +
    `catch-up over the latency SLO) and for the noise: it is the cheapest staircase with at most ${MAX_RESCALES_PER_HOUR} rescales an hour ` +
    `(${BUCKET_SECONDS} s steps) that meets both SLOs on the twin, over a sweep of violation prices. **phoebe, true future as forecast** ` +
    `is phoebe's own pipeline with a perfect forecast: the gap from the schedule to it is the planner's, from it to **phoebe** the forecast's.\n\n` +
    sections.join('\n\n'),
);
