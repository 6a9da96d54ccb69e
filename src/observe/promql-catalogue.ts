import { FLINK_METRICS, KAFKA_METRICS } from './exporter-metrics.js';

/**
 * The default PromQL for every signal phoebe reads, built from the metric names in
 * exporter-metrics.ts. Each query returns at most one series (everything is aggregated), in
 * the unit its key names. A user may replace any of them in the configuration.
 */

/** What each query returns. */
export const QUERY_KEYS = [
  'arrivalRate', // records/s arriving at the source topic
  'throughput', // records/s consumed by the job
  'lag', // records waiting in Kafka
  'busyTimeMsPerSecond', // 0..1000, the bottleneck subtask
  'backPressuredTimeMsPerSecond', // 0..1000, the most back-pressured source subtask
  'latencySeconds', // end-to-end latency estimate, s
  'parallelism', // source subtasks
  'numRestarts', // Flink's restart counter
  'uptimeSeconds', // s since the job switched to RUNNING; 0 while not running
  'completedCheckpoints', // completed-checkpoint counter
  'lastCheckpointDurationSeconds', // s the last checkpoint took
] as const;

export type QueryKey = (typeof QUERY_KEYS)[number];
export type QuerySet = Readonly<Record<QueryKey, string>>;

export interface CatalogueParams {
  /** Flink job name, as given to the job (the reporter's `job_name` label, possibly sanitised). */
  jobName: string;
  /** RE2 pattern for the `task_name` of the source task(s). */
  sourceTaskPattern: string;
  /** Kafka topic the job reads; without it, arrival rate comes from the Flink source metrics alone. */
  topic?: string;
  /** The job's Kafka consumer group; with the topic, lag comes from kafka_exporter. */
  consumerGroup?: string;
  /** Range of rate()/deriv() windows, a PromQL duration. */
  rateWindow: string;
  /** Quantile label of Flink's latency histogram, e.g. 0.99. */
  latencyQuantile: number;
}

export const DEFAULT_SOURCE_TASK_PATTERN = 'Source:.*';
export const DEFAULT_RATE_WINDOW = '1m';
export const DEFAULT_LATENCY_QUANTILE = 0.99;

/** A PromQL double-quoted string literal. */
export function promqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Escapes RE2 metacharacters so the value matches itself literally. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * A regular expression matching the job name both as given and as Flink's Prometheus reporter
 * publishes it: by default the reporter replaces every character outside [a-zA-Z0-9:_] in a
 * label value with `_`, so `orders-enrichment` appears as `orders_enrichment`.
 */
export function sanitisedNamePattern(name: string): string {
  let pattern = '';
  for (const ch of name) {
    if (/[a-zA-Z0-9:_]/.test(ch)) pattern += ch;
    else pattern += `(?:${escapeRegex(ch)}|_)`;
  }
  return pattern;
}

/** Builds the default query for every key. */
export function defaultQueries(params: CatalogueParams): QuerySet {
  const job = `job_name=~${promqlString(sanitisedNamePattern(params.jobName))}`;
  const source = `${job},task_name=~${promqlString(params.sourceTaskPattern)}`;
  const w = params.rateWindow;
  const sel = (metric: string, matchers: string) => `${metric}{${matchers}}`;

  const throughput =
    `sum(${sel(FLINK_METRICS.kafkaRecordsConsumedRate, source)}) or sum(${sel(FLINK_METRICS.numRecordsInPerSecond, source)})`;
  const pending = sel(FLINK_METRICS.pendingRecords, source);
  // Without kafka_exporter: what the sources consume plus how fast their backlog grows.
  const flinkArrival = `(${throughput}) + (sum(deriv(${pending}[${w}])) or vector(0))`;
  const arrivalRate = params.topic
    ? `sum(rate(${sel(KAFKA_METRICS.topicPartitionCurrentOffset, `topic=${promqlString(params.topic)}`)}[${w}])) or (${flinkArrival})`
    : flinkArrival;
  const lag = params.topic && params.consumerGroup
    ? `sum(${sel(KAFKA_METRICS.consumerGroupLag, `consumergroup=${promqlString(params.consumerGroup)},topic=${promqlString(params.topic)}`)}) or sum(${pending})`
    : `sum(${pending})`;
  // Without latency markers (Flink's default), the time to drain the backlog at today's rate.
  const latencySeconds =
    `max(${sel(FLINK_METRICS.latency, `${job},quantile=${promqlString(String(params.latencyQuantile))}`)}) / 1000` +
    ` or ((${lag}) / clamp_min(${throughput}, 1))`;

  return {
    arrivalRate,
    throughput,
    lag,
    busyTimeMsPerSecond: `max(${sel(FLINK_METRICS.busyTimeMsPerSecond, job)})`,
    backPressuredTimeMsPerSecond: `max(${sel(FLINK_METRICS.backPressuredTimeMsPerSecond, source)})`,
    latencySeconds,
    parallelism: `max(count by (task_name) (${sel(FLINK_METRICS.numRecordsInPerSecond, source)}))`,
    numRestarts: `max(${sel(FLINK_METRICS.numRestarts, job)})`,
    uptimeSeconds: `max(${sel(FLINK_METRICS.uptime, job)}) / 1000`,
    completedCheckpoints: `max(${sel(FLINK_METRICS.numberOfCompletedCheckpoints, job)})`,
    lastCheckpointDurationSeconds: `max(${sel(FLINK_METRICS.lastCheckpointDuration, job)}) / 1000`,
  };
}
