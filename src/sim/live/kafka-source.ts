import type { LiveCluster } from './live-cluster.js';

/**
 * The Kafka source of the live twin's job as its metrics show it: the topic's end offsets, the
 * offsets the KafkaSource has committed for its consumer group, and whether its readers have
 * fetched anything since their tasks started. Derived from the twin's record, so a scrape needs
 * no bookkeeping of its own.
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
 * The consumer position (records) the group has committed, or undefined while it has committed
 * nothing. The KafkaSource commits its readers' positions to Kafka only when a checkpoint
 * completes (a savepoint too), so this is the position at the twin's last completed checkpoint:
 * the start of second c = s + 1 − checkpoint age after the latest second s. The twin's first
 * checkpoint completes at the earliest at the end of second 0, so c = 0 means none has.
 */
export function committedPosition(cluster: LiveCluster): number | undefined {
  const s = cluster.elapsed - 1;
  if (s < 0) return undefined;
  const record = cluster.twin.record;
  const c = s + 1 - (record.checkpointAgeSeconds[s] as number);
  if (c <= 0) return undefined;
  // Arrived before c, less what was still waiting then.
  let arrivedSince = 0;
  for (let k = c; k <= s; k++) arrivedSince += record.arrivalRate[k] as number;
  return cluster.cumulativeArrivalRecords - arrivedSince - (record.lag[c - 1] as number);
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
  const commits = spread(Math.min(Math.floor(end), Math.max(0, Math.round(committed))), n);
  return spread(end, n).map((offset, k) => offset - (commits[k] as number));
}

/**
 * Whether the current job's source readers have fetched records since their tasks last started
 * (the submission, a restart after a failure or an in-place rescale): some second with
 * throughput > 0 from then on. A reader registers pendingRecords with its first non-empty
 * fetch, so until then (on an idle topic, for good) the series is absent.
 */
export function sourceHasFetched(cluster: LiveCluster): boolean {
  const since = cluster.currentJob.runningSince;
  if (since === undefined) return false;
  const throughput = cluster.twin.record.throughput;
  for (let s = since; s < cluster.elapsed; s++) if ((throughput[s] as number) > 0) return true;
  return false;
}
