import { describe, expect, it } from 'vitest';
import { FLINK_METRICS, KAFKA_METRICS } from '../../../src/sim/live/flink-metric-names.js';
import type { LiveCluster } from '../../../src/sim/live/live-cluster.js';
import { advanceToSecond, makeCluster } from '../../support/live-cluster-harness.js';
import { idleBetween, sample, series, sum, type Sample } from './metrics-support.js';

/**
 * The series the default lag and throughput queries read first, as a real Flink 1.20 publishes
 * them: the source operator's numRecordsOut counter and each KafkaSource reader's currentOffset
 * and committedOffset per partition (metrics.test.ts has the rest of /metrics).
 */
describe('live twin /metrics: the source operator\'s counter and the readers\' offsets', () => {
  const source = (samples: Sample[], name: string): Sample[] => series(samples, name).filter((x) => x.labels.operator_name === 'Source:_events');
  const byIndex = (xs: Sample[], label: string): number[] =>
    [...xs].sort((a, b) => Number(a.labels[label]) - Number(b.labels[label])).map((x) => x.value);
  const emittedSince = (cluster: LiveCluster, from: number): number =>
    Array.from(cluster.twin.record.throughput.subarray(from, cluster.elapsed)).reduce((a, x) => a + x, 0);

  it('numRecordsOut counts each subtask\'s records since its task started, from 0 again after a restart and an in-place rescale', () => {
    const cluster = makeCluster({ overrides: { failures: [10] } });
    advanceToSecond(cluster, 8);
    let out = source(sample(cluster), FLINK_METRICS.operatorNumRecordsOut);
    expect(out).toHaveLength(10);
    // 6000 records/s over 10 subtasks; the chained Process emits the same records.
    expect(byIndex(out, 'subtask_index')).toEqual(new Array(10).fill(8 * 600));
    expect(sum(series(sample(cluster), FLINK_METRICS.operatorNumRecordsOut))).toBe(2 * 8 * 6000);
    advanceToSecond(cluster, 9);
    expect(sum(source(sample(cluster), FLINK_METRICS.operatorNumRecordsOut))).toBe(9 * 6000);
    // The failure at 10: no tasks until 40, then attempt 1 counts from 0, catching up at 10 000/s.
    advanceToSecond(cluster, 39);
    expect(series(sample(cluster), FLINK_METRICS.operatorNumRecordsOut)).toHaveLength(0);
    advanceToSecond(cluster, 43);
    out = source(sample(cluster), FLINK_METRICS.operatorNumRecordsOut);
    expect(out.every((x) => x.labels.task_attempt_num === '1')).toBe(true);
    expect(sum(out)).toBe(emittedSince(cluster, 40));
    expect(sum(out)).toBe(3 * 10_000);

    // In place: the request leaves the running tasks (and their counters) alone until the restart.
    const rescaled = makeCluster({ scheduler: 'adaptive' });
    advanceToSecond(rescaled, 20);
    const before = byIndex(source(sample(rescaled), FLINK_METRICS.operatorNumRecordsOut), 'subtask_index');
    rescaled.updateResourceRequirements(rescaled.currentJob.id, { [rescaled.vertexId]: { parallelism: { lowerBound: 1, upperBound: 12 } } });
    expect(byIndex(source(sample(rescaled), FLINK_METRICS.operatorNumRecordsOut), 'subtask_index')).toEqual(before);
    advanceToSecond(rescaled, 32); // down 10 s from 20: 12 new tasks from 30
    out = source(sample(rescaled), FLINK_METRICS.operatorNumRecordsOut);
    expect(out).toHaveLength(12);
    expect(sum(out)).toBe(emittedSince(rescaled, 30));
    expect(Math.max(...out.map((x) => x.value)) - Math.min(...out.map((x) => x.value))).toBeLessThanOrEqual(1);
  });

  it('currentOffset per partition on subtask partition mod p: end offset − currentOffset, summed, is the lag', () => {
    const end = (samples: Sample[]): number[] => byIndex(series(samples, KAFKA_METRICS.topicPartitionCurrentOffset), 'partition');
    const current = (samples: Sample[]): number[] => byIndex(series(samples, FLINK_METRICS.kafkaSourceCurrentOffset), 'partition');
    const lagOf = (samples: Sample[]): number => {
      const [e, c] = [end(samples), current(samples)];
      return e.reduce((a, x, k) => a + x - (c[k] as number), 0);
    };
    // Overloaded, 12 000 on 10 000: 2000 more waiting every second.
    const overloaded = makeCluster({ rate: 12_000 });
    advanceToSecond(overloaded, 15);
    let samples = sample(overloaded);
    const offsets = series(samples, FLINK_METRICS.kafkaSourceCurrentOffset);
    expect(offsets).toHaveLength(8);
    for (const x of offsets) {
      expect(x.labels).toMatchObject({ topic: 'events', operator_name: 'Source:_events', operator_id: overloaded.vertexId, subtask_index: x.labels.partition });
      expect(x.labels.task_attempt_id).toMatch(new RegExp(`_${x.labels.partition}_0$`));
    }
    expect(lagOf(samples)).toBe(Math.round(overloaded.twin.record.lag[14] as number));
    expect(lagOf(samples)).toBe(15 * 2000);
    for (const [k, c] of current(samples).entries()) expect(c).toBeLessThanOrEqual(end(samples)[k] as number);

    // Three subtasks for eight partitions: 0, 3 and 6 on subtask 0, and so on.
    const few = makeCluster({ overrides: { twin: { initialParallelism: 3 } }, rate: 2500 });
    advanceToSecond(few, 20);
    samples = sample(few);
    for (const x of series(samples, FLINK_METRICS.kafkaSourceCurrentOffset)) expect(Number(x.labels.subtask_index)).toBe(Number(x.labels.partition) % 3);
    expect(lagOf(samples)).toBe(Math.round(few.twin.record.lag[19] as number));

    // A partition reads -1 until its first record: 3 records/s reach three partitions at first.
    const trickle = makeCluster({ rate: 3 });
    advanceToSecond(trickle, 1);
    expect(current(sample(trickle))).toEqual([1, 1, 1, -1, -1, -1, -1, -1]);
    advanceToSecond(trickle, 3);
    expect(current(sample(trickle))).toEqual([2, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('currentOffset is -1 after every restart until the readers emit, an idle topic\'s for good', () => {
    const current = (cluster: LiveCluster): number[] => series(sample(cluster), FLINK_METRICS.kafkaSourceCurrentOffset).map((x) => x.value);
    // Nothing arrives in [10, 50); the failure at 10 restarts the job at 40.
    const idle = makeCluster({ arrivals: idleBetween(10, 50), overrides: { failures: [10] } });
    advanceToSecond(idle, 5);
    expect(current(idle).every((x) => x === (5 * 6000) / 8)).toBe(true);
    advanceToSecond(idle, 45);
    expect(current(idle)).toEqual(new Array(8).fill(-1));
    advanceToSecond(idle, 50);
    expect(current(idle)).toEqual(new Array(8).fill(-1));
    advanceToSecond(idle, 51);
    expect(current(idle)).toEqual(new Array(8).fill((11 * 6000) / 8));

    // With a backlog the first second after the restart moves every partition.
    const failed = makeCluster({ overrides: { failures: [15] } });
    advanceToSecond(failed, 46);
    const samples = sample(failed);
    expect(series(samples, FLINK_METRICS.kafkaSourceCurrentOffset).every((x) => x.value >= 0 && x.labels.task_attempt_num === '1')).toBe(true);
    // Rolled back to the checkpoint at 10: 10 records/s replayed since, 36 s arrived, 1 s read.
    const lag = sum(series(samples, KAFKA_METRICS.topicPartitionCurrentOffset)) - sum(series(samples, FLINK_METRICS.kafkaSourceCurrentOffset));
    expect(lag).toBe(Math.round(failed.twin.record.lag[45] as number));
    expect(lag).toBe(46 * 6000 - 10 * 6000 - 10_000);
  });

  it('committedOffset is the position at the task\'s last completed checkpoint, -1 before it; end − committed is kafka_exporter\'s lag', () => {
    const committed = (samples: Sample[]): number[] => byIndex(series(samples, FLINK_METRICS.kafkaSourceCommittedOffset), 'partition');
    const cluster = makeCluster({ overrides: { failures: [15] } });
    advanceToSecond(cluster, 9);
    expect(committed(sample(cluster))).toEqual(new Array(8).fill(-1));
    advanceToSecond(cluster, 14);
    let samples = sample(cluster);
    // The checkpoint that completed at the end of second 9 holds the first 60 000 records.
    expect(committed(samples)).toEqual(new Array(8).fill(60_000 / 8));
    const ends = byIndex(series(samples, KAFKA_METRICS.topicPartitionCurrentOffset), 'partition');
    const groupLag = byIndex(series(samples, KAFKA_METRICS.consumerGroupLag), 'partition');
    expect(ends.map((e, k) => e - (committed(samples)[k] as number))).toEqual(groupLag);
    // Restarted at 45: the new tasks have committed nothing until their checkpoint at the end of 54.
    advanceToSecond(cluster, 50);
    samples = sample(cluster);
    expect(committed(samples)).toEqual(new Array(8).fill(-1));
    expect(sum(series(samples, KAFKA_METRICS.consumerGroupLag))).toBeGreaterThan(0);
    advanceToSecond(cluster, 55);
    samples = sample(cluster);
    const expected = cluster.twin.record.arrivalRate.subarray(0, 55).reduce((a, x) => a + x, 0) - Math.round(cluster.twin.record.lag[54] as number);
    expect(sum(series(samples, FLINK_METRICS.kafkaSourceCommittedOffset))).toBe(expected);
    expect(committed(samples).every((x) => x >= 0)).toBe(true);
  });
});
