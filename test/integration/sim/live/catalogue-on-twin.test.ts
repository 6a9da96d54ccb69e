/**
 * The default PromQL (src/observe/promql-catalogue.ts) evaluated by a real Prometheus scraping
 * the live twin's /metrics: lag, arrival rate and throughput must agree with what the twin
 * itself recorded. The preferred branches — the topic's end offsets minus each reader's
 * currentOffset for the lag, the rate of the source operator's numRecordsOut counter for the
 * throughput — must answer on their own, or the fast tests would only ever exercise the
 * fallbacks (pendingRecords and the per-second gauges read the same numbers in the twin).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLINK_METRICS } from '../../../../src/observe/exporter-metrics.js';
import { DEFAULT_SOURCE_TASK_PATTERN, defaultQueries } from '../../../../src/observe/promql-catalogue.js';
import type { LiveCluster } from '../../../../src/sim/live/live-cluster.js';
import { startLiveTwinServer, type LiveTwinServer } from '../../../../src/sim/live/server.js';
import { makeCluster } from '../../../support/live-cluster-harness.js';
import { findPrometheus, startPrometheus, type PrometheusHarness } from '../../../support/prometheus-harness.js';

const BINARY = findPrometheus();
if (!BINARY) console.warn('catalogue-on-twin integration test skipped: no prometheus binary (test/setup/install-system-deps.sh installs it as root)');

/** Simulated seconds per wall second: a simulated second is 100 ms, so 1 s scrapes see the counters move smoothly. */
const SPEED = 10;
const WINDOW_SECONDS = 10;

let cluster: LiveCluster;
let twin: LiveTwinServer;
let prometheus: PrometheusHarness;

beforeAll(async () => {
  if (!BINARY) return;
  // Overloaded, 12 000 records/s on 10 000: the backlog grows 2000 records every simulated second.
  cluster = makeCluster({ rate: 12_000, seconds: 3600, speed: SPEED, startWallMs: Date.now() });
  twin = await startLiveTwinServer({ cluster, port: 0 });
  prometheus = await startPrometheus({ targets: [twin.url.replace('http://', '')], scrapeIntervalSeconds: 1 });
  // The rate window is full once a sample older than it exists.
  await prometheus.waitFor(`count_over_time(${FLINK_METRICS.uptime}[${WINDOW_SECONDS + 3}s])`, (v) => (v[0] ?? 0) >= WINDOW_SECONDS + 2, 40_000);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await twin?.close();
});

/** Instant query at time t (s since the epoch): the values of the resulting vector. */
async function queryAt(expr: string, t: number): Promise<number[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${t}`, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as { status: string; error?: string; data?: { result: Array<{ value: [number, string] }> } };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${expr} failed: ${body.error ?? response.status}`);
  return body.data.result.map((s) => Number.parseFloat(s.value[1]));
}

/** The one value of a query, failing the test if it returned none or several. */
async function single(expr: string, t: number): Promise<number> {
  const values = await queryAt(expr, t);
  expect(values, expr).toHaveLength(1);
  return values[0] as number;
}

/** Mean of a column of the twin's record over simulated seconds [from, to). */
function mean(column: Float64Array, from: number, to: number): number {
  let total = 0;
  for (let s = from; s < to; s++) total += column[s] as number;
  return total / (to - from);
}

describe.skipIf(!BINARY)('the default lag, arrival and throughput queries on the live twin, through Prometheus', () => {
  it('agree with the twin\'s record: lag within 1 %, arrival and throughput within 5 % with a full rate window', async () => {
    const queries = defaultQueries({
      jobName: cluster.currentJob.name, sourceTaskPattern: DEFAULT_SOURCE_TASK_PATTERN, topic: cluster.topic,
      consumerGroup: cluster.consumerGroup, rateWindow: `${WINDOW_SECONDS}s`, latencyQuantile: 0.99,
    });
    // The preferred branches alone: everything before the first fallback.
    const endMinusPosition = queries.lag.slice(0, queries.lag.indexOf(` or sum(${FLINK_METRICS.pendingRecords}`));
    const counterRate = queries.throughput.slice(0, queries.throughput.indexOf(` or sum(${FLINK_METRICS.kafkaRecordsConsumedRate}`));
    expect(endMinusPosition).toContain(FLINK_METRICS.kafkaSourceCurrentOffset);
    expect(counterRate).toContain(FLINK_METRICS.operatorNumRecordsOut);

    // A moment every query sees the same scrape at: a second ago.
    const t = Date.now() / 1000 - 1;
    // Which simulated second that scrape saw: the first job runs from second 0, uptime in wall ms.
    const elapsed = Math.round((await single(FLINK_METRICS.uptime, t)) * SPEED / 1000);
    expect(elapsed).toBeGreaterThan(WINDOW_SECONDS * SPEED);
    const record = cluster.twin.record;
    const lag = record.lag[elapsed - 1] as number;
    expect(lag).toBeGreaterThan(100_000);
    const [lagRead, exactLagRead] = [await single(queries.lag, t), await single(endMinusPosition, t)];

    // Rates are per wall second: the twin's × SPEED, averaged over the simulated seconds the window spans.
    const from = elapsed - WINDOW_SECONDS * SPEED;
    const throughput = mean(record.throughput, from, elapsed) * SPEED;
    const arrival = mean(record.arrivalRate, from, elapsed) * SPEED;
    expect(throughput).toBeCloseTo(10_000 * SPEED, 6);
    const [throughputRead, counterRateRead, arrivalRead] = [await single(queries.throughput, t), await single(counterRate, t), await single(queries.arrivalRate, t)];
    console.info(`second ${elapsed}: lag ${lagRead} (end − position ${exactLagRead}) vs ${lag}; throughput ${throughputRead} (counter ${counterRateRead}) vs ${throughput}; arrival ${arrivalRead} vs ${arrival}`);
    const within = (read: number, truth: number): number => Math.abs(read - truth) / truth;
    expect(within(lagRead, lag)).toBeLessThan(0.01);
    expect(within(exactLagRead, lag)).toBeLessThan(0.01);
    expect(within(throughputRead, throughput)).toBeLessThan(0.05);
    expect(within(counterRateRead, throughput)).toBeLessThan(0.05);
    expect(within(arrivalRead, arrival)).toBeLessThan(0.05);
  });
});
