import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePhoebeConfig } from '../../../src/config/phoebe-config.js';
import { prometheusSourceFromConfig } from '../../../src/cli/prometheus-from-config.js';
import { FLINK_METRICS, KAFKA_METRICS } from '../../../src/observe/exporter-metrics.js';
import { createPrometheusClient, type PrometheusClient } from '../../../src/observe/prometheus-client.js';
import { PrometheusSource } from '../../../src/observe/prometheus-source.js';
import { JOB_STATUS_CODE, type SignalHistory } from '../../../src/observe/signals.js';
import { findPrometheus, startPrometheus, type PrometheusHarness } from '../../support/prometheus-harness.js';

/**
 * PrometheusSource against a real Prometheus scraping a tiny exposition this test controls:
 * the names and labels of Flink's Prometheus reporter (sanitised as it does by default) and
 * kafka_exporter. The job runs, restarts in place, runs, is stopped and resubmitted at a
 * higher parallelism (its metrics vanish meanwhile), and runs again.
 */

const BINARY = findPrometheus();
if (!BINARY) console.warn('prometheus-source integration test skipped: no prometheus binary (test/setup/install-system-deps.sh installs it as root)');

type Phase = 'running' | 'restarting' | 'stopped';

/** What the fake job exposes now. */
const state = {
  phase: 'running' as Phase,
  parallelism: 2,
  jobId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  restarts: 0,
  runningSince: Date.now(),
  checkpoints: 10,
  startedAt: Date.now(),
};

const JOB = { job_name: 'orders_enrichment' };
const OFFSET_RATE_PER_PARTITION = 150;
const CONSUMED_PER_SUBTASK = 120;

function labels(l: Record<string, string | number>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}="${String(v)}"`).join(',')}}`;
}

function exposition(): string {
  const lines: string[] = [];
  const gauge = (name: string, l: Record<string, string | number>, value: number) => lines.push(`${name}${labels(l)} ${value}`);
  const now = Date.now();
  // kafka_exporter: always there.
  for (const partition of [0, 1]) {
    gauge(KAFKA_METRICS.topicPartitionCurrentOffset, { topic: 'orders', partition }, Math.round(1e6 + OFFSET_RATE_PER_PARTITION * (now - state.startedAt) / 1000));
    gauge(KAFKA_METRICS.consumerGroupLag, { consumergroup: 'orders-enrichment', topic: 'orders', partition }, 40 + 20 * partition);
  }
  if (state.phase === 'stopped') return `${lines.join('\n')}\n`;
  const job = { ...JOB, job_id: state.jobId };
  const running = state.phase === 'running';
  gauge(FLINK_METRICS.uptime, { ...job, host: 'jobmanager' }, running ? now - state.runningSince : 0);
  gauge(FLINK_METRICS.numRestarts, { ...job, host: 'jobmanager' }, state.restarts);
  gauge(FLINK_METRICS.numberOfCompletedCheckpoints, { ...job, host: 'jobmanager' }, state.checkpoints + Math.floor((now - state.startedAt) / 1000));
  gauge(FLINK_METRICS.lastCheckpointDuration, { ...job, host: 'jobmanager' }, 250);
  for (let s = 0; s < state.parallelism; s++) {
    const tm = { tm_id: `taskmanager-${s}`, host: `10.0.0.${s + 1}` };
    const source = { ...job, ...tm, task_id: 'cbc357ccb763df2852fee8c4fc7d55f2', task_name: 'Source:_orders', subtask_index: s, task_attempt_num: 0 };
    const sink = { ...job, ...tm, task_id: '90bea66de1c231edf33913ecd54406c1', task_name: 'Enrich____Sink:_out', subtask_index: s, task_attempt_num: 0 };
    gauge(FLINK_METRICS.numRecordsInPerSecond, source, running ? CONSUMED_PER_SUBTASK : 0);
    gauge(FLINK_METRICS.numRecordsInPerSecond, sink, running ? CONSUMED_PER_SUBTASK : 0);
    gauge(FLINK_METRICS.kafkaRecordsConsumedRate, { ...source, operator_id: 'cbc357ccb763df2852fee8c4fc7d55f2', operator_name: 'Source:_orders' }, running ? CONSUMED_PER_SUBTASK : 0);
    gauge(FLINK_METRICS.pendingRecords, { ...source, operator_id: 'cbc357ccb763df2852fee8c4fc7d55f2', operator_name: 'Source:_orders' }, 50);
    gauge(FLINK_METRICS.busyTimeMsPerSecond, source, running ? 200 + s : 0);
    gauge(FLINK_METRICS.busyTimeMsPerSecond, sink, running ? 700 + 10 * s : 0);
    gauge(FLINK_METRICS.backPressuredTimeMsPerSecond, source, running ? 300 + s : 0);
    gauge(FLINK_METRICS.backPressuredTimeMsPerSecond, sink, 0);
    for (const [quantile, ms] of [[0.5, 120], [0.95, 600], [0.99, 850]] as const) {
      gauge(FLINK_METRICS.latency, { ...job, ...tm, source_id: 'cbc357ccb763df2852fee8c4fc7d55f2', operator_id: '90bea66de1c231edf33913ecd54406c1', operator_subtask_index: s, quantile }, ms);
    }
  }
  return `${lines.join('\n')}\n`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Spells of equal status, oldest first: [status, steps]. */
function spells(h: SignalHistory): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < h.length; i++) {
    const s = h.status[i] as number;
    const last = out[out.length - 1];
    if (last && last[0] === s) last[1]++;
    else out.push([s, 1]);
  }
  return out;
}

function configFor(url: string, extra = ''): string {
  return `prometheus: { url: "${url}", timeoutSeconds: 5 }
job:
  name: orders-enrichment
  checkpointIntervalSeconds: 10
  ${extra}
slo: { latencySeconds: 1, recoveryTimeSeconds: 60 }
parallelism: { max: 8 }
decision: { intervalSeconds: 5 }
history: { backfillSeconds: 120, stepSeconds: 1, carryForwardSeconds: 2 }
# rate() divides by its whole window: a window longer than the series' life underestimates.
queries: { rateWindow: 5s }
`;
}

describe.skipIf(!BINARY)('PrometheusSource on a real Prometheus', () => {
  let server: Server;
  let prometheus: PrometheusHarness;
  let source: PrometheusSource;
  /** A time by which Prometheus has everything, for reads that must see the same data. */
  let frozenNow = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(exposition());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const started = Date.now();
    prometheus = await startPrometheus({ targets: [target] });
    console.info(`prometheus ready in ${Date.now() - started} ms at ${prometheus.url}`);
    source = prometheusSourceFromConfig(parsePhoebeConfig(configFor(prometheus.url, 'kafka: { topic: orders, consumerGroup: orders-enrichment }'), 'it.yaml', {}));

    // Running at p=2 until rate() has two offsets to work with.
    await prometheus.waitFor(`count_over_time(${KAFKA_METRICS.topicPartitionCurrentOffset}{partition="0"}[1m])`, (v) => (v[0] ?? 0) >= 4);
    // A restart in place: uptime 0, one more restart.
    state.phase = 'restarting';
    state.restarts = 1;
    await prometheus.waitFor(`max(${FLINK_METRICS.uptime})`, (v) => v[0] === 0);
    await sleep(1500);
    state.phase = 'running';
    state.runningSince = Date.now();
    await prometheus.waitFor(`max(${FLINK_METRICS.uptime})`, (v) => (v[0] ?? 0) > 0);
    await sleep(1500);
    // Stopped with a savepoint and resubmitted at p=3: a new job id, its counters from 0.
    state.phase = 'stopped';
    await prometheus.waitFor(`absent(${FLINK_METRICS.uptime})`, (v) => v[0] === 1);
    await sleep(1500);
    state.phase = 'running';
    state.parallelism = 3;
    state.jobId = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
    state.restarts = 0;
    state.runningSince = Date.now();
    await prometheus.waitFor(`max(count by (task_name) (${FLINK_METRICS.numRecordsInPerSecond}{task_name=~"Source:.*"}))`, (v) => v[0] === 3);
    await sleep(2000);
    frozenNow = Date.now() / 1000 - 1;
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('backfills a history with one sample per second and the latest values of every signal', async () => {
    const signals = await source.backfill();
    expect(signals).toBeDefined();
    const { history: h, latest } = signals!;
    for (let i = 1; i < h.length; i++) expect((h.t[i] as number) - (h.t[i - 1] as number)).toBe(1);
    expect(latest.t).toBe(h.t[h.length - 1]);
    expect(latest.status).toBe('RUNNING');
    expect(latest.arrivalRate).toBeGreaterThan(2 * OFFSET_RATE_PER_PARTITION * 0.9);
    expect(latest.arrivalRate).toBeLessThan(2 * OFFSET_RATE_PER_PARTITION * 1.1);
    expect(latest.throughput).toBe(3 * CONSUMED_PER_SUBTASK);
    // No reader offsets to subtract from the end offsets: pendingRecords (3 × 50) before kafka_exporter's checkpoint-committed lag (100).
    expect(latest.lag).toBe(3 * 50);
    expect(latest.busyTimeMsPerSecond).toBe(720);
    expect(latest.backPressuredTimeMsPerSecond).toBe(302);
    expect(latest.latencySeconds).toBeCloseTo(0.85, 9);
    expect(latest.parallelism).toBe(3);
    expect(latest.numRestarts).toBe(1);
    expect(latest.checkpointAgeSeconds).toBeGreaterThanOrEqual(0.25);
    expect(latest.checkpointAgeSeconds).toBeLessThan(3);
    const health = source.health();
    expect(health.answeredRecently).toBe(true);
    expect(health.lastError).toBeUndefined();
    expect(health.newestSampleAgeSeconds).toBeLessThan(3);
  });

  it('tells the restart from the rescale, and sees the parallelism change', () => {
    const h = source.signals()!.history;
    const { RUNNING, RESTARTING, RESCALING } = JOB_STATUS_CODE;
    const sequence = spells(h).map(([s]) => s);
    expect(sequence).toEqual([RUNNING, RESTARTING, RUNNING, RESCALING, RUNNING]);
    for (const [status, steps] of spells(h).slice(1, 4)) {
      expect(steps, `spell ${status}`).toBeGreaterThanOrEqual(1);
      expect(steps, `spell ${status}`).toBeLessThan(8);
    }
    const firstRescaling = Array.from(h.status).indexOf(RESCALING);
    expect(h.parallelism[firstRescaling - 1]).toBe(2);
    expect(h.parallelism[h.length - 1]).toBe(3);
    expect(h.throughput[Array.from(h.status).indexOf(RESTARTING)]).toBe(0);
    // The counter reset of the resubmitted job does not undo the restart.
    expect(Math.min(...Array.from(h.numRestarts).slice(firstRescaling))).toBe(1);
  });

  it('reads only what is new on refresh', async () => {
    const before = source.signals()!;
    await sleep(1500);
    const after = await source.refresh();
    expect(after!.latest.t).toBeGreaterThan(before.latest.t);
    expect(after!.history.t[0]).toBe(before.history.t[0]);
    expect(after!.latest.parallelism).toBe(3);
  });

  it('reads the same history in chunks of a few points as in one query', async () => {
    const config = parsePhoebeConfig(configFor(prometheus.url, 'kafka: { topic: orders, consumerGroup: orders-enrichment }'), 'it.yaml', {});
    const calls: Array<{ start: number; end: number; step: number }> = [];
    const real = createPrometheusClient({ url: prometheus.url, timeoutSeconds: 5 });
    const counting: PrometheusClient = {
      rangeQuery: (q, start, end, step) => { calls.push({ start, end, step }); return real.rangeQuery(q, start, end, step); },
      instantQuery: (q, t) => real.instantQuery(q, t),
    };
    const queries = Object.fromEntries(Object.entries(config.queries).filter(([k]) => k !== 'rateWindow' && k !== 'latencyQuantile'));
    const options = { queries: queries as never, stepSeconds: 1, backfillSeconds: 60, carryForwardSeconds: 2, now: () => frozenNow };
    const whole = new PrometheusSource({ ...options, client: real });
    const chunked = new PrometheusSource({ ...options, client: counting, maxPointsPerQuery: 4 });
    const a = await whole.backfill();
    const b = await chunked.backfill();
    expect(calls.length).toBe(11 * Math.ceil(61 / 4));
    for (const c of calls) expect((c.end - c.start) / c.step + 1).toBeLessThanOrEqual(4);
    const ra = whole.raw()!;
    const rb = chunked.raw()!;
    expect(rb.start).toBe(ra.start);
    expect(rb.length).toBe(61);
    for (const key of Object.keys(ra.columns) as Array<keyof typeof ra.columns>) {
      expect(Array.from(rb.columns[key]), key).toEqual(Array.from(ra.columns[key]));
    }
    expect(Array.from(b!.history.status)).toEqual(Array.from(a!.history.status));
  });

  it('runs the Flink-only default queries (no kafka_exporter names)', async () => {
    const flinkOnly = prometheusSourceFromConfig(parsePhoebeConfig(configFor(prometheus.url), 'it.yaml', {}));
    const s = await flinkOnly.backfill();
    // pendingRecords is constant: arrivals are what the sources consume; lag is pendingRecords.
    expect(s!.latest.arrivalRate).toBeCloseTo(3 * CONSUMED_PER_SUBTASK, 6);
    expect(s!.latest.lag).toBe(3 * 50);
    expect(s!.latest.status).toBe('RUNNING');
  });

  it('reports a rejected query as a typed error naming it', async () => {
    const config = parsePhoebeConfig(configFor(prometheus.url).replace('rateWindow: 5s', 'rateWindow: 5s, lag: "sum(rate("'), 'it.yaml', {});
    const broken = prometheusSourceFromConfig(config);
    await expect(broken.backfill()).rejects.toMatchObject({ name: 'PrometheusError', kind: 'query', message: expect.stringMatching(/^query lag: Prometheus rejected the query \(HTTP 400\)/) });
    expect(broken.health().answeredRecently).toBe(false);
  });
});
