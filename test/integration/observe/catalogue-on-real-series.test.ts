/**
 * The default PromQL evaluated by promtool (Prometheus's own engine) on series shaped exactly as
 * a real Flink 1.20/2.x PrometheusReporter and kafka_exporter publish them — label values
 * sanitised, a task_attempt_id per attempt, the source task's input rate at 0 — as the
 * real-cluster test recorded them. Each case is one finding of reading Flink's and
 * kafka_exporter's source against the catalogue; each failed before the catalogue was fixed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FLINK_METRICS, KAFKA_METRICS } from '../../../src/observe/exporter-metrics.js';
import { defaultQueries, type QueryKey } from '../../../src/observe/promql-catalogue.js';

const dir = mkdtempSync(join(tmpdir(), 'phoebe-catalogue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const queries = defaultQueries({
  jobName: 'orders-enrichment', sourceTaskPattern: 'Source:.*', topic: 'orders', consumerGroup: 'enrich', rateWindow: '1m', latencyQuantile: 0.99,
});
const noKafka = defaultQueries({ jobName: 'orders-enrichment', sourceTaskPattern: 'Source:.*', rateWindow: '1m', latencyQuantile: 0.99 });

type Labels = Record<string, string>;
interface Series { name: string; labels: Labels; values: string }

const JOB: Labels = { host: '127_0_0_1', job_id: 'c9f4ea4329377f590be740fa331723d5', job_name: 'orders_enrichment' };

/** The task-scope labels of one subtask, as the reporter publishes them. */
function task(taskName: string, subtask: number, attempt = 0, jobId = JOB.job_id as string): Labels {
  const taskId = taskName.startsWith('Source') || taskName.includes('Source') ? 'c3919b0b80c770dcaba928458d2e49b0' : 'cfb31ddc17acace6f3c9cb0d6be81b38';
  return {
    ...JOB, job_id: jobId, task_name: taskName, task_id: taskId, subtask_index: String(subtask), task_attempt_num: String(attempt),
    task_attempt_id: `7602c440de7b1a806b9a8fb6838e3d66_${taskId}_${subtask}_${attempt}`, tm_id: '127_0_0_1:35451_55edc7',
  };
}
const op = (labels: Labels, operatorName: string): Labels => ({ ...labels, operator_name: operatorName, operator_id: 'c3919b0b80c770dcaba928458d2e49b0' });
const flat = (name: string, labels: Labels, value: number): Series => ({ name, labels, values: `${value}x120` });

/** Evaluates `expr` at 90 s on the series with promtool; the single result's value, or undefined if empty. */
function evaluate(series: Series[], expr: string, expected: number | undefined): { ok: boolean; output: string } {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.yaml`);
  const inputSeries = series.map((s) => ({
    series: `${s.name}{${Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`,
    values: s.values,
  }));
  writeFileSync(file, stringify({
    // Without it promtool evaluates range functions on a 1 m grid: rate() read half the rate.
    evaluation_interval: '1s',
    tests: [{
      interval: '1s',
      input_series: inputSeries,
      promql_expr_test: [{ expr, eval_time: '90s', exp_samples: expected === undefined ? [] : [{ labels: '{}', value: expected }] }],
    }],
  }));
  const run = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw new Error(`promtool not runnable: ${run.error.message}`);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

function expectValue(series: Series[], key: QueryKey, expected: number | undefined, set = queries): void {
  const { ok, output } = evaluate(series, set[key], expected);
  expect(ok, `${key} = ${set[key]}\n${output}`).toBe(true);
}

/** A running two-vertex job as Flink 1.20.3 publishes it: source p=2, keyed "cost" p=2. */
function runningJob(options: { sourceName?: string; costName?: string; sourceP?: number; costP?: number; consumedRate?: boolean; outCounter?: boolean } = {}): Series[] {
  const source = options.sourceName ?? 'Source:_orders';
  const cost = options.costName ?? 'cost____output:_Writer____output:_Committer';
  const out: Series[] = [];
  for (let k = 0; k < (options.sourceP ?? 2); k++) {
    const t = task(source, k);
    out.push(flat(FLINK_METRICS.busyTimeMsPerSecond, t, 14), flat(FLINK_METRICS.backPressuredTimeMsPerSecond, t, 900));
    // A FLIP-27 source task reads nothing from the network: its input rate is 0.
    out.push(flat(FLINK_METRICS.numRecordsInPerSecond, t, 0));
    out.push(flat(FLINK_METRICS.operatorNumRecordsOutPerSecond, op(t, 'Source:_orders'), 200));
    if (options.consumedRate) out.push(flat(FLINK_METRICS.kafkaRecordsConsumedRate, op(t, 'Source:_orders'), 210));
    // The output counter grows by 180 records a second per subtask.
    if (options.outCounter) out.push({ name: FLINK_METRICS.operatorNumRecordsOut, labels: op(t, 'Source:_orders'), values: '1000+180x120' });
  }
  for (let k = 0; k < (options.costP ?? 2); k++) {
    const t = task(cost, k);
    out.push(flat(FLINK_METRICS.busyTimeMsPerSecond, t, 950), flat(FLINK_METRICS.numRecordsInPerSecond, t, 400 / (options.costP ?? 2)));
  }
  return out;
}

describe('the default queries on real Flink and kafka_exporter series (promtool)', () => {
  it('throughput: the source operator\'s output rate when the Kafka reader rate is absent, never the source task\'s 0 input rate', () => {
    expectValue(runningJob(), 'throughput', 400);
    expectValue(runningJob({ consumedRate: true }), 'throughput', 420);
  });

  it('throughput: the output counter\'s rate over phoebe\'s window before any per-second gauge (they lag a minute behind a rescale)', () => {
    expectValue(runningJob({ consumedRate: true, outCounter: true }), 'throughput', 360);
  });

  it('lag and arrival: the topic\'s end offsets (broker JMX, as Strimzi names them) minus the job\'s position, partition by partition', () => {
    const position = (partition: number, offset: number, jobId = JOB.job_id as string): Series =>
      flat(FLINK_METRICS.kafkaSourceCurrentOffset, { ...op(task('Source:_orders', partition % 2, 0, jobId), 'Source:_orders'), topic: 'orders', partition: String(partition) }, offset);
    const end = (partition: number): Series => ({
      name: KAFKA_METRICS.brokerLogEndOffset, labels: { instance: '127.0.0.1:9404', job: 'kafka', topic: 'orders', partition: String(partition) }, values: '100000+1000x120',
    });
    // At 90 s each end offset is 190,000 and grows 1,000/s.
    const series = [
      ...runningJob(), end(0), end(1), end(2),
      position(0, 150_000), position(1, 170_000),
      // A reader that has not read partition 2 since its restart: not 190,000 records of backlog.
      position(2, -1),
      // The old job's last value of partition 0, still in the lookback: the newer position counts.
      position(0, 120_000, 'b'.repeat(32)),
      // pendingRecords (the consumer's lag at its last fetch) far below the truth.
      flat(FLINK_METRICS.pendingRecords, op(task('Source:_orders', 0), 'Source:_orders'), 5000),
    ];
    expectValue(series, 'lag', 40_000 + 20_000);
    expectValue(series, 'arrivalRate', 3000);
  });

  it('lag: a topic whose name Flink\'s reporter sanitises (orders.eu-1 → orders_eu_1) still joins the exporters\' end offsets', () => {
    const dotted = defaultQueries({ jobName: 'orders-enrichment', sourceTaskPattern: 'Source:.*', topic: 'orders.eu-1', rateWindow: '1m', latencyQuantile: 0.99 });
    const series = [
      ...runningJob(),
      flat(KAFKA_METRICS.topicPartitionCurrentOffset, { topic: 'orders.eu-1', partition: '0' }, 9000),
      flat(FLINK_METRICS.kafkaSourceCurrentOffset, { ...op(task('Source:_orders', 0), 'Source:_orders'), topic: 'orders_eu_1', partition: '0' }, 6000),
      flat(FLINK_METRICS.pendingRecords, op(task('Source:_orders', 0), 'Source:_orders'), 10),
    ];
    expectValue(series, 'lag', 3000, dotted);
  });

  it('lag: Flink\'s pendingRecords before kafka_exporter\'s checkpoint-committed lag; -1 (unknown) is not a negative backlog', () => {
    const series = [
      ...runningJob(),
      flat(FLINK_METRICS.pendingRecords, op(task('Source:_orders', 0), 'Source:_orders'), 5000),
      flat(FLINK_METRICS.pendingRecords, op(task('Source:_orders', 1), 'Source:_orders'), -1),
      // kafka_exporter: the true 5000 plus what was consumed since the last checkpoint; -1 where
      // the group committed nothing yet.
      flat(KAFKA_METRICS.consumerGroupLag, { consumergroup: 'enrich', topic: 'orders', partition: '0' }, 6500),
      flat(KAFKA_METRICS.consumerGroupLag, { consumergroup: 'enrich', topic: 'orders', partition: '1' }, -1),
    ];
    expectValue(series, 'lag', 5000);
  });

  it('lag: kafka_exporter fills in while pendingRecords is absent, each partition\'s -1 counted as 0', () => {
    const series = [
      ...runningJob(),
      flat(KAFKA_METRICS.consumerGroupLag, { consumergroup: 'enrich', topic: 'orders', partition: '0' }, 700),
      flat(KAFKA_METRICS.consumerGroupLag, { consumergroup: 'enrich', topic: 'orders', partition: '1' }, -1),
    ];
    expectValue(series, 'lag', 700);
  });

  it('lag: absent pendingRecords after a restart reads as no backlog while the sources run, and as no data while they do not', () => {
    expectValue(runningJob(), 'lag', 0, noKafka);
    expectValue([flat(FLINK_METRICS.numRestarts, JOB, 1)], 'lag', undefined, noKafka);
  });

  it('parallelism: the widest non-source vertex, so a source pinned to the partitions does not count', () => {
    expectValue(runningJob({ sourceP: 12, costP: 3 }), 'parallelism', 3);
    expectValue(runningJob({ sourceP: 2, costP: 4 }), 'parallelism', 4);
    // A job of sources only: its sources.
    expectValue(runningJob({ sourceP: 3, costP: 0 }), 'parallelism', 3);
  });

  it('parallelism: two attempts of one subtask during a restart count once', () => {
    const series = runningJob({ sourceP: 2, costP: 2 });
    const second = task('cost____output:_Writer____output:_Committer', 1, 1);
    series.push(flat(FLINK_METRICS.busyTimeMsPerSecond, second, 0), flat(FLINK_METRICS.numRecordsInPerSecond, second, 0));
    expectValue(series, 'parallelism', 2);
  });

  it('matches vertex names with Flink\'s index prefix (pipeline.vertex-name-include-index-prefix)', () => {
    const series = runningJob({ sourceName: '_vertex_0_Source:_orders', costName: '_vertex_1_cost____output:_Writer____output:_Committer', sourceP: 12, costP: 3 });
    expectValue(series, 'parallelism', 3);
    expectValue(series, 'backPressuredTimeMsPerSecond', 900);
  });
});
