/**
 * Cooperative scheduling for CPU-bound fitting on the main thread. A refit runs inside a
 * process that also answers probes, serves metrics and keeps timers; fitting yields to the
 * event loop whenever it has held it for a few milliseconds, so no single stretch of
 * synchronous work gets long.
 */

let sliceStart = performance.now();

/** Yields (a macrotask, so timers and I/O run) when the current slice exceeds `budgetMs`. */
export async function yieldIfBusy(budgetMs = 8): Promise<void> {
  if (performance.now() - sliceStart < budgetMs) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStart = performance.now();
}
