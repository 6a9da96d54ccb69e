/**
 * The forecaster's public contract. Times are Unix seconds; values are rates (records/s or
 * messages per interval) and must come out finite and ≥ 0 whatever goes in.
 */

/** A forecast on the input's own time step: one entry per future step. */
export interface Forecast {
  /** Unix seconds of each forecast step. */
  readonly t: number[];
  readonly mean: number[];
  /** Prediction interval bounds at `level` (empirical, from the forecaster's own rolling errors). */
  readonly lower: number[];
  readonly upper: number[];
  readonly level: number;
  /** What produced the mean: the combination's weights per component, for explanations. */
  readonly weights: Readonly<Record<string, number>>;
}

/** How well the forecaster has done on the origins it has already seen the outcome of. */
export interface ForecastAccuracy {
  /** Mean absolute error over the scored (origin, lead) pairs; null before any was scored. */
  readonly mae: number | null;
  /** MAE divided by the mean absolute actual value, so series of different scale compare. */
  readonly relativeMae: number | null;
  /** Scored (origin, lead) pairs behind the figures. */
  readonly count: number;
  /** Per component, the same MAE on the same pairs (the basis of the weights). */
  readonly components: Readonly<Record<string, number | null>>;
}

export interface Forecaster {
  /** Replaces all state with a model of this history. */
  fit(t: readonly number[], y: readonly number[]): Promise<void>;
  /** Appends newer observations; parameters stay, states advance. */
  update(t: readonly number[], y: readonly number[]): Promise<void>;
  /** Forecasts `h` steps of the input's time step after the last observation. */
  forecast(h: number): Promise<Forecast>;
  accuracy(): ForecastAccuracy;
  /** Releases worker threads. */
  close(): Promise<void>;
}

/**
 * A fitted component model on a regular grid. `append` advances its state by one observation
 * without re-estimating parameters, which is what makes per-decision use cheap.
 */
export interface FittedModel {
  readonly name: string;
  append(y: number): void;
  forecast(h: number): number[] | Promise<number[]>;
  dispose?(): void;
}

/** A way to build a FittedModel from a regular series; null when the series does not suit it. */
export interface ModelFamily {
  readonly name: string;
  fit(y: readonly number[], season: number | null): FittedModel | null | Promise<FittedModel | null>;
}
