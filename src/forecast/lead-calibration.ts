/**
 * Per-lead calibration of prediction bounds from the forecaster's own track record: every
 * forecast is remembered, and once its outcome is known, its error at each lead joins that
 * lead's window. The upper bound at lead k is the mean plus the chosen quantile of the recent
 * errors at lead k, so it covers what it claims whatever model produced the mean.
 */
export class LeadCalibration {
  /** Errors per lead, relative to the scale of the series, newest last. */
  private readonly errors: number[][];
  private readonly pending: { origin: number; mean: number[] }[] = [];

  constructor(
    private readonly leads: number,
    private readonly window: number,
    /** Quantile of the errors added to the mean for the upper bound (e.g. 0.9). */
    private readonly level: number,
  ) {
    this.errors = Array.from({ length: leads }, () => []);
  }

  /**
   * Records a forecast made when `origin` values were known: mean[k] is for value origin + k.
   */
  remember(origin: number, mean: readonly number[]): void {
    if (this.pending.length > 0 && (this.pending[this.pending.length - 1] as { origin: number }).origin === origin) this.pending.pop();
    this.pending.push({ origin, mean: mean.slice(0, this.leads) });
  }

  /** Scores every remembered forecast against the values now known (values[i] is value i). */
  observe(values: readonly number[], scale: number): void {
    const unit = scale > 0 ? scale : 1;
    for (const forecast of this.pending) {
      for (let k = 0; k < forecast.mean.length; k++) {
        const index = forecast.origin + k;
        if (index !== values.length - 1) continue;
        const bucket = this.errors[k] as number[];
        bucket.push(((values[index] as number) - (forecast.mean[k] as number)) / unit);
        if (bucket.length > this.window) bucket.shift();
      }
    }
    while (this.pending.length > 0 && (this.pending[0] as { origin: number }).origin + this.leads <= values.length - 1) this.pending.shift();
  }

  /** Upper bounds for a new forecast; before enough errors are known at a lead, `fallback` there. */
  upper(mean: readonly number[], scale: number, fallback: readonly number[], minErrors = 20): number[] {
    return this.shifted(mean, scale, this.level, minErrors, fallback).map((u, k) => Math.max(u, mean[k] as number));
  }

  /** The mean corrected by the median of its past errors per lead (a forecaster's bias removed). */
  median(mean: readonly number[], scale: number, minErrors = 20): number[] {
    return this.shifted(mean, scale, 0.5, minErrors, mean).map((v) => Math.max(0, v));
  }

  private shifted(mean: readonly number[], scale: number, level: number, minErrors: number, fallback: readonly number[]): number[] {
    const unit = scale > 0 ? scale : 1;
    return mean.map((m, k) => {
      const bucket = this.errors[Math.min(k, this.leads - 1)] as number[];
      if (bucket.length < minErrors) return fallback[k] ?? m;
      const sorted = [...bucket].sort((a, b) => a - b);
      return m + (sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))] as number) * unit;
    });
  }

  /** Errors scored so far at a lead (for tests and explanations). */
  count(lead: number): number {
    return (this.errors[lead] as number[]).length;
  }
}
