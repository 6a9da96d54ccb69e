import { describe, expect, it } from 'vitest';
import { FLINK_METRICS, KAFKA_METRICS } from '../../../src/sim/live/flink-metric-names.js';
import { renderMetrics } from '../../../src/sim/live/metrics-exposition.js';
import type { LiveCluster } from '../../../src/sim/live/live-cluster.js';
import { START_MS, advanceToSecond, makeCluster } from '../../support/live-cluster-harness.js';

/** name → summed value over its series (label sets compared separately). */
function totals(cluster: LiveCluster): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of renderMetrics(cluster).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    const key = line.includes('quantile="0.99"') ? `${name}:p99` : name;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

describe('live twin --speed', () => {
  it('speed X behaves like a job X times faster: rates × X, durations ÷ X, records unchanged', () => {
    // Overloaded (12 000 records/s on 10 000) so lag, latency and busy time all move.
    const slow = makeCluster({ speed: 1, rate: 12_000 });
    const fast = makeCluster({ speed: 10, rate: 12_000 });
    slow.advanceTo(START_MS + 40_000);
    fast.advanceTo(START_MS + 4_000);
    expect(slow.elapsed).toBe(40);
    expect(fast.elapsed).toBe(40);
    const a = totals(slow);
    const b = totals(fast);
    const times = (name: string, factor: number): void => {
      expect(a.get(name), name).toBeGreaterThan(0);
      expect(b.get(name), name).toBeCloseTo((a.get(name) as number) * factor, 6);
    };
    times(FLINK_METRICS.operatorNumRecordsOutPerSecond, 10);
    times(FLINK_METRICS.operatorNumRecordsInPerSecond, 10);
    times(FLINK_METRICS.kafkaRecordsConsumedRate, 10);
    times(FLINK_METRICS.busyTimeMsPerSecond, 1);
    times(FLINK_METRICS.pendingRecords, 1);
    times(FLINK_METRICS.operatorNumRecordsOut, 1);
    times(FLINK_METRICS.kafkaSourceCurrentOffset, 1);
    times(FLINK_METRICS.kafkaSourceCommittedOffset, 1);
    times(`${FLINK_METRICS.latency}:p99`, 0.1);
    times(FLINK_METRICS.uptime, 0.1);
    times(FLINK_METRICS.lastCheckpointDuration, 0.1);
    times(FLINK_METRICS.numberOfCompletedCheckpoints, 1);
    times(KAFKA_METRICS.topicPartitionCurrentOffset, 1);
    times(KAFKA_METRICS.consumerGroupLag, 1);
  });

  it('savepoint time, rescale downtime and REST durations shrink by X; simulated seconds advance only when their wall span ended', () => {
    const fast = makeCluster({ speed: 10 });
    fast.advanceTo(START_MS + 149);
    expect(fast.elapsed).toBe(1);
    advanceToSecond(fast, 40);
    expect(fast.nowMs).toBe(START_MS + 4000);
    const job = fast.currentJob.id;
    const trigger = fast.stopWithSavepoint(job);
    fast.advanceTo(START_MS + 4_100);
    expect(fast.savepointStatus(job, trigger).status).toBe('IN_PROGRESS');
    fast.advanceTo(START_MS + 4_200); // 2 simulated seconds = 200 ms
    const done = fast.savepointStatus(job, trigger);
    expect(done.status).toBe('COMPLETED');
    const next = fast.runJar(fast.jarId, { parallelism: 12, savepointPath: done.location as string });
    fast.advanceTo(START_MS + 4_999);
    expect(fast.jobState(next)).toBe('INITIALIZING');
    fast.advanceTo(START_MS + 5_100); // running from simulated second 50 = 1 s of wall time after the stop
    expect(fast.jobState(next)).toBe('RUNNING');
    expect(fast.twin.record.status[49]).not.toBe(0);
    expect(fast.twin.record.status[50]).toBe(0);
    expect(fast.uptimeMs(next)).toBe(100);
    expect(fast.wallOf(fast.jobs[0]?.endSecond as number) - START_MS).toBe(4_200);
  });
});
