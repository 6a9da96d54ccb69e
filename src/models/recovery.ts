/**
 * Recovery time after a failure: the job loses the records since its last checkpoint, is down
 * for the restart, then works the backlog off against the incoming workload.
 */
export interface RecoveryInputs {
  /** Records/s the job processes at the candidate parallelism (a pessimistic estimate). */
  capacity: number;
  /** Arrival rates (records/s), piecewise constant over steps of `stepSeconds`, starting at the failure. */
  arrivals: ArrayLike<number>;
  stepSeconds: number;
  /** Records that must be replayed: processed since the last checkpoint, plus any backlog. */
  replayRecords: number;
  downtimeSeconds: number;
}

/**
 * Seconds from the failure until the backlog is worked off; Infinity when it never is. The
 * workload after the last step is taken to stay at its last value: an overloaded job never
 * recovers, however short the forecast (the original Phoebe stopped counting at its end).
 */
export function recoverySeconds(inputs: RecoveryInputs): number {
  const { capacity, arrivals, stepSeconds, downtimeSeconds } = inputs;
  const n = arrivals.length;
  if (n === 0 || !(capacity > 0)) return Number.POSITIVE_INFINITY;
  const rateAt = (k: number): number => arrivals[Math.min(n - 1, k)] as number;
  let backlog = inputs.replayRecords;
  // Arrivals during the downtime.
  let t = 0;
  while (t < downtimeSeconds) {
    const k = Math.floor(t / stepSeconds);
    const until = Math.min(downtimeSeconds, (k + 1) * stepSeconds);
    backlog += rateAt(k) * (until - t);
    t = until;
  }
  // Catch-up, segment by segment.
  while (backlog > 0) {
    const k = Math.floor(t / stepSeconds);
    const surplus = capacity - rateAt(k);
    if (k >= n - 1) return surplus > 0 ? t + backlog / surplus : Number.POSITIVE_INFINITY;
    const segmentEnd = (k + 1) * stepSeconds;
    const length = segmentEnd - t;
    if (surplus > 0 && surplus * length >= backlog) return t + backlog / surplus;
    backlog -= surplus * length;
    t = segmentEnd;
  }
  return t;
}
