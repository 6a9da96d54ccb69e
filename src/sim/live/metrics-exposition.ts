import { Router } from 'express';
import { FLINK_METRICS, KAFKA_METRICS } from './flink-metric-names.js';
import { hex32Of } from './ids.js';
import { consumerGroupLags, endOffsets, readerOffsets, recordsSinceStart, spread } from './kafka-source.js';
import { JOB_VERTEX_NAME, PROCESS_OPERATOR_NAME, SOURCE_OPERATOR_NAME, type LiveCluster } from './live-cluster.js';

/**
 * GET /metrics: the job's Flink and Kafka metrics in the Prometheus text format (0.0.4), under
 * the names and labels of Flink's PrometheusReporter and kafka_exporter
 * (src/observe/exporter-metrics.ts, src/sim/live/flink-metric-names.ts), for the latest simulated
 * second. The shapes are those a real Flink 1.20/2.x session cluster with a FLIP-27 KafkaSource
 * was seen to publish, so that queries written against the twin read a real cluster the same way.
 *
 * - Label values of the Flink series are sanitised as the reporter does: every character outside
 *   [A-Za-z0-9_:] becomes `_` (task_name="Source:_events____Process", job_name, host and tm_id
 *   too). The summary's own `quantile` label is not a Flink variable and is left as it is;
 *   kafka_exporter's labels are not sanitised either.
 * - Task and operator scope: one series per subtask, only while the job's tasks run (a job that
 *   is restarting, initializing or stopped has no subtasks, so these series disappear, as on a
 *   real cluster), each with task_attempt_num (restarts of the job) and task_attempt_id
 *   (`<execution graph id>_<task_id>_<subtask_index>_<attempt>`, the graph id fixed per job).
 *   busy/backPressured ms/s are the twin's. The one vertex chains the source and Process: its
 *   task-level numRecordsInPerSecond is 0, as a FLIP-27 source task's reads on a real cluster
 *   (the source reads from Kafka, not from an input gate); the records it reads show as the
 *   source operator's numRecordsOutPerSecond and records_consumed_rate, and as Process's
 *   operator numRecordsIn/OutPerSecond, all throughput/p (the source operator's input is 0).
 *   The source operator is the chain head, so its operator_id is the vertex id.
 * - numRecordsOut of both operators: a counter (a gauge, as the reporter types Flink counters)
 *   per subtask, the records emitted since the tasks started, throughput split evenly over the
 *   subtasks; it starts from 0 with every (re)start, as each task attempt has its own.
 * - The source readers' KafkaSourceReader_topic_partition_currentOffset and committedOffset, one
 *   series per partition on the subtask it is assigned to (round-robin: partition k on subtask
 *   k mod p; a subtask beyond the partitions reports none), labelled topic (sanitised, it is a
 *   Flink variable) and partition. currentOffset is the job's position (end offset − lag,
 *   spread like the end offsets, so the two differ by the lag, summed), -1 after every (re)start
 *   until the partition's first record; committedOffset the position at the last checkpoint the
 *   tasks completed, -1 before it (see kafka-source.ts).
 * - pendingRecords (lag/p) appears only once the source readers have fetched records since
 *   their tasks started (a reader registers it on its first non-empty fetch): after every
 *   (re)start it is absent until the first second with throughput, and stays absent on an idle
 *   topic.
 * - Latency markers: the histogram lives on the TaskManagers, so it disappears with the tasks;
 *   Flink's summary carries the quantiles 0, 0.5, 0.75, 0.95, 0.98, 0.99, 0.999 and 1.0. The
 *   twin models one end-to-end latency (ms), so every quantile carries it: whichever quantile a
 *   query reads gives the twin's latency, and the quantiles do not decrease.
 * - Job scope (JobManager): numRestarts (per job), uptime (ms since RUNNING, 0 while down),
 *   lastCheckpointDuration, numberOfCompletedCheckpoints (per job) — always present, labelled
 *   with the current job id (a new id after a resubmission).
 * - kafka_exporter, always present: the newest offset per partition (cumulative arrivals spread
 *   over the partitions) and the consumer group's lag, which is end offset − committed offset:
 *   the KafkaSource commits only when a checkpoint completes, so the lag is the true backlog
 *   plus a sawtooth of what was read since the last checkpoint, and -1 before the group's first
 *   checkpoint (no committed offset) — see kafka-source.ts.
 * With speed X, rates are × X and durations ÷ X (a job X times faster); records are unchanged.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The quantile labels of Flink's latency summary, as the reporter writes them. */
export const LATENCY_QUANTILES = ['0', '0.5', '0.75', '0.95', '0.98', '0.99', '0.999', '1.0'] as const;

type Labels = Record<string, string>;

/** Flink's PrometheusReporter's label values: every character outside [A-Za-z0-9_:] becomes `_`. */
export function sanitiseLabelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_:]/g, '_');
}

function sanitised(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, sanitiseLabelValue(v)]));
}

class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'gauge' | 'summary', help: string, samples: [Labels, number, string?][]): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    this.lines.push(`# TYPE ${name} ${type}`);
    for (const [labels, value, suffix] of samples) this.lines.push(`${name}${suffix ?? ''}${formatLabels(labels)} ${formatValue(value)}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** The series of the job's tasks and operators, while its tasks run. */
function renderTasks(cluster: LiveCluster, out: Exposition, at: (column: Float64Array) => number): void {
  const job = cluster.currentJob;
  const record = cluster.twin.record;
  // The subtasks that run: an accepted in-place rescale changes them only when the job restarts
  // with the next second (a counter spread over the new count meanwhile would fall, which
  // Prometheus takes for a reset).
  const p = cluster.twin.status === 'RUNNING' ? cluster.twin.parallelism : cluster.jobParallelism(job);
  const attempt = String(cluster.restartsOf(job));
  const executionGraphId = hex32Of(`${job.id}/execution-graph`);
  const subtasks = Array.from({ length: p }, (_, k) => sanitised({
    host: `${cluster.name}-taskmanager-1-${k + 1}`,
    tm_id: `${cluster.name}-taskmanager-1-${k + 1}`,
    job_id: job.id,
    job_name: job.name,
    task_id: cluster.vertexId,
    task_name: JOB_VERTEX_NAME,
    task_attempt_id: `${executionGraphId}_${cluster.vertexId}_${k}_${attempt}`,
    task_attempt_num: attempt,
    subtask_index: String(k),
  }));
  const perTask = (value: number): [Labels, number][] => subtasks.map((labels) => [labels, value]);
  const operatorLabels = (k: number, id: string, name: string, extra: Labels = {}): Labels =>
    ({ ...(subtasks[k] as Labels), ...sanitised({ operator_id: id, operator_name: name, ...extra }) });
  /** One series per subtask and operator: one value for all, or one per subtask. */
  const perOperator = (operators: [id: string, name: string, value: number | readonly number[]][]): [Labels, number][] =>
    operators.flatMap(([id, name, value]) => subtasks.map((_, k): [Labels, number] =>
      [operatorLabels(k, id, name), typeof value === 'number' ? value : (value[k] as number)]));
  const source = cluster.sourceOperatorId;
  const process = cluster.processOperatorId;
  const speed = cluster.speed;
  const throughputPerSubtask = (at(record.throughput) * speed) / p;

  out.family(FLINK_METRICS.busyTimeMsPerSecond, 'gauge', 'busyTimeMsPerSecond (scope: taskmanager_job_task)', perTask(at(record.busyTimeMsPerSecond)));
  out.family(FLINK_METRICS.backPressuredTimeMsPerSecond, 'gauge', 'backPressuredTimeMsPerSecond (scope: taskmanager_job_task)', perTask(at(record.backPressuredTimeMsPerSecond)));
  // A FLIP-27 source task has no input gate: its task-level input rate is 0.
  out.family(FLINK_METRICS.numRecordsInPerSecond, 'gauge', 'numRecordsInPerSecond (scope: taskmanager_job_task)', perTask(0));
  out.family(FLINK_METRICS.operatorNumRecordsInPerSecond, 'gauge', 'numRecordsInPerSecond (scope: taskmanager_job_task_operator)',
    perOperator([[source, SOURCE_OPERATOR_NAME, 0], [process, PROCESS_OPERATOR_NAME, throughputPerSubtask]]));
  out.family(FLINK_METRICS.operatorNumRecordsOutPerSecond, 'gauge', 'numRecordsOutPerSecond (scope: taskmanager_job_task_operator)',
    perOperator([[source, SOURCE_OPERATOR_NAME, throughputPerSubtask], [process, PROCESS_OPERATOR_NAME, throughputPerSubtask]]));
  out.family(FLINK_METRICS.kafkaRecordsConsumedRate, 'gauge', 'records_consumed_rate (scope: taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer)',
    perOperator([[source, SOURCE_OPERATOR_NAME, throughputPerSubtask]]));
  const emitted = recordsSinceStart(cluster);
  const emittedPerSubtask = spread(emitted, p);
  out.family(FLINK_METRICS.operatorNumRecordsOut, 'gauge', 'numRecordsOut (scope: taskmanager_job_task_operator)',
    perOperator([[source, SOURCE_OPERATOR_NAME, emittedPerSubtask], [process, PROCESS_OPERATOR_NAME, emittedPerSubtask]]));
  // Partition k is read by the source of subtask k mod p.
  const perPartition = (values: number[]): [Labels, number][] => values.map((value, k) =>
    [operatorLabels(k % p, source, SOURCE_OPERATOR_NAME, { topic: cluster.topic, partition: String(k) }), value]);
  const offsets = readerOffsets(cluster);
  out.family(FLINK_METRICS.kafkaSourceCurrentOffset, 'gauge', 'currentOffset (scope: taskmanager_job_task_operator_KafkaSourceReader_topic_partition)', perPartition(offsets.current));
  out.family(FLINK_METRICS.kafkaSourceCommittedOffset, 'gauge', 'committedOffset (scope: taskmanager_job_task_operator_KafkaSourceReader_topic_partition)', perPartition(offsets.committed));
  // A reader registers pendingRecords with its first non-empty fetch since its task started.
  if (emitted > 0) {
    out.family(FLINK_METRICS.pendingRecords, 'gauge', 'pendingRecords (scope: taskmanager_job_task_operator)',
      perOperator([[source, SOURCE_OPERATOR_NAME, at(record.lag) / p]]));
  }

  const latencyMs = (at(record.latencySeconds) * 1000) / speed;
  const runningSeconds = job.runningSince === undefined ? 0 : cluster.elapsed - job.runningSince;
  const latency: [Labels, number, string?][] = [];
  for (const labels of subtasks) {
    const base = sanitised({
      host: labels.host as string, tm_id: labels.tm_id as string, job_id: job.id, job_name: job.name,
      source_id: source, operator_id: process, operator_subtask_index: labels.subtask_index as string,
    });
    for (const quantile of LATENCY_QUANTILES) latency.push([{ ...base, quantile }, latencyMs]);
    latency.push([base, runningSeconds, '_count']);
  }
  out.family(FLINK_METRICS.latency, 'summary', `latency (scope: taskmanager_job_latency_source_id_operator_id_operator_subtask_index), operator ${PROCESS_OPERATOR_NAME}`, latency);
}

export function renderMetrics(cluster: LiveCluster): string {
  const job = cluster.currentJob;
  const i = cluster.elapsed - 1;
  const at = (column: Float64Array): number => (i >= 0 ? (column[i] as number) : 0);
  const out = new Exposition();

  if (cluster.tasksRunning()) renderTasks(cluster, out, at);

  const jobLabels = sanitised({ host: `${cluster.name}-jobmanager`, job_id: job.id, job_name: job.name });
  out.family(FLINK_METRICS.numRestarts, 'gauge', 'numRestarts (scope: jobmanager_job)', [[jobLabels, cluster.restartsOf(job)]]);
  out.family(FLINK_METRICS.uptime, 'gauge', 'uptime (scope: jobmanager_job)', [[jobLabels, cluster.uptimeMs(job)]]);
  out.family(FLINK_METRICS.lastCheckpointDuration, 'gauge', 'lastCheckpointDuration (scope: jobmanager_job)',
    [[jobLabels, job.checkpoints > 0 ? cluster.checkpointDurationMs : 0]]);
  out.family(FLINK_METRICS.numberOfCompletedCheckpoints, 'gauge', 'numberOfCompletedCheckpoints (scope: jobmanager_job)', [[jobLabels, job.checkpoints]]);

  // kafka_exporter does not sanitise: topic and consumer group as they are.
  out.family(KAFKA_METRICS.topicPartitionCurrentOffset, 'gauge', 'Current Offset of a Broker at Topic/Partition',
    endOffsets(cluster).map((offset, k) => [{ partition: String(k), topic: cluster.topic }, offset]));
  out.family(KAFKA_METRICS.consumerGroupLag, 'gauge', 'Current Approximate Lag of a ConsumerGroup at Topic/Partition',
    consumerGroupLags(cluster).map((lag, k) => [{ consumergroup: cluster.consumerGroup, partition: String(k), topic: cluster.topic }, lag]));
  return out.text();
}

export function metricsRouter(cluster: LiveCluster): Router {
  const router = Router();
  router.get('/metrics', (_req, res) => {
    res.setHeader('Content-Type', PROMETHEUS_CONTENT_TYPE);
    res.send(renderMetrics(cluster));
  });
  return router;
}
