/**
 * Turns raw (t, y) observations into the regular, clean grid the models need. Metrics arrive
 * with gaps (a scrape missed), NaN or null values, and negative spikes where a counter behind
 * a rate was reset; none of these are workload, so they become "no observation" and the grid
 * carries the last good value across them.
 */

/** A valid observation: finite and not negative (a negative rate is a counter reset). */
export function isObservation(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** The typical spacing of the timestamps (median of positive differences), or null. */
export function typicalStep(t: readonly number[]): number | null {
  const diffs: number[] = [];
  for (let i = 1; i < t.length; i++) {
    const d = (t[i] as number) - (t[i - 1] as number);
    if (d > 0 && Number.isFinite(d)) diffs.push(d);
  }
  if (diffs.length === 0) return null;
  diffs.sort((a, b) => a - b);
  return diffs[Math.floor(diffs.length / 2)] as number;
}

/**
 * Accumulates observations into consecutive buckets of `width` seconds (bucket k covers
 * [origin + k·width, origin + (k+1)·width)) and emits each bucket's mean as soon as its last
 * input step has been seen, or a later bucket starts. Buckets without a valid observation
 * repeat the previous value; nothing is emitted before the first valid one.
 */
export class BucketAccumulator {
  private open: number | null = null;
  private sum = 0;
  private n = 0;
  private last: number | null = null;

  /** `inputStep`: spacing of the observations, so a bucket is known to be complete. */
  constructor(readonly origin: number, readonly width: number, readonly inputStep: number) {}

  /** Adds one observation; returns the values of the buckets it completed, in order. */
  push(t: number, y: number | null | undefined): number[] {
    if (!Number.isFinite(t)) return [];
    const k = this.bucketOf(t);
    if (this.open !== null && k < this.open) return []; // late: its bucket was already emitted
    this.open ??= k;
    const done: number[] = [];
    while (this.open < k) done.push(this.close());
    if (isObservation(y)) {
      this.sum += y;
      this.n++;
    }
    if (t + this.inputStep >= this.origin + (k + 1) * this.width - 1e-9 * this.width) done.push(this.close());
    return done.filter((v) => Number.isFinite(v));
  }

  /** Bucket index of a time. */
  bucketOf(t: number): number {
    return Math.floor((t - this.origin) / this.width + 1e-9);
  }

  /** Index of the first bucket not yet emitted, or null before the first observation. */
  get openIndex(): number | null {
    return this.open;
  }

  private close(): number {
    if (this.n > 0) this.last = this.sum / this.n;
    this.sum = 0;
    this.n = 0;
    this.open = (this.open as number) + 1;
    return this.last ?? Number.NaN;
  }
}
