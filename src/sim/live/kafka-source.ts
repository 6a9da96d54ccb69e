import type { LiveCluster } from './live-cluster.js';

/**
 * The Kafka source of the live twin's job as its metrics show it: the topic's end offsets, the
 * offsets the KafkaSource has committed for its consumer group, its readers' own offsets per
 * partition, and what they emitted since their tasks started. Derived from the twin's record,
 * so a scrape needs no bookkeeping of its own.
 */

/** Splits a whole number of records over n partitions, the first ones taking the remainder. */
export function spread(total: number, n: number): number[] {
  const whole = Math.max(0, Math.floor(total));
  const base = Math.floor(whole / n);
  const rest = whole - base * n;
  return Array.from({ length: n }, (_, k) => base + (k < rest ? 1 : 0));
}

/** kafka_exporter's newest offset per partition: every record that arrived, spread over the partitions. */
export function endOffsets(cluster: LiveCluster): number[] {
  return spread(cluster.cumulativeArrivalRecords, cluster.partitions);
}

/**
 * Records that arrived in seconds 0..s, added up in the order the cluster adds them, so that
 * for the latest second it is exactly the total the end offsets are spread from.
 */
function arrivedThrough(cluster: LiveCluster, s: number): number {
  if (s === cluster.elapsed - 1) return cluster.cumulativeArrivalRecords;
  const arrivals = cluster.twin.record.arrivalRate;
  let total = 0;
  for (let k = 0; k <= s; k++) total += arrivals[k] as number;
  return total;
}

/**
 * The job's consumer position (records read from the topic, whole) at the end of second s: the
 * end offset less the backlog rounded, so that end offset − position is the twin's lag rounded
 * whenever both are read at the same second; 0 before the first second.
 */
export function positionAfter(cluster: LiveCluster, s: number): number {
  if (s < 0) return 0;
  const end = Math.floor(arrivedThrough(cluster, s));
  return Math.max(0, end - Math.max(0, Math.round(cluster.twin.record.lag[s] as number)));
}

/**
 * The start of the second after the twin's last completed checkpoint (or the savepoint of a
 * stop), undefined while none has completed: c = s + 1 − checkpoint age after the latest
 * second s. The twin's first checkpoint completes at the earliest at the end of second 0, so
 * c = 0 means none has.
 */
function lastCheckpointEnd(cluster: LiveCluster): number | undefined {
  const s = cluster.elapsed - 1;
  if (s < 0) return undefined;
  const c = s + 1 - (cluster.twin.record.checkpointAgeSeconds[s] as number);
  return c > 0 ? c : undefined;
}

/**
 * The consumer position (records) the group has committed, or undefined while it has committed
 * nothing. The KafkaSource commits its readers' positions to Kafka only when a checkpoint
 * completes (a savepoint too), so this is the position at the twin's last completed checkpoint.
 */
export function committedPosition(cluster: LiveCluster): number | undefined {
  const c = lastCheckpointEnd(cluster);
  return c === undefined ? undefined : positionAfter(cluster, c - 1);
}

/**
 * kafka_exporter's consumer-group lag per partition: end offset − committed offset, i.e. the
 * true backlog plus everything consumed since the last completed checkpoint (a sawtooth of up
 * to a checkpoint interval's throughput); -1 for a partition without a committed offset, which
 * before the group's first checkpoint is every partition.
 */
export function consumerGroupLags(cluster: LiveCluster): number[] {
  const n = cluster.partitions;
  const committed = committedPosition(cluster);
  if (committed === undefined) return new Array<number>(n).fill(-1);
  const end = cluster.cumulativeArrivalRecords;
  // Per partition, both spread the same way: a partition's share never decreases with the total.
  const commits = spread(Math.min(Math.floor(end), committed), n);
  return spread(end, n).map((offset, k) => offset - (commits[k] as number));
}

/**
 * Records the job's sources emitted since their tasks last started (the submission, a restart
 * after a failure or an in-place rescale): the sum of the twin's throughput from then on. Flink's
 * numRecordsOut counters belong to the task, so every (re)start counts from 0 again; and a
 * reader registers pendingRecords with its first non-empty fetch, so while this is 0 (on an
 * idle topic, for good) that series is absent.
 */
export function recordsSinceStart(cluster: LiveCluster): number {
  const since = cluster.currentJob.runningSince;
  if (since === undefined) return 0;
  const throughput = cluster.twin.record.throughput;
  let total = 0;
  for (let s = since; s < cluster.elapsed; s++) total += throughput[s] as number;
  return total;
}

/** What each KafkaSource reader reports per partition, -1 for "not yet" as Flink does. */
export interface ReaderOffsets {
  /** currentOffset: the next offset the reader will emit. */
  current: number[];
  /** committedOffset: the offset committed when the task's last checkpoint completed. */
  committed: number[];
}

/**
 * The readers' per-partition offsets while the tasks run, spread over the partitions as the end
 * offsets are (spread() gives a partition a share that never decreases with the total, so a
 * position never passes its partition's end offset). A reader starts every partition at -1
 * when its task starts and sets it with the first record it emits from it, so a partition
 * reads -1 until the position has moved past where it stood when the tasks started (for good
 * on a partition nothing arrives at). The committed offsets are -1 until a checkpoint
 * completes after the tasks started: they are the task's own, not the group's in Kafka.
 */
export function readerOffsets(cluster: LiveCluster): ReaderOffsets {
  const n = cluster.partitions;
  const since = cluster.currentJob.runningSince ?? cluster.elapsed;
  const atStart = spread(positionAfter(cluster, since - 1), n);
  const current = spread(positionAfter(cluster, cluster.elapsed - 1), n).map((offset, k) => (offset > (atStart[k] as number) ? offset : -1));
  const c = lastCheckpointEnd(cluster);
  const committed = c !== undefined && c > since ? spread(positionAfter(cluster, c - 1), n) : new Array<number>(n).fill(-1);
  return { current, committed };
}
