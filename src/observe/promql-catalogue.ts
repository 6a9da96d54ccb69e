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
  'parallelism', // subtasks of the widest non-source vertex (of the sources, if nothing else)
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

/**
 * What may precede a vertex name in `task_name`: with `pipeline.vertex-name-include-index-prefix:
 * true` Flink names a vertex `[vertex-0]Source: orders`, which the reporter publishes as
 * `_vertex_0_Source:_orders`. The source pattern is anchored, so without this it would miss them.
 */
const VERTEX_INDEX_PREFIX = '(?:\\[vertex-[0-9]+\\]|_vertex_[0-9]+_)?';

/** The source task pattern, also matching names with Flink's vertex index prefix. */
export function sourceNamePattern(sourceTaskPattern: string): string {
  return `${VERTEX_INDEX_PREFIX}(?:${sourceTaskPattern})`;
}

/** Builds the default query for every key. */
export function defaultQueries(params: CatalogueParams): QuerySet {
  const job = `job_name=~${promqlString(sanitisedNamePattern(params.jobName))}`;
  const sourcePattern = promqlString(sourceNamePattern(params.sourceTaskPattern));
  const source = `${job},task_name=~${sourcePattern}`;
  const w = params.rateWindow;
  const sel = (metric: string, matchers: string) => `${metric}{${matchers}}`;

  // The records/s the sources read, over phoebe's own rate window: the rate of the source
  // operator's output counter (named like the source task; the index prefix applies to vertices
  // only, but the pattern allows it). Flink's and the Kafka client's own per-second gauges
  // average over 30–60 s, so after a rescale they report the catch-up for a minute, and the
  // arrival estimate (throughput + backlog growth over the rate window) would swing below 0
  // and far above the true rate. They follow as fallbacks; the task-level input rate last: a
  // FLIP-27 source task reads 0 there on Flink 1.18–1.20, so it must never win.
  const sourceOperator = `${job},operator_name=~${sourcePattern}`;
  const throughput =
    `sum(rate(${sel(FLINK_METRICS.operatorNumRecordsOut, sourceOperator)}[${w}]))` +
    ` or sum(${sel(FLINK_METRICS.kafkaRecordsConsumedRate, source)})` +
    ` or sum(${sel(FLINK_METRICS.operatorNumRecordsOutPerSecond, sourceOperator)})` +
    ` or sum(${sel(FLINK_METRICS.numRecordsInPerSecond, source)})`;
  const pending = sel(FLINK_METRICS.pendingRecords, source);
  // Without an end-offset exporter: what the sources consume plus how fast their backlog grows.
  const flinkArrival = `(${throughput}) + (sum(deriv(${pending}[${w}])) or vector(0))`;
  const topic = params.topic ? `topic=${promqlString(params.topic)}` : undefined;
  // Arrivals are the growth of the topic's end offsets, from kafka_exporter or the broker's JMX
  // exporter (as Strimzi configures it).
  const arrivalRate = topic
    ? `sum(rate(${sel(KAFKA_METRICS.topicPartitionCurrentOffset, topic)}[${w}])) or sum(rate(${sel(KAFKA_METRICS.brokerLogEndOffset, topic)}[${w}])) or (${flinkArrival})`
    : flinkArrival;
  // The backlog, best source first:
  // 1. the topic's end offsets minus the job's position, each partition's offset as its source
  //    reader reports it (the newest where an old and a new job overlap): exact at any moment;
  // 2. Flink's pendingRecords (its -1, unknown, dropped): right on an idle or keeping-up job,
  //    far low under backpressure (the consumer's lag as of its last fetch);
  // 3. kafka_exporter's consumer-group lag: it counts from the offsets the KafkaSource commits
  //    only when a checkpoint completes (a 0…checkpoint-interval sawtooth above the truth), and
  //    is -1 for a partition without a committed offset;
  // 4. after a (re)start pendingRecords is absent until the first fetch: while the sources run
  //    that reads as no backlog (as the operator autoscaler does) instead of no data.
  // Partition by partition, and only those both sides report: after a restart a reader reports
  // -1 until a partition's first record, and counting its whole log as backlog would be worse
  // than missing it for a few seconds.
  // Flink's reporter sanitises the topic label too (orders.eu-1 → orders_eu_1): its series are
  // matched in both forms and relabelled with the topic as the exporters publish it, for the join.
  const flinkTopic = params.topic
    ? `label_replace(${sel(FLINK_METRICS.kafkaSourceCurrentOffset, `${job},topic=~${promqlString(sanitisedNamePattern(params.topic))}`)} >= 0, "topic", ${promqlString(params.topic.replace(/\$/g, '$$$$'))}, "topic", ".*")`
    : '';
  const exactLag = topic
    ? `sum(clamp_min(max by (topic, partition) (${sel(KAFKA_METRICS.topicPartitionCurrentOffset, topic)} or ${sel(KAFKA_METRICS.brokerLogEndOffset, topic)})` +
      ` - on (topic, partition) max by (topic, partition) (${flinkTopic}), 0)) or `
    : '';
  const kafkaLag = topic && params.consumerGroup
    ? ` or sum(clamp_min(${sel(KAFKA_METRICS.consumerGroupLag, `consumergroup=${promqlString(params.consumerGroup)},${topic}`)}, 0))`
    : '';
  const lag = `${exactLag}sum(${pending} >= 0)${kafkaLag} or (0 * (${throughput}))`;
  // Without latency markers (Flink's default), the time to drain the backlog at today's rate.
  const latencySeconds =
    `max(${sel(FLINK_METRICS.latency, `${job},quantile=${promqlString(String(params.latencyQuantile))}`)}) / 1000` +
    ` or ((${lag}) / clamp_min(${throughput}, 1))`;
  // Subtasks per vertex, each counted once (a restart briefly shows two attempts of one subtask).
  const subtasks = (matchers: string): string =>
    `max(count by (job_id, task_name) (group by (job_id, task_name, subtask_index) (${sel(FLINK_METRICS.busyTimeMsPerSecond, matchers)})))`;

  return {
    arrivalRate,
    throughput,
    lag,
    busyTimeMsPerSecond: `max(${sel(FLINK_METRICS.busyTimeMsPerSecond, job)})`,
    backPressuredTimeMsPerSecond: `max(${sel(FLINK_METRICS.backPressuredTimeMsPerSecond, source)})`,
    latencySeconds,
    // The job's parallelism is its widest vertex apart from the sources, which are often pinned
    // to the partition count; a job of sources only, its widest source.
    parallelism: `${subtasks(`${job},task_name!~${sourcePattern}`)} or ${subtasks(source)}`,
    numRestarts: `max(${sel(FLINK_METRICS.numRestarts, job)})`,
    uptimeSeconds: `max(${sel(FLINK_METRICS.uptime, job)}) / 1000`,
    completedCheckpoints: `max(${sel(FLINK_METRICS.numberOfCompletedCheckpoints, job)})`,
    lastCheckpointDurationSeconds: `max(${sel(FLINK_METRICS.lastCheckpointDuration, job)}) / 1000`,
  };
}
