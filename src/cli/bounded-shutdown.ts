import type { Clock } from '../util/clock.js';

/**
 * Runs the graceful part of a shutdown (the last actuation, the Lease, the server), but never for
 * longer than `limitMs`: a step that hangs must not keep a stopped sidecar alive (Kubernetes
 * kills it after its grace period anyway; a test's child would outlive the test). Resolves with
 * whether the graceful part finished in time; `onTimeout` is told once it did not.
 */
export async function boundedShutdown(graceful: () => Promise<void>, limitMs: number, clock: Clock, onTimeout: () => void): Promise<boolean> {
  const timer = new AbortController();
  const finished = graceful().then(() => true, () => true);
  const expired = clock.sleep(limitMs, timer.signal).then(() => false);
  const inTime = await Promise.race([finished, expired]);
  timer.abort();
  if (!inTime) onTimeout();
  return inTime;
}
