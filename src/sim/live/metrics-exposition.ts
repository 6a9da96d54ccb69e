import { Router } from 'express';
import { FLINK_METRICS, KAFKA_METRICS } from '../../observe/exporter-metrics.js';
import { JOB_VERTEX_NAME, PROCESS_OPERATOR_NAME, SOURCE_OPERATOR_NAME, type LiveCluster } from './live-cluster.js';

/**
 * GET /metrics: the job's Flink and Kafka metrics in the Prometheus text format (0.0.4), under
 * the names and labels of the Flink Prometheus reporter and kafka_exporter
 * (src/observe/exporter-metrics.ts), for the latest simulated second.
 *
 * - Task and operator scope: one series per subtask, only while the job's tasks run (a job that
 *   is restarting, initializing or stopped has no subtasks, so these series disappear, as on a
 *   real cluster). busy/backPressured ms/s are the twin's; numRecordsInPerSecond and
 *   records_consumed_rate are throughput/p; pendingRecords is lag/p. The latency-marker
 *   histogram lives on the TaskManagers too, so it disappears with the tasks; its quantiles
 *   0.5/0.95/0.99 all carry the twin's end-to-end latency (ms).
 * - Job scope (JobManager): numRestarts (per job), uptime (ms since RUNNING, 0 while down),
 *   lastCheckpointDuration, numberOfCompletedCheckpoints (per job) — always present, labelled
 *   with the current job id (a new id after a resubmission).
 * - kafka_exporter: cumulative arrivals as the newest offset and the lag, spread over the
 *   topic's partitions — always present.
 * With speed X, rates are × X and durations ÷ X (a job X times faster); records are unchanged.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

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

/** Splits a whole number of records over n partitions, the first ones taking the remainder. */
function spread(total: number, n: number): number[] {
  const whole = Math.max(0, Math.floor(total));
  const base = Math.floor(whole / n);
  const rest = whole - base * n;
  return Array.from({ length: n }, (_, k) => base + (k < rest ? 1 : 0));
}

export function renderMetrics(cluster: LiveCluster): string {
  const job = cluster.currentJob;
  const record = cluster.twin.record;
  const i = cluster.elapsed - 1;
  const at = (column: Float64Array): number => (i >= 0 ? (column[i] as number) : 0);
  const speed = cluster.speed;
  const out = new Exposition();

  const jmHost = `${cluster.name}-jobmanager`;
  const jobLabels: Labels = { host: jmHost, job_id: job.id, job_name: job.name };

  if (cluster.tasksRunning()) {
    const p = cluster.jobParallelism(job);
    const attempt = String(cluster.restartsOf(job));
    const subtasks = Array.from({ length: p }, (_, k) => {
      const tm = `${cluster.name}-taskmanager-1-${k + 1}`;
      const labels: Labels = {
        host: tm.replace(/[.-]/g, '_'),
        tm_id: tm,
        job_id: job.id,
        job_name: job.name,
        task_id: cluster.vertexId,
        task_name: JOB_VERTEX_NAME,
        task_attempt_num: attempt,
        subtask_index: String(k),
      };
      return labels;
    });
    const perTask = (value: number): [Labels, number][] => subtasks.map((labels) => [labels, value]);
    const perOperator = (operatorId: string, operatorName: string, value: number): [Labels, number][] =>
      subtasks.map((labels) => [{ ...labels, operator_id: operatorId, operator_name: operatorName }, value]);
    const throughputPerSubtask = (at(record.throughput) * speed) / p;

    out.family(FLINK_METRICS.busyTimeMsPerSecond, 'gauge', 'busyTimeMsPerSecond (scope: taskmanager_job_task)', perTask(at(record.busyTimeMsPerSecond)));
    out.family(FLINK_METRICS.backPressuredTimeMsPerSecond, 'gauge', 'backPressuredTimeMsPerSecond (scope: taskmanager_job_task)', perTask(at(record.backPressuredTimeMsPerSecond)));
    out.family(FLINK_METRICS.numRecordsInPerSecond, 'gauge', 'numRecordsInPerSecond (scope: taskmanager_job_task)', perTask(throughputPerSubtask));
    out.family(FLINK_METRICS.kafkaRecordsConsumedRate, 'gauge', 'records_consumed_rate (scope: taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer)',
      perOperator(cluster.sourceOperatorId, SOURCE_OPERATOR_NAME, throughputPerSubtask));
    out.family(FLINK_METRICS.pendingRecords, 'gauge', 'pendingRecords (scope: taskmanager_job_task_operator)',
      perOperator(cluster.sourceOperatorId, SOURCE_OPERATOR_NAME, at(record.lag) / p));

    const latencyMs = (at(record.latencySeconds) * 1000) / speed;
    const runningSeconds = job.runningSince === undefined ? 0 : cluster.elapsed - job.runningSince;
    const latency: [Labels, number, string?][] = [];
    for (const labels of subtasks) {
      const base: Labels = {
        host: labels.host as string, tm_id: labels.tm_id as string, job_id: job.id, job_name: job.name,
        source_id: cluster.sourceOperatorId, operator_id: cluster.processOperatorId, operator_subtask_index: labels.subtask_index as string,
      };
      for (const quantile of ['0.5', '0.95', '0.99']) latency.push([{ ...base, quantile }, latencyMs]);
      latency.push([base, runningSeconds, '_count']);
    }
    out.family(FLINK_METRICS.latency, 'summary', `latency (scope: taskmanager_job_latency_source_id_operator_id_operator_subtask_index), operator ${PROCESS_OPERATOR_NAME}`, latency);
  }

  out.family(FLINK_METRICS.numRestarts, 'gauge', 'numRestarts (scope: jobmanager_job)', [[jobLabels, cluster.restartsOf(job)]]);
  out.family(FLINK_METRICS.uptime, 'gauge', 'uptime (scope: jobmanager_job)', [[jobLabels, cluster.uptimeMs(job)]]);
  out.family(FLINK_METRICS.lastCheckpointDuration, 'gauge', 'lastCheckpointDuration (scope: jobmanager_job)',
    [[jobLabels, job.checkpoints > 0 ? cluster.checkpointDurationMs : 0]]);
  out.family(FLINK_METRICS.numberOfCompletedCheckpoints, 'gauge', 'numberOfCompletedCheckpoints (scope: jobmanager_job)', [[jobLabels, job.checkpoints]]);

  const partitions = cluster.partitions;
  const offsets = spread(cluster.cumulativeArrivalRecords, partitions);
  const lags = spread(Math.round(at(record.lag)), partitions);
  out.family(KAFKA_METRICS.topicPartitionCurrentOffset, 'gauge', 'Current Offset of a Broker at Topic/Partition',
    offsets.map((offset, k) => [{ partition: String(k), topic: cluster.topic }, offset]));
  out.family(KAFKA_METRICS.consumerGroupLag, 'gauge', 'Current Approximate Lag of a ConsumerGroup at Topic/Partition',
    lags.map((lag, k) => [{ consumergroup: cluster.consumerGroup, partition: String(k), topic: cluster.topic }, lag]));
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
