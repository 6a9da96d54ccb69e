import { describe, expect, it } from 'vitest';
import { FLINK_METRICS, KAFKA_METRICS } from '../../../src/observe/exporter-metrics.js';
import { renderMetrics } from '../../../src/sim/live/metrics-exposition.js';
import type { LiveCluster } from '../../../src/sim/live/live-cluster.js';
import { advanceToSecond, makeCluster } from '../../support/live-cluster-harness.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every sample belongs to a declared family, no duplicates. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const seen = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (gauge|counter|summary|histogram|untyped)$/.exec(line);
    if (type) {
      expect(types.has(type[1] as string), `family ${type[1]} declared twice`).toBe(false);
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const [, name, body, value] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const pair of (body ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1).replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    }
    const family = types.has(name) ? name : name.replace(/_(count|sum)$/, '');
    expect(types.has(family), `sample ${name} has no TYPE`).toBe(true);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

function series(samples: Sample[], name: string): Sample[] {
  return samples.filter((s) => s.name === name);
}

const TASK_METRICS = [
  FLINK_METRICS.busyTimeMsPerSecond, FLINK_METRICS.backPressuredTimeMsPerSecond, FLINK_METRICS.numRecordsInPerSecond,
  FLINK_METRICS.kafkaRecordsConsumedRate, FLINK_METRICS.pendingRecords,
];
const JOB_METRICS = [FLINK_METRICS.numRestarts, FLINK_METRICS.uptime, FLINK_METRICS.lastCheckpointDuration, FLINK_METRICS.numberOfCompletedCheckpoints];

function sample(cluster: LiveCluster): Sample[] {
  return parseExposition(renderMetrics(cluster));
}

describe('live twin /metrics', () => {
  it('exposes every exporter metric with per-subtask task series and the twin\'s values', () => {
    const cluster = makeCluster();
    advanceToSecond(cluster, 30);
    const samples = sample(cluster);
    const jobId = cluster.currentJob.id;
    for (const name of TASK_METRICS) {
      const s = series(samples, name);
      expect(s, name).toHaveLength(10);
      expect(s.map((x) => x.labels.subtask_index).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 10 }, (_, k) => String(k)));
      for (const x of s) expect(x.labels).toMatchObject({ job_id: jobId, job_name: 'twin-test', task_name: 'Source: events -> Process', task_id: cluster.vertexId });
    }
    // 6000 records/s on 10 slots of 1000: busy 600 ms/s, 600 records/s per subtask, no lag.
    for (const x of series(samples, FLINK_METRICS.busyTimeMsPerSecond)) expect(x.value).toBeCloseTo(600, 9);
    for (const x of series(samples, FLINK_METRICS.backPressuredTimeMsPerSecond)) expect(x.value).toBe(0);
    for (const x of series(samples, FLINK_METRICS.numRecordsInPerSecond)) expect(x.value).toBeCloseTo(600, 9);
    for (const x of series(samples, FLINK_METRICS.kafkaRecordsConsumedRate)) {
      expect(x.value).toBeCloseTo(600, 9);
      expect(x.labels.operator_name).toBe('Source: events');
    }
    for (const x of series(samples, FLINK_METRICS.pendingRecords)) expect(x.value).toBe(0);
    // Latency: 0.2 s / (1 − 0.6) = 0.5 s, every quantile, one set per subtask.
    const latency = series(samples, FLINK_METRICS.latency);
    expect(latency).toHaveLength(30);
    expect(new Set(latency.map((x) => x.labels.quantile))).toEqual(new Set(['0.5', '0.95', '0.99']));
    for (const x of latency) expect(x.value).toBeCloseTo(500, 9);
    const job = (name: string): Sample => {
      const s = series(samples, name);
      expect(s, name).toHaveLength(1);
      expect((s[0] as Sample).labels).toEqual({ host: 'twin-test-jobmanager', job_id: jobId, job_name: 'twin-test' });
      return s[0] as Sample;
    };
    expect(job(FLINK_METRICS.numRestarts).value).toBe(0);
    expect(job(FLINK_METRICS.uptime).value).toBe(30_000);
    expect(job(FLINK_METRICS.numberOfCompletedCheckpoints).value).toBe(3);
    expect(job(FLINK_METRICS.lastCheckpointDuration).value).toBe(1000);
    const offsets = series(samples, KAFKA_METRICS.topicPartitionCurrentOffset);
    expect(offsets).toHaveLength(8);
    expect(offsets.reduce((a, x) => a + x.value, 0)).toBe(30 * 6000);
    expect(offsets.every((x) => x.labels.topic === 'events')).toBe(true);
    const lags = series(samples, KAFKA_METRICS.consumerGroupLag);
    expect(lags).toHaveLength(8);
    expect(lags.every((x) => x.labels.consumergroup === 'phoebe-demo' && x.value === 0)).toBe(true);
  });

  it('task series disappear while the job is down, job-scope and Kafka series stay; a resubmission brings a new job_id', () => {
    const cluster = makeCluster({ rate: 12_000 });
    advanceToSecond(cluster, 20);
    const first = cluster.currentJob.id;
    const trigger = cluster.stopWithSavepoint(first);
    advanceToSecond(cluster, 21);
    // Savepoint in progress: the job is RUNNING (its tasks exist) but processes nothing.
    let samples = sample(cluster);
    expect(series(samples, FLINK_METRICS.busyTimeMsPerSecond)).toHaveLength(10);
    expect(series(samples, FLINK_METRICS.busyTimeMsPerSecond).every((x) => x.value === 0)).toBe(true);
    advanceToSecond(cluster, 25);
    samples = sample(cluster);
    for (const name of [...TASK_METRICS, FLINK_METRICS.latency]) expect(series(samples, name), name).toHaveLength(0);
    for (const name of JOB_METRICS) expect(series(samples, name), name).toHaveLength(1);
    expect(series(samples, FLINK_METRICS.uptime)[0]?.value).toBe(0);
    expect(series(samples, FLINK_METRICS.uptime)[0]?.labels.job_id).toBe(first);
    const lag = series(samples, KAFKA_METRICS.consumerGroupLag).reduce((a, x) => a + x.value, 0);
    expect(lag).toBe(Math.round(cluster.twin.record.lag[24] as number));
    expect(lag).toBeGreaterThan(4 * 12_000);
    expect(series(samples, KAFKA_METRICS.topicPartitionCurrentOffset).reduce((a, x) => a + x.value, 0)).toBe(25 * 12_000);

    const location = cluster.savepointStatus(first, trigger).location as string;
    const second = cluster.runJar(cluster.jarId, { parallelism: 16, savepointPath: location });
    advanceToSecond(cluster, 35); // submitted at 25: RUNNING from max(20 + 10, 25 + 8) = 33
    samples = sample(cluster);
    const busy = series(samples, FLINK_METRICS.busyTimeMsPerSecond);
    expect(busy).toHaveLength(16);
    expect(busy.every((x) => x.labels.job_id === second.id)).toBe(true);
    expect(series(samples, FLINK_METRICS.numberOfCompletedCheckpoints)[0]?.value).toBe(0); // per job
    expect(series(samples, FLINK_METRICS.lastCheckpointDuration)[0]?.value).toBe(0);
    expect(series(samples, FLINK_METRICS.uptime)[0]).toMatchObject({ value: 2000, labels: { job_id: second.id } });
    // Catching up: pendingRecords per subtask = lag / 16, throughput = capacity.
    const pending = series(samples, FLINK_METRICS.pendingRecords);
    expect(pending[0]?.value).toBeCloseTo((cluster.twin.record.lag[34] as number) / 16, 6);
    for (const x of series(samples, FLINK_METRICS.numRecordsInPerSecond)) expect(x.value).toBeCloseTo(16_000 / 16, 6);
  });

  it('a failure counts in numRestarts of the job and bumps the task attempt; uptime restarts from zero', () => {
    const cluster = makeCluster({ overrides: { failures: [10] } });
    advanceToSecond(cluster, 45);
    const samples = sample(cluster);
    expect(series(samples, FLINK_METRICS.numRestarts)[0]?.value).toBe(1);
    expect(series(samples, FLINK_METRICS.uptime)[0]?.value).toBe(5000); // RUNNING again from second 40
    expect(series(samples, FLINK_METRICS.busyTimeMsPerSecond).every((x) => x.labels.task_attempt_num === '1')).toBe(true);
  });
});
