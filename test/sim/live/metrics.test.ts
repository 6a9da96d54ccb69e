import { describe, expect, it } from 'vitest';
import { FLINK_METRICS, KAFKA_METRICS } from '../../../src/sim/live/flink-metric-names.js';
import { LATENCY_QUANTILES, sanitiseLabelValue } from '../../../src/sim/live/metrics-exposition.js';
import type { LiveCluster } from '../../../src/sim/live/live-cluster.js';
import { idleBetween, sample, series, sum, type Sample } from './metrics-support.js';
import { advanceToSecond, makeCluster } from '../../support/live-cluster-harness.js';

const TASK_METRICS = [
  FLINK_METRICS.busyTimeMsPerSecond, FLINK_METRICS.backPressuredTimeMsPerSecond, FLINK_METRICS.numRecordsInPerSecond,
  FLINK_METRICS.kafkaRecordsConsumedRate, FLINK_METRICS.pendingRecords,
];
const JOB_METRICS = [FLINK_METRICS.numRestarts, FLINK_METRICS.uptime, FLINK_METRICS.lastCheckpointDuration, FLINK_METRICS.numberOfCompletedCheckpoints];

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
      for (const x of s) expect(x.labels).toMatchObject({ job_id: jobId, job_name: 'twin_test', task_name: 'Source:_events____Process', task_id: cluster.vertexId });
    }
    // 6000 records/s on 10 slots of 1000: busy 600 ms/s, 600 records/s per subtask, no lag.
    for (const x of series(samples, FLINK_METRICS.busyTimeMsPerSecond)) expect(x.value).toBeCloseTo(600, 9);
    for (const x of series(samples, FLINK_METRICS.backPressuredTimeMsPerSecond)) expect(x.value).toBe(0);
    for (const x of series(samples, FLINK_METRICS.kafkaRecordsConsumedRate)) {
      expect(x.value).toBeCloseTo(600, 9);
      expect(x.labels.operator_name).toBe('Source:_events');
    }
    for (const x of series(samples, FLINK_METRICS.pendingRecords)) expect(x.value).toBe(0);
    // Latency: 0.2 s / (1 − 0.6) = 0.5 s, every quantile, one set per subtask.
    const latency = series(samples, FLINK_METRICS.latency);
    expect(latency).toHaveLength(10 * LATENCY_QUANTILES.length);
    for (const x of latency) expect(x.value).toBeCloseTo(500, 9);
    const job = (name: string): Sample => {
      const s = series(samples, name);
      expect(s, name).toHaveLength(1);
      expect((s[0] as Sample).labels).toEqual({ host: 'twin_test_jobmanager', job_id: jobId, job_name: 'twin_test' });
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
    const sourceOut = series(samples, FLINK_METRICS.operatorNumRecordsOutPerSecond).filter((x) => x.labels.operator_name === 'Source:_events');
    expect(sourceOut).toHaveLength(16);
    for (const x of sourceOut) expect(x.value).toBeCloseTo(16_000 / 16, 6);
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

describe('live twin /metrics as a real Flink 1.20/2.x cluster shows them', () => {
  it('sanitises every label value of the Flink series as the PrometheusReporter does, not kafka_exporter\'s', () => {
    expect(sanitiseLabelValue('Source: events -> Process')).toBe('Source:_events____Process');
    expect(sanitiseLabelValue('my-job')).toBe('my_job');
    expect(sanitiseLabelValue('127.0.0.1:35451-55edc7')).toBe('127_0_0_1:35451_55edc7');
    const cluster = makeCluster({ topic: 'orders.eu-1', consumerGroup: 'phoebe-demo.v2' });
    advanceToSecond(cluster, 30);
    const samples = sample(cluster);
    const flink = samples.filter((x) => x.name.startsWith('flink_'));
    expect(flink.length).toBeGreaterThan(0);
    for (const x of flink) {
      for (const [key, value] of Object.entries(x.labels)) {
        if (key !== 'quantile') expect(value, `${x.name} ${key}`).toMatch(/^[A-Za-z0-9_:]*$/);
      }
    }
    const busy = series(samples, FLINK_METRICS.busyTimeMsPerSecond).find((x) => x.labels.subtask_index === '0') as Sample;
    expect(busy.labels).toMatchObject({ job_name: 'twin_test', task_name: 'Source:_events____Process', host: 'twin_test_taskmanager_1_1', tm_id: 'twin_test_taskmanager_1_1' });
    expect(new Set(series(samples, FLINK_METRICS.operatorNumRecordsOutPerSecond).map((x) => x.labels.operator_name))).toEqual(new Set(['Source:_events', 'Process']));
    expect(series(samples, FLINK_METRICS.numRestarts)[0]?.labels).toMatchObject({ host: 'twin_test_jobmanager', job_name: 'twin_test' });
    expect(series(samples, FLINK_METRICS.latency)[0]?.labels).toMatchObject({ job_name: 'twin_test', host: 'twin_test_taskmanager_1_1' });
    for (const x of [...series(samples, KAFKA_METRICS.consumerGroupLag), ...series(samples, KAFKA_METRICS.topicPartitionCurrentOffset)]) {
      expect(x.labels.topic).toBe('orders.eu-1');
    }
    expect(series(samples, KAFKA_METRICS.consumerGroupLag).every((x) => x.labels.consumergroup === 'phoebe-demo.v2')).toBe(true);
  });

  it('labels every task and operator series with task_attempt_id: <execution graph>_<task_id>_<subtask>_<attempt>', () => {
    const cluster = makeCluster({ overrides: { failures: [10] } });
    advanceToSecond(cluster, 5);
    const attemptIds = (samples: Sample[], name: string): string[] => series(samples, name).map((x) => x.labels.task_attempt_id as string);
    let samples = sample(cluster);
    const first = attemptIds(samples, FLINK_METRICS.busyTimeMsPerSecond);
    expect(first).toHaveLength(10);
    const graph = (first[0] as string).slice(0, 32);
    expect(graph).toMatch(/^[0-9a-f]{32}$/);
    for (const x of series(samples, FLINK_METRICS.busyTimeMsPerSecond)) {
      expect(x.labels.task_attempt_id).toBe(`${graph}_${cluster.vertexId}_${x.labels.subtask_index}_0`);
    }
    // Operator scope: the task's labels, so the same attempt id per subtask.
    for (const name of [FLINK_METRICS.pendingRecords, FLINK_METRICS.kafkaRecordsConsumedRate, FLINK_METRICS.operatorNumRecordsOutPerSecond, FLINK_METRICS.operatorNumRecordsInPerSecond]) {
      for (const x of series(samples, name)) expect(x.labels.task_attempt_id, name).toBe(`${graph}_${cluster.vertexId}_${x.labels.subtask_index}_0`);
    }
    // The restart after the failure at 10 (down 30 s) is attempt 1 of the same job.
    advanceToSecond(cluster, 45);
    samples = sample(cluster);
    for (const x of series(samples, FLINK_METRICS.numRecordsInPerSecond)) {
      expect(x.labels.task_attempt_id).toBe(`${graph}_${cluster.vertexId}_${x.labels.subtask_index}_1`);
      expect(x.labels.task_attempt_num).toBe('1');
    }
    // A resubmitted job has an execution graph of its own and starts over at attempt 0.
    const trigger = cluster.stopWithSavepoint(cluster.currentJob.id);
    advanceToSecond(cluster, 48);
    cluster.runJar(cluster.jarId, { parallelism: 10, savepointPath: cluster.savepointStatus(cluster.jobs[0]?.id as string, trigger).location as string });
    advanceToSecond(cluster, 60);
    const resubmitted = attemptIds(sample(cluster), FLINK_METRICS.busyTimeMsPerSecond);
    expect(resubmitted).toHaveLength(10);
    expect((resubmitted[0] as string).slice(0, 32)).not.toBe(graph);
    expect(resubmitted.every((id) => id.endsWith('_0'))).toBe(true);
  });

  it('serves the latency summary with the quantiles Flink\'s reporter writes, non-decreasing, and its _count', () => {
    const cluster = makeCluster({ rate: 9000 });
    advanceToSecond(cluster, 30);
    const samples = sample(cluster);
    const latency = series(samples, FLINK_METRICS.latency);
    expect(LATENCY_QUANTILES).toEqual(['0', '0.5', '0.75', '0.95', '0.98', '0.99', '0.999', '1.0']);
    expect(new Set(latency.map((x) => x.labels.quantile))).toEqual(new Set(LATENCY_QUANTILES));
    for (let k = 0; k < 10; k++) {
      const mine = latency.filter((x) => x.labels.operator_subtask_index === String(k));
      const values = LATENCY_QUANTILES.map((q) => (mine.find((x) => x.labels.quantile === q) as Sample).value);
      for (let j = 1; j < values.length; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1] as number);
      // The default query reads 0.99: the twin's end-to-end latency, 0.2 s / (1 − 0.9) = 2 s.
      expect(values[LATENCY_QUANTILES.indexOf('0.99')]).toBeCloseTo(2000, 6);
    }
    const count = series(samples, `${FLINK_METRICS.latency}_count`);
    expect(count).toHaveLength(10);
    expect(count.every((x) => x.value === 30 && x.labels.quantile === undefined)).toBe(true);
  });

  it('a chained FLIP-27 source task reads 0 records in; the source operator\'s output and Process\'s input and output carry the throughput', () => {
    const cluster = makeCluster();
    advanceToSecond(cluster, 30);
    const samples = sample(cluster);
    const input = series(samples, FLINK_METRICS.numRecordsInPerSecond);
    expect(input).toHaveLength(10);
    expect(input.every((x) => x.value === 0)).toBe(true);
    const operator = (name: string, operatorName: string): Sample[] => series(samples, name).filter((x) => x.labels.operator_name === operatorName);
    const check = (xs: Sample[], value: number, operatorId: string): void => {
      expect(xs).toHaveLength(10);
      for (const x of xs) {
        expect(x.value).toBeCloseTo(value, 9);
        expect(x.labels).toMatchObject({ operator_id: operatorId, task_id: cluster.vertexId, task_name: 'Source:_events____Process' });
      }
    };
    // The source operator heads the chain: its id is the vertex id, as on a real cluster.
    expect(cluster.sourceOperatorId).toBe(cluster.vertexId);
    check(operator(FLINK_METRICS.operatorNumRecordsOutPerSecond, 'Source:_events'), 600, cluster.vertexId);
    check(operator(FLINK_METRICS.operatorNumRecordsInPerSecond, 'Source:_events'), 0, cluster.vertexId);
    check(operator(FLINK_METRICS.operatorNumRecordsInPerSecond, 'Process'), 600, cluster.processOperatorId);
    check(operator(FLINK_METRICS.operatorNumRecordsOutPerSecond, 'Process'), 600, cluster.processOperatorId);
    check(operator(FLINK_METRICS.kafkaRecordsConsumedRate, 'Source:_events'), 600, cluster.vertexId);
    expect(cluster.processOperatorId).not.toBe(cluster.vertexId);
  });

  it('pendingRecords is absent after every (re)start until the sources fetch records, and on an idle topic', () => {
    const pending = (cluster: LiveCluster): number => series(sample(cluster), FLINK_METRICS.pendingRecords).length;
    const subtasks = (cluster: LiveCluster): number => series(sample(cluster), FLINK_METRICS.busyTimeMsPerSecond).length;

    const idle = makeCluster({ rate: 0 });
    advanceToSecond(idle, 30);
    expect(subtasks(idle)).toBe(10);
    expect(pending(idle)).toBe(0);

    // Nothing arrives in [10, 50): the job fails at 10 (nothing to roll back: checkpoint at 10)
    // and runs again from 40, with nothing to fetch until 50.
    const failed = makeCluster({ arrivals: idleBetween(10, 50), overrides: { failures: [10] } });
    advanceToSecond(failed, 5);
    expect(pending(failed)).toBe(10);
    advanceToSecond(failed, 45);
    expect(subtasks(failed)).toBe(10);
    expect(pending(failed)).toBe(0);
    advanceToSecond(failed, 50);
    expect(pending(failed)).toBe(0);
    advanceToSecond(failed, 51);
    expect(pending(failed)).toBe(10);

    // In place (adaptive scheduler): rescaled at 20 to 12, running from 30, fetching from 50.
    const rescaled = makeCluster({ arrivals: idleBetween(10, 50), scheduler: 'adaptive' });
    advanceToSecond(rescaled, 20);
    expect(pending(rescaled)).toBe(10); // fetched before, at 0..9
    rescaled.updateResourceRequirements(rescaled.currentJob.id, { [rescaled.vertexId]: { parallelism: { lowerBound: 1, upperBound: 12 } } });
    advanceToSecond(rescaled, 35);
    expect(subtasks(rescaled)).toBe(12);
    expect(pending(rescaled)).toBe(0);
    advanceToSecond(rescaled, 51);
    expect(pending(rescaled)).toBe(12);

    // A resubmitted job: stopped at 20, resubmitted at 22, running from 30, fetching from 50.
    const resubmitted = makeCluster({ arrivals: idleBetween(10, 50) });
    advanceToSecond(resubmitted, 20);
    const first = resubmitted.currentJob.id;
    const trigger = resubmitted.stopWithSavepoint(first);
    advanceToSecond(resubmitted, 22);
    resubmitted.runJar(resubmitted.jarId, { parallelism: 8, savepointPath: resubmitted.savepointStatus(first, trigger).location as string });
    advanceToSecond(resubmitted, 35);
    expect(subtasks(resubmitted)).toBe(8);
    expect(pending(resubmitted)).toBe(0);
    advanceToSecond(resubmitted, 51);
    expect(pending(resubmitted)).toBe(8);
  });

  it('kafka_consumergroup_lag is end offset − committed offset: -1 before the first checkpoint, then the backlog plus a checkpoint sawtooth', () => {
    // Checkpoints every 10 s: the first completes at the end of second 9.
    const cluster = makeCluster();
    const lags = (): Sample[] => series(sample(cluster), KAFKA_METRICS.consumerGroupLag);
    advanceToSecond(cluster, 5);
    expect(lags()).toHaveLength(8);
    expect(lags().every((x) => x.value === -1)).toBe(true);
    advanceToSecond(cluster, 9);
    expect(lags().every((x) => x.value === -1)).toBe(true);
    advanceToSecond(cluster, 10);
    expect(lags().every((x) => x.value === 0)).toBe(true);
    // No backlog: what was read since the checkpoint at 10, 6000 records/s.
    advanceToSecond(cluster, 15);
    expect(lags().map((x) => x.value)).toEqual(new Array(8).fill((5 * 6000) / 8));
    advanceToSecond(cluster, 19);
    expect(sum(lags())).toBe(9 * 6000);
    advanceToSecond(cluster, 20);
    expect(sum(lags())).toBe(0);
    // Pendingrecords reads the true backlog (none) all along.
    expect(series(sample(cluster), FLINK_METRICS.pendingRecords).every((x) => x.value === 0)).toBe(true);

    // Overloaded (12 000 on 10 000): the backlog grows 2000/s; the sawtooth rides on top.
    const overloaded = makeCluster({ rate: 12_000 });
    advanceToSecond(overloaded, 15);
    const record = overloaded.twin.record;
    const lag = series(sample(overloaded), KAFKA_METRICS.consumerGroupLag);
    expect(sum(lag)).toBe(Math.round((record.lag[14] as number) + [10, 11, 12, 13, 14].reduce((a, s) => a + (record.throughput[s] as number), 0)));
    expect(sum(lag)).toBe(15 * 2000 + 5 * 10_000);
    expect(lag.every((x) => x.value === 10_000)).toBe(true);
  });

  it('after a failure the consumer restarts from the committed offsets: kafka_exporter\'s lag is the rolled-back backlog', () => {
    const cluster = makeCluster({ overrides: { failures: [15] } });
    advanceToSecond(cluster, 15);
    expect(sum(series(sample(cluster), KAFKA_METRICS.consumerGroupLag))).toBe(5 * 6000);
    advanceToSecond(cluster, 20);
    const lag = series(sample(cluster), KAFKA_METRICS.consumerGroupLag);
    // Rolled back to the checkpoint at 10 and down since 15: 5 s replayed + 5 s arrived.
    expect(sum(lag)).toBe(Math.round(cluster.twin.record.lag[19] as number));
    expect(sum(lag)).toBe(10 * 6000);
  });
});
