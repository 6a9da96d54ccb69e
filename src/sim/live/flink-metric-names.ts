import { FLINK_METRICS as OBSERVED_FLINK_METRICS } from '../../observe/exporter-metrics.js';

export { KAFKA_METRICS } from '../../observe/exporter-metrics.js';

/**
 * The Flink metric names the live twin serves: every name phoebe reads (exporter-metrics.ts,
 * which has the source operator's numRecordsOut counter and per-partition currentOffset) plus
 * what a real job publishes beside them and phoebe does not read, so that a query written
 * against the twin meets the series a real cluster has. The strings are the reporter's.
 */
export const FLINK_METRICS = {
  ...OBSERVED_FLINK_METRICS,
  /** Gauge, records/s into each operator instance (operator scope): 0 for a FLIP-27 source operator. */
  operatorNumRecordsInPerSecond: 'flink_taskmanager_job_task_operator_numRecordsInPerSecond',
  /**
   * Gauge, the offset each KafkaSource reader committed to Kafka for a partition when the last
   * checkpoint of its task completed (operator scope, labels topic and partition; -1 before it).
   */
  kafkaSourceCommittedOffset: 'flink_taskmanager_job_task_operator_KafkaSourceReader_topic_partition_committedOffset',
} as const;
