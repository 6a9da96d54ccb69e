import { describe, expect, it } from 'vitest';
import { FLINK_METRICS, KAFKA_METRICS } from '../../src/observe/exporter-metrics.js';
import {
  defaultQueries, escapeRegex, promqlString, QUERY_KEYS, sanitisedNamePattern, sourceNamePattern, type CatalogueParams,
} from '../../src/observe/promql-catalogue.js';

const BASE: CatalogueParams = { jobName: 'orders-enrichment', sourceTaskPattern: 'Source:.*', rateWindow: '1m', latencyQuantile: 0.99 };
const KAFKA: CatalogueParams = { ...BASE, topic: 'orders', consumerGroup: 'enrich' };

/** The label regex as Prometheus applies it: fully anchored. */
function matches(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

describe('PromQL catalogue', () => {
  it('has a query for every key', () => {
    const q = defaultQueries(BASE);
    expect(Object.keys(q).sort()).toEqual([...QUERY_KEYS].sort());
    for (const key of QUERY_KEYS) expect(q[key].length).toBeGreaterThan(0);
  });

  it('matches the job name as given and as the Flink reporter sanitises it', () => {
    const p = sanitisedNamePattern('orders-enrichment');
    expect(matches(p, 'orders-enrichment')).toBe(true);
    expect(matches(p, 'orders_enrichment')).toBe(true);
    expect(matches(p, 'ordersXenrichment')).toBe(false);
    const dotted = sanitisedNamePattern('a.b (v2)');
    expect(matches(dotted, 'a.b (v2)')).toBe(true);
    expect(matches(dotted, 'a_b__v2_')).toBe(true);
    expect(matches(dotted, 'axb (v2)')).toBe(false);
    expect(sanitisedNamePattern('plain_name:1')).toBe('plain_name:1');
  });

  it('quotes and escapes label values', () => {
    expect(promqlString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(escapeRegex('a.b*c')).toBe('a\\.b\\*c');
    const q = defaultQueries({ ...KAFKA, topic: 'we"ird' });
    expect(q.arrivalRate).toContain('topic="we\\"ird"');
  });

  // What each query returns on real series is checked by promtool in
  // test/integration/observe/catalogue-on-real-series.test.ts; these pin the query's parts.
  const job = 'job_name=~"orders(?:-|_)enrichment"';
  const sourceName = promqlString(sourceNamePattern('Source:.*'));
  const source = `${job},task_name=~${sourceName}`;

  it('matches the source pattern also behind Flink\'s vertex index prefix', () => {
    const p = sourceNamePattern('Source:.*');
    for (const name of ['Source:_orders', 'Source: orders', '_vertex_0_Source:_orders', '[vertex-12]Source: orders']) expect(matches(p, name), name).toBe(true);
    for (const name of ['cost', '_vertex_1_cost', 'xSource:_orders']) expect(matches(p, name), name).toBe(false);
  });

  it('reads arrival rate and lag from the topic\'s end offsets when the topic is known, Flink as fallback', () => {
    const q = defaultQueries(KAFKA);
    expect(q.arrivalRate.startsWith(`sum(rate(${KAFKA_METRICS.topicPartitionCurrentOffset}{topic="orders"}[1m])) or sum(rate(${KAFKA_METRICS.brokerLogEndOffset}{topic="orders"}[1m])) or (`)).toBe(true);
    expect(q.arrivalRate).toContain(`deriv(${FLINK_METRICS.pendingRecords}{`);
    expect(q.arrivalRate).toContain(`sum(rate(${KAFKA_METRICS.brokerLogEndOffset}{topic="orders"}[1m]))`);
    // End offsets minus the job's position first, then pendingRecords, then the group's lag.
    expect(q.lag.startsWith(`sum(clamp_min(max by (topic, partition) (${KAFKA_METRICS.topicPartitionCurrentOffset}{topic="orders"} or ${KAFKA_METRICS.brokerLogEndOffset}{topic="orders"})`)).toBe(true);
    expect(q.lag).toContain(`) or sum(${FLINK_METRICS.pendingRecords}{${source}} >= 0) or sum(clamp_min(${KAFKA_METRICS.consumerGroupLag}{consumergroup="enrich",topic="orders"}, 0)) or (0 * (`);
  });

  it('without Kafka names, derives arrival from consumption plus backlog growth, lag from pendingRecords', () => {
    const q = defaultQueries(BASE);
    expect(q.arrivalRate).not.toContain('kafka_topic');
    expect(q.arrivalRate).toContain(FLINK_METRICS.kafkaRecordsConsumedRate);
    expect(q.arrivalRate).toContain(`sum(deriv(${FLINK_METRICS.pendingRecords}{${source}}[1m])) or vector(0)`);
    expect(q.lag.startsWith(`sum(${FLINK_METRICS.pendingRecords}{${source}} >= 0) or (0 * (`)).toBe(true);
    // A topic without a consumer group: arrivals from offsets, lag still from Flink.
    const t = defaultQueries({ ...BASE, topic: 'orders' });
    expect(t.arrivalRate).toContain('kafka_topic_partition_current_offset{topic="orders"}');
    expect(t.lag).not.toContain('kafka_consumergroup_lag');
  });

  it('reads throughput as the rate of the source operator\'s output counter, then the per-second gauges, the source task\'s input last', () => {
    expect(defaultQueries(BASE).throughput).toBe(
      `sum(rate(${FLINK_METRICS.operatorNumRecordsOut}{${job},operator_name=~${sourceName}}[1m])) or ` +
      `sum(${FLINK_METRICS.kafkaRecordsConsumedRate}{${source}}) or ` +
      `sum(${FLINK_METRICS.operatorNumRecordsOutPerSecond}{${job},operator_name=~${sourceName}}) or ` +
      `sum(${FLINK_METRICS.numRecordsInPerSecond}{${source}})`,
    );
  });

  it('takes the bottleneck (max over subtasks) for busy and back-pressured time, and counts the widest non-source vertex', () => {
    const q = defaultQueries(BASE);
    expect(q.busyTimeMsPerSecond).toBe(`max(${FLINK_METRICS.busyTimeMsPerSecond}{${job}})`);
    expect(q.backPressuredTimeMsPerSecond).toBe(`max(${FLINK_METRICS.backPressuredTimeMsPerSecond}{${source}})`);
    expect(q.parallelism).toContain('task_name!~');
    expect(q.parallelism).toContain('count by (job_id, task_name) (group by (job_id, task_name, subtask_index)');
  });

  it('converts the latency quantile from ms to s, falling back to backlog over throughput', () => {
    const q = defaultQueries({ ...BASE, latencyQuantile: 0.95 });
    expect(q.latencySeconds.startsWith(`max(${FLINK_METRICS.latency}{job_name=~"orders(?:-|_)enrichment",quantile="0.95"}) / 1000 or (`)).toBe(true);
    expect(q.latencySeconds).toContain('/ clamp_min(');
  });

  it('reads the job-scope gauges in their units', () => {
    const q = defaultQueries(BASE);
    expect(q.uptimeSeconds).toBe(`max(${FLINK_METRICS.uptime}{job_name=~"orders(?:-|_)enrichment"}) / 1000`);
    expect(q.numRestarts).toBe(`max(${FLINK_METRICS.numRestarts}{job_name=~"orders(?:-|_)enrichment"})`);
    expect(q.completedCheckpoints).toBe(`max(${FLINK_METRICS.numberOfCompletedCheckpoints}{job_name=~"orders(?:-|_)enrichment"})`);
    expect(q.lastCheckpointDurationSeconds).toBe(`max(${FLINK_METRICS.lastCheckpointDuration}{job_name=~"orders(?:-|_)enrichment"}) / 1000`);
  });

  it('uses the configured rate window and source task pattern', () => {
    const q = defaultQueries({ ...KAFKA, rateWindow: '2m30s', sourceTaskPattern: 'Source: orders.*' });
    expect(q.arrivalRate).toContain('[2m30s]');
    expect(q.throughput).toContain('(?:Source: orders.*)"');
  });
});
