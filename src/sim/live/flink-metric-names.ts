import { FLINK_METRICS as OBSERVED_FLINK_METRICS } from '../../observe/exporter-metrics.js';

export { KAFKA_METRICS } from '../../observe/exporter-metrics.js';

/**
 * The Flink metric names the live twin serves: every name phoebe reads (exporter-metrics.ts)
 * plus the operator-scope record rates a real job publishes beside them. A FLIP-27 source task
 * reads 0 in the task-level numRecordsInPerSecond, so a query for the source rate needs the
 * source operator's numRecordsOutPerSecond, and the twin must serve it to be read like a real
 * cluster. The strings are the reporter's; phoebe's own list is to gain
 * `operatorNumRecordsOutPerSecond` under the same string, after which it spreads in unchanged.
 */
export const FLINK_METRICS = {
  ...OBSERVED_FLINK_METRICS,
  /** Gauge, records/s out of each operator instance (operator scope). */
  operatorNumRecordsOutPerSecond: 'flink_taskmanager_job_task_operator_numRecordsOutPerSecond',
  /** Gauge, records/s into each operator instance (operator scope): 0 for a FLIP-27 source operator. */
  operatorNumRecordsInPerSecond: 'flink_taskmanager_job_task_operator_numRecordsInPerSecond',
} as const;
