/**
 * What phoebe (and every baseline policy) may know about a running job: exactly what
 * Prometheus shows from the Flink reporter and kafka_exporter, nothing more. The twin
 * produces the same type in-process, so a policy cannot tell the two apart.
 */

export type JobStatus = 'RUNNING' | 'RESTARTING' | 'RESCALING';

/** Numeric codes for the `status` history column (a column must be numeric to stay compact). */
export const JOB_STATUS_CODE: Readonly<Record<JobStatus, number>> = { RUNNING: 0, RESTARTING: 1, RESCALING: 2 };
export const JOB_STATUS_BY_CODE: readonly JobStatus[] = ['RUNNING', 'RESTARTING', 'RESCALING'];

/** One observation, one second (or one scrape) of the job. Rates in records/s. */
export interface SignalSample {
  /** Unix time, seconds. */
  t: number;
  /** Records/s arriving at the source topic (Kafka offset rate). */
  arrivalRate: number;
  /** Records/s consumed by the job (source numRecordsInPerSecond). */
  throughput: number;
  /** Records waiting in Kafka (consumer-group lag / pendingRecords). */
  lag: number;
  /** busyTimeMsPerSecond of the bottleneck vertex, 0..1000. */
  busyTimeMsPerSecond: number;
  /** backPressuredTimeMsPerSecond of the sources, 0..1000. */
  backPressuredTimeMsPerSecond: number;
  /** End-to-end latency estimate, seconds. */
  latencySeconds: number;
  parallelism: number;
  /** Seconds since the last completed checkpoint. */
  checkpointAgeSeconds: number;
  status: JobStatus;
  /** Flink's numRestarts counter. */
  numRestarts: number;
}

type NumericKey = { [K in keyof SignalSample]: SignalSample[K] extends number ? K : never }[keyof SignalSample];

/** Column-wise history, oldest first; every column has the same length. */
export type SignalHistory = { readonly [K in NumericKey]: ArrayLike<number> } & {
  /** JOB_STATUS_CODE values. */
  readonly status: ArrayLike<number>;
  readonly length: number;
};

export interface Signals {
  /** The newest sample (also the last element of every history column). */
  readonly latest: SignalSample;
  readonly history: SignalHistory;
}

export const NUMERIC_SIGNAL_KEYS: readonly NumericKey[] = [
  't', 'arrivalRate', 'throughput', 'lag', 'busyTimeMsPerSecond', 'backPressuredTimeMsPerSecond',
  'latencySeconds', 'parallelism', 'checkpointAgeSeconds', 'numRestarts',
];
export type SignalColumn = NumericKey;

/** Index of the first history element with t >= since (binary search; t is ascending). */
export function indexAtOrAfter(history: SignalHistory, since: number): number {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((history.t[mid] as number) < since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
