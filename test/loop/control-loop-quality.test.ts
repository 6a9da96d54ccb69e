/**
 * Bad and missing data never causes an action: the control loop reads through a real
 * PrometheusSource from a fake Prometheus that injects one fault at a time, with a pipeline
 * that always wants to scale up. While the fault lasts the actuator is never called, /readyz
 * says why, phoebe_hold{reason} shows it; once the fault is gone phoebe resumes by itself.
 */
import { describe, expect, it } from 'vitest';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import { ControlLoop, type LoopEvent, type SignalSource } from '../../src/loop/control-loop.js';
import type { DecisionPipeline, PipelineOutcome } from '../../src/loop/decision-pipeline.js';
import { PrometheusError, type PrometheusClient } from '../../src/observe/prometheus-client.js';
import type { SeriesLike } from '../../src/observe/prometheus-convert.js';
import { QUERY_KEYS, type QueryKey, type QuerySet } from '../../src/observe/promql-catalogue.js';
import { PrometheusSource } from '../../src/observe/prometheus-source.js';
import { HOLD_REASONS, NoSignalsError, type HoldReason } from '../../src/observe/signal-quality.js';
import type { Signals } from '../../src/observe/signals.js';
import { toSignals } from '../../src/observe/prometheus-convert.js';
import type { Decision } from '../../src/planner/decision.js';
import { history } from '../support/twin-history.js';
import { testSettings } from '../support/controller-settings.js';
import { FakeActuator } from '../support/fake-actuator.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = 1_700_000_000;
const QUERIES = Object.fromEntries(QUERY_KEYS.map((k) => [k, k])) as QuerySet;

type Fault = 'down' | 'slow' | 'empty' | 'nan' | 'inf' | 'duplicate' | 'frozen' | 'restart' | 'new-job' | 'skew';

/** A Prometheus serving a healthy job at p = 4 scraped every second, until told to misbehave. */
class FaultyPrometheus implements PrometheusClient {
  fault: Fault | undefined;
  private faultAt = 0;
  /** The job's history: from each time on, which job ran (its start) and its restart count. */
  private readonly epochs: { from: number; jobStart: number; restarts: number }[] = [{ from: Number.NEGATIVE_INFINITY, jobStart: T0 - 7200, restarts: 3 }];
  constructor(private readonly clock: () => number) {}

  /** From now on (or from `since`, unix s), until injected again. */
  inject(fault: Fault | undefined, since?: number): void {
    this.fault = fault;
    this.faultAt = since ?? Math.floor(this.clock());
    const current = this.epochs[this.epochs.length - 1]!;
    if (fault === 'restart') this.epochs.push({ from: this.faultAt, jobStart: this.faultAt, restarts: current.restarts + 1 });
    if (fault === 'new-job') this.epochs.push({ from: this.faultAt, jobStart: this.faultAt, restarts: 0 });
  }

  /** What phoebe's own rescale looks like from here: a new job (flink-rest resubmits). */
  resubmit(): void {
    const t = Math.floor(this.clock()) + 1;
    this.epochs.push({ from: t, jobStart: t, restarts: 0 });
  }

  private value(key: QueryKey, t: number): number {
    const epoch = [...this.epochs].reverse().find((e) => t >= e.from)!;
    const up = t - epoch.jobStart;
    switch (key) {
      case 'arrivalRate': return this.fault === 'nan' && t >= this.faultAt ? Number.NaN : 3000;
      case 'throughput': return 3000;
      case 'lag': return this.fault === 'inf' && t >= this.faultAt ? Number.POSITIVE_INFINITY : 100;
      case 'busyTimeMsPerSecond': return 700;
      case 'backPressuredTimeMsPerSecond': return 0;
      case 'latencySeconds': return 0.3;
      case 'parallelism': return 4;
      case 'numRestarts': return epoch.restarts;
      case 'uptimeSeconds': return up;
      case 'completedCheckpoints': return Math.max(0, Math.floor(up / 10));
      case 'lastCheckpointDurationSeconds': return 0.2;
    }
  }

  async rangeQuery(query: string, start: number, end: number, step: number): Promise<SeriesLike[]> {
    const key = query as QueryKey;
    if (this.fault === 'down') throw new PrometheusError('network', 'cannot reach Prometheus at http://127.0.0.1:9 (ECONNREFUSED)');
    if (this.fault === 'slow') throw new PrometheusError('timeout', 'Prometheus at http://127.0.0.1:9 did not answer within 5 s');
    const values: { time: number; value: number }[] = [];
    for (let t = start; t <= Math.min(end, this.clock()); t += step) {
      if (this.fault === 'empty' && t >= this.faultAt) continue;
      // Prometheus after its own restart: the last sample repeated for every step since.
      const at = this.fault === 'frozen' && t >= this.faultAt ? this.faultAt : t;
      values.push({ time: t, value: this.value(key, at) });
    }
    if (values.length === 0) return [];
    const series = [{ values }];
    if (this.fault === 'duplicate' && key === 'parallelism') series.push({ values: values.map((v) => ({ ...v })) });
    return series;
  }

  async instantQuery(query: string): Promise<Array<{ value: number; time: number }>> {
    if (query !== 'time()') return [];
    const t = this.clock() + (this.fault === 'skew' ? 60 : 0);
    return [{ time: t, value: t }];
  }
}

function decision(current: number): Decision {
  return {
    action: 'scale-up', currentParallelism: current, recommendedParallelism: current + 1, reason: 'always one more (test pipeline)',
    inputs: {
      time: 0, arrivalRate: 3000, lag: 100, forecastStepSeconds: 10, forecastPeakUpper: 3000, restartDowntimeSeconds: 30,
      rescaleDowntimeSeconds: 10, capacityModel: 'test', violationPrice: 1,
    },
    candidates: [], requiredPerStep: [current + 1], schedule: [current + 1],
  };
}

/** A pipeline that wants to scale up on every tick it is asked: any tick that gets through acts. */
function eagerPipeline(): DecisionPipeline {
  const pipeline = {
    async decide(signals: Signals): Promise<PipelineOutcome> {
      return {
        kind: 'decision', decision: decision(signals.latest.parallelism), forecastSource: 'test',
        forecast: { stepSeconds: 10, mean: [3000, 3000], upper: [3300, 3300] },
        budget: { violations: 0, allowed: 0, spent: 0, price: 1 }, forecastErrorRatio: null,
      };
    },
    async close(): Promise<void> {},
  };
  return pipeline as unknown as DecisionPipeline;
}

function rig(options: { source?: (now: () => number) => SignalSource; onRescale?: () => void } = {}) {
  const clock = new FakeClock((T0 + 0.4) * 1000);
  const now = () => clock.now() / 1000;
  const prometheus = new FaultyPrometheus(now);
  const source = new PrometheusSource({
    client: prometheus, queries: QUERIES, stepSeconds: 1, backfillSeconds: 600, carryForwardSeconds: 30, now, clockCheck: true,
  });
  const actuator = new FakeActuator({
    parallelism: () => 4,
    outcome: () => {
      options.onRescale?.();
      return 'completed';
    },
  });
  const requests = actuator.requests;
  const events: LoopEvent[] = [];
  const metrics = new PhoebeMetrics({ defaultMetrics: false, slo: { latencySeconds: 1, latencyObjective: 0.98, recoveryTimeSeconds: 180 }, minParallelism: 2, maxParallelism: 24 });
  const signalSource: SignalSource = options.source?.(now) ?? {
    read: async () => {
      const signals = await source.refresh();
      if (!signals) throw new NoSignalsError('Prometheus returned no samples for the job yet');
      return signals;
    },
    quality: () => source.quality(),
  };
  // Every tick that gets through acts: the rate limits are out of the way.
  const settings = testSettings({
    intervalSeconds: 10, minHistorySeconds: 0, quality: { staleAfterSeconds: 60, settleSeconds: 60, ownRescaleGraceSeconds: 5, ownRestartGraceSeconds: 5 },
    limits: { minSecondsBetweenRescales: 0, maxRescalesPerHour: 1000 },
  });
  const loop = new ControlLoop({
    source: signalSource, settings, pipeline: eagerPipeline(), actuator, metrics, log: (e) => events.push(e), clock,
  });
  const advance = (seconds: number): Promise<void> => clock.advance(seconds * 1000);
  const holds = async (): Promise<HoldReason[]> => {
    const body = await metrics.registry.metrics();
    return HOLD_REASONS.filter((r) => new RegExp(`^phoebe_hold\\{reason="${r}"\\} 1$`, 'm').test(body));
  };
  const ready = async (): Promise<boolean> => /^phoebe_ready 1$/m.test(await metrics.registry.metrics());
  return { prometheus, loop, requests, events, metrics, advance, holds, ready };
}

const CASES: { fault: Fault; reason: HoldReason; detail: RegExp; clearAfter?: number }[] = [
  { fault: 'down', reason: 'source_unavailable', detail: /signal source failed: .*ECONNREFUSED/ },
  { fault: 'slow', reason: 'source_timeout', detail: /did not answer within 5 s/ },
  { fault: 'empty', reason: 'stale', detail: /uptime has not advanced/ },
  { fault: 'nan', reason: 'invalid_values', detail: /NaN, ±Inf or negative for arrivalRate/ },
  { fault: 'inf', reason: 'invalid_values', detail: /NaN, ±Inf or negative for lag/ },
  { fault: 'duplicate', reason: 'duplicate_series', detail: /query parallelism returned 2 series at once/ },
  { fault: 'frozen', reason: 'stale', detail: /uptime has not advanced for \d+ s/ },
  { fault: 'restart', reason: 'job_restarted', detail: /numRestarts rose/ },
  { fault: 'new-job', reason: 'job_restarted', detail: /uptime fell|a new job/ },
  { fault: 'skew', reason: 'clock_skew', detail: /clock is 60 s ahead of phoebe's/ },
];

describe('ControlLoop on bad or missing data', () => {
  for (const { fault, reason, detail } of CASES) {
    it(`${fault}: holds with reason ${reason}, never acts, resumes by itself`, async () => {
      const { prometheus, loop, requests, events, advance, holds, ready } = rig();
      await advance(600);
      await loop.tick();
      expect(loop.readiness(), JSON.stringify(events.at(-1))).toEqual({ ready: true, reason: 'ready' });
      expect(requests.length).toBe(1);
      await advance(10);
      prometheus.inject(fault);
      // Five decisions' worth (50 s) of the fault: no action at all.
      for (let k = 0; k < 5; k++) {
        await advance(10);
        await loop.tick();
        const readiness = loop.readiness();
        expect(readiness.ready, `${fault} tick ${k} ${JSON.stringify(events.slice(-3))}`).toBe(false);
        expect(readiness.reason).toMatch(new RegExp(`^holding \\([^)]*${reason}`));
        expect(readiness.reason).toMatch(detail);
        expect(await holds()).toContain(reason);
        expect(await ready()).toBe(false);
        expect(events.at(-1)?.event).toBe(fault === 'down' || fault === 'slow' ? 'source-error' : 'hold');
        expect((loop.status() as { dataQuality: { ok: boolean; reasons: string[] } }).dataQuality).toMatchObject({ ok: false, reasons: expect.arrayContaining([reason]) });
      }
      expect(requests.length, `${fault}: no action while the data is bad`).toBe(1);
      prometheus.inject(undefined);
      // Good data again (a restart settles 60 s after it happened): resumes without help.
      for (let k = 0; k < 4 && !loop.readiness().ready; k++) {
        await advance(10);
        await loop.tick();
      }
      expect(loop.readiness(), JSON.stringify(events.at(-1))).toEqual({ ready: true, reason: 'ready' });
      expect(await holds()).toEqual([]);
      expect(requests.length).toBe(2);
      expect(events.some((e) => e.event === 'resume' && (e.after as string[]).includes(reason))).toBe(true);
      expect((loop.status() as { dataQuality: unknown }).dataQuality).toEqual({ ok: true });
      await loop.stop();
    });
  }

  it('no samples for the job at all: holds with no_data until they come', async () => {
    const { prometheus, loop, requests, advance, holds } = rig();
    await advance(600);
    prometheus.inject('empty', 0);
    await loop.tick();
    expect(loop.readiness()).toEqual({ ready: false, reason: 'holding (no_data): Prometheus returned no samples for the job yet' });
    expect(await holds()).toEqual(['no_data']);
    expect(requests).toEqual([]);
    prometheus.inject(undefined);
    await advance(10);
    await loop.tick();
    expect(loop.readiness().ready).toBe(true);
    await loop.stop();
  });

  it('a counter reset from its own rescale (a resubmitted job) is no reason to hold', async () => {
    let resubmit = (): void => {};
    const { prometheus, loop, requests, advance, events } = rig({ onRescale: () => resubmit() });
    resubmit = () => prometheus.resubmit();
    await advance(600);
    for (let k = 0; k < 4; k++) {
      await loop.tick();
      expect(loop.readiness(), JSON.stringify(events.at(-1))).toEqual({ ready: true, reason: 'ready' });
      await advance(10);
    }
    expect(requests.length).toBe(4);
    await loop.stop();
  });

  it('any source: NaN, ±Inf and samples from the future in the Signals themselves', async () => {
    let mutate: ((i: number, n: number) => Partial<Record<'arrivalRate' | 'lag' | 't', number>>) | undefined;
    let clock = () => 0;
    const { loop, requests, advance, holds } = rig({
      source: (now) => {
        clock = now;
        return {
          read: async () => {
            const n = 600;
            const end = Math.floor(clock());
            return toSignals(history(n, {
              t: (i) => mutate?.(i, n).t ?? end - n + 1 + i,
              arrivalRate: (i) => mutate?.(i, n).arrivalRate ?? 3000, throughput: () => 3000,
              lag: (i) => mutate?.(i, n).lag ?? 100, busyTimeMsPerSecond: () => 700, parallelism: () => 4, latencySeconds: () => 0.3,
            }));
          },
        };
      },
    });
    await advance(600);
    await loop.tick();
    expect(requests.length).toBe(1);
    const faults: [typeof mutate, HoldReason][] = [
      [(i, n) => (i === n - 1 ? { arrivalRate: Number.NaN } : {}), 'no_data'],
      [(i, n) => (i === n - 1 ? { lag: Number.POSITIVE_INFINITY } : {}), 'invalid_values'],
      [(i, n) => ({ t: Math.floor(clock()) + 120 - n + 1 + i }), 'clock_skew'],
      [(i, n) => ({ t: Math.floor(clock()) - 300 - n + 1 + i }), 'stale'],
    ];
    for (const [fault, reason] of faults) {
      mutate = fault;
      await advance(10);
      await loop.tick();
      expect(loop.readiness().reason).toContain(`holding (${reason})`);
      expect(await holds()).toEqual([reason]);
      expect(requests.length).toBe(1);
    }
    mutate = undefined;
    await advance(10);
    await loop.tick();
    expect(loop.readiness().ready).toBe(true);
    expect(requests.length).toBe(2);
    await loop.stop();
  });
});
