/**
 * Forecast errors of the most recent origins, per lead time. Both the combination weights and
 * the prediction intervals come from these, so both follow the series as it changes.
 */
export class RollingErrors {
  /** Signed errors (actual − forecast) per lead, oldest first, at most `capacity` each. */
  private readonly byLead: number[][] = [];
  /** The actual behind each error, same layout, for the relative error. */
  private readonly actuals: number[][] = [];
  private absSum = 0;
  private actualAbsSum = 0;
  private count = 0;

  constructor(private readonly capacity: number) {}

  record(lead: number, actual: number, forecast: number): void {
    while (this.byLead.length <= lead) {
      this.byLead.push([]);
      this.actuals.push([]);
    }
    const errors = this.byLead[lead] as number[];
    const actuals = this.actuals[lead] as number[];
    const error = actual - forecast;
    errors.push(error);
    actuals.push(actual);
    this.absSum += Math.abs(error);
    this.actualAbsSum += Math.abs(actual);
    this.count++;
    if (errors.length > this.capacity) {
      this.absSum -= Math.abs(errors.shift() as number);
      this.actualAbsSum -= Math.abs(actuals.shift() as number);
      this.count--;
    }
  }

  get size(): number {
    return this.count;
  }

  mae(): number | null {
    return this.count === 0 ? null : Math.max(0, this.absSum) / this.count;
  }

  relativeMae(): number | null {
    return this.count === 0 || this.actualAbsSum <= 0 ? null : Math.max(0, this.absSum) / this.actualAbsSum;
  }

  /** Errors recorded at this lead (0-based), oldest first. */
  at(lead: number): readonly number[] {
    return this.byLead[lead] ?? [];
  }
}

/** Linear-interpolated quantile of unsorted values; q in [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}
