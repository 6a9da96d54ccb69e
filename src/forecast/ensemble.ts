import { yieldIfBusy } from '../util/cooperative.js';
import { combinationWeights, type CombinationRule } from './combination.js';
import { lastValueFamily, seasonalNaiveFamily } from './naive-models.js';
import { RollingErrors } from './rolling-errors.js';
import type { FittedModel, ModelFamily } from './types.js';

/**
 * A backtest-weighted combination of component models on one regular series. Weights come from
 * each component's errors on the most recent origins: first a rolling-origin backtest over the
 * tail of the fitting history, then every forecast whose outcome has since been observed.
 */

export interface EnsembleConfig {
  families: readonly ModelFamily[];
  /** Lead times scored per origin (the horizon the forecasts will be used at). */
  horizon: number;
  /**
   * Leads whose forecasts are averaged per target before a component is scored. Decisions
   * (and the published protocol) use every forecast made for a moment from the origins up
   * to this many steps before it, so that average, not each lead alone, is what the weights
   * judge: a model with noisy single leads can have the best average, and vice versa.
   */
  averagedLeads: number;
  /** Origins of the tail backtest (fewer when the history is short). */
  validationOrigins: number;
  /** Scored forecasts per lead that the weights and intervals remember. */
  errorWindow: number;
  combination: CombinationRule;
  /** A forecast above this multiple of the recent maximum is a divergence, not a prediction. */
  maxMultipleOfRecentMax: number;
  /** Observations behind the "recent maximum". */
  recentWindow: number;
  /** Called when a component fails (fit or forecast), for logs and tests. */
  onComponentFailure?: (name: string, reason: unknown) => void;
}

interface Component {
  readonly name: string;
  model: FittedModel;
  /** Errors per lead (origin, lead pairs). */
  readonly errors: RollingErrors;
  /** Errors of the lead-averaged forecast per target, at lead slot 0: the basis of the weights. */
  readonly averaged: RollingErrors;
  failed: boolean;
  /** Consecutive origins whose forecast was out of bounds. */
  diverged: number;
}

interface Pending {
  /** Index of the first forecast step (the observation count when it was made). */
  origin: number;
  combined: number[];
  byComponent: Map<string, number[]>;
}

export interface EnsembleForecast {
  mean: number[];
  weights: Map<string, number>;
}

/** Divergences in a row after which a component is dropped until the next fit. */
const MAX_DIVERGED_ORIGINS = 3;

const FALLBACKS: readonly ModelFamily[] = [seasonalNaiveFamily, lastValueFamily];

export class Ensemble {
  private readonly recent: number[];
  private count: number;
  private pending: Pending[] = [];
  readonly errors: RollingErrors;

  private constructor(
    private readonly components: Component[],
    private readonly fallbacks: FittedModel[],
    history: readonly number[],
    private readonly config: EnsembleConfig,
    errors: RollingErrors,
  ) {
    this.recent = history.slice(-config.recentWindow);
    this.count = history.length;
    this.errors = errors;
  }

  /**
   * Fits every family on y. When the history allows, first fits them on y without its last
   * `validationOrigins` values and replays those as rolling origins, so the weights start from
   * evidence about this very series rather than from equal shares.
   */
  static async fit(y: readonly number[], season: number | null, config: EnsembleConfig): Promise<Ensemble> {
    const validation = Math.min(config.validationOrigins, Math.floor(y.length / 4));
    const errorsByName = new Map<string, { errors: RollingErrors; averaged: RollingErrors }>();
    const combinedErrors = new RollingErrors(config.errorWindow);
    if (validation > 0) {
      const prefix = y.slice(0, y.length - validation);
      const trial = await Ensemble.build(prefix, season, config, errorsByName, combinedErrors);
      for (let i = prefix.length; i < y.length; i++) {
        await trial.forecast(config.horizon);
        trial.append(y[i] as number);
        await yieldIfBusy();
      }
      trial.dispose();
    }
    return Ensemble.build(y, season, config, errorsByName, combinedErrors);
  }

  private static async build(y: readonly number[], season: number | null, config: EnsembleConfig, errorsByName: Map<string, { errors: RollingErrors; averaged: RollingErrors }>, combined: RollingErrors): Promise<Ensemble> {
    const components: Component[] = [];
    for (const family of config.families) {
      // Fits are synchronous CPU work; letting the event loop run between them keeps a
      // refit from starving everything else the process does (metrics, probes, timers).
      // Each fit starts on a fresh slice, so no two of them add up to one long stall.
      await yieldIfBusy(0);
      try {
        const model = await family.fit(y, season);
        if (model === null) continue;
        let scores = errorsByName.get(family.name);
        if (scores === undefined) {
          scores = { errors: new RollingErrors(config.errorWindow), averaged: new RollingErrors(config.errorWindow) };
          errorsByName.set(family.name, scores);
        }
        components.push({ name: family.name, model, errors: scores.errors, averaged: scores.averaged, failed: false, diverged: 0 });
      } catch (err) {
        config.onComponentFailure?.(family.name, err);
      }
    }
    const fallbacks: FittedModel[] = [];
    for (const family of FALLBACKS) {
      const model = await family.fit(y, season);
      if (model !== null) fallbacks.push(model);
    }
    return new Ensemble(components, fallbacks, y, config, combined);
  }

  get size(): number {
    return this.count;
  }

  /** Names of the components still in use. */
  get componentNames(): string[] {
    return this.components.filter((c) => !c.failed).map((c) => c.name);
  }

  /** Root mean square of the recent step-to-step changes: an error scale before any is scored. */
  stepSpread(): number {
    let sum = 0;
    for (let i = 1; i < this.recent.length; i++) sum += ((this.recent[i] as number) - (this.recent[i - 1] as number)) ** 2;
    return this.recent.length > 1 ? Math.sqrt(sum / (this.recent.length - 1)) : 0;
  }

  /** Each component's MAE of its lead-averaged forecasts (the basis of the weights). */
  componentMae(): Record<string, number | null> {
    return Object.fromEntries(this.components.map((c) => [c.name, c.averaged.mae()]));
  }

  append(value: number): void {
    const index = this.count;
    const sums = new Map<string, { sum: number; n: number }>();
    for (const p of this.pending) {
      const lead = index - p.origin;
      if (lead < 0 || lead >= p.combined.length) continue;
      this.errors.record(lead, value, p.combined[lead] as number);
      for (const c of this.components) {
        const f = p.byComponent.get(c.name);
        if (f === undefined) continue;
        c.errors.record(lead, value, f[lead] as number);
        if (lead < this.config.averagedLeads) {
          const acc = sums.get(c.name) ?? { sum: 0, n: 0 };
          acc.sum += f[lead] as number;
          acc.n++;
          sums.set(c.name, acc);
        }
      }
    }
    for (const c of this.components) {
      const acc = sums.get(c.name);
      if (acc !== undefined) c.averaged.record(0, value, acc.sum / acc.n);
    }
    this.pending = this.pending.filter((p) => index + 1 - p.origin < p.combined.length);
    for (const c of this.components) {
      if (c.failed) continue;
      try {
        c.model.append(value);
      } catch (err) {
        this.fail(c, err);
      }
    }
    for (const f of this.fallbacks) f.append(value);
    this.recent.push(value);
    if (this.recent.length > this.config.recentWindow) this.recent.shift();
    this.count++;
  }

  async forecast(h: number): Promise<EnsembleForecast> {
    // The floor keeps an all-zero history from making every non-zero forecast a divergence.
    const cap = this.config.maxMultipleOfRecentMax * Math.max(1, ...this.recent);
    const byComponent = new Map<string, number[]>();
    for (const c of this.components) {
      if (c.failed) continue;
      let f: number[];
      try {
        f = await c.model.forecast(h);
      } catch (err) {
        this.fail(c, err);
        continue;
      }
      // A diverging forecast sits out this origin; a component that keeps diverging is dropped.
      if (f.length === h && f.every((v) => Number.isFinite(v) && Math.abs(v) <= cap)) {
        byComponent.set(c.name, f);
        c.diverged = 0;
      } else if (++c.diverged >= MAX_DIVERGED_ORIGINS) {
        this.fail(c, new RangeError(`forecast outside ±${cap} at ${c.diverged} origins in a row`));
      }
    }
    const weights = combinationWeights(this.components.filter((c) => byComponent.has(c.name)).map((c) => ({ name: c.name, mae: c.averaged.mae() })), this.config.combination);
    let mean = new Array<number>(h).fill(0);
    if (weights.size === 0) {
      // Every model failed: the seasonal naive forecast (or the last value) stands in.
      const fallback = this.fallbacks[0];
      mean = fallback === undefined ? mean : await fallback.forecast(h);
      weights.set(fallback?.name ?? 'zero', 1);
    } else {
      for (const [name, w] of weights) {
        const f = byComponent.get(name) as number[];
        for (let k = 0; k < h; k++) mean[k] = (mean[k] as number) + w * (f[k] as number);
      }
    }
    mean = mean.map((v) => Math.min(cap, Math.max(0, Number.isFinite(v) ? v : 0)));
    this.pending = this.pending.filter((p) => p.origin !== this.count);
    this.pending.push({ origin: this.count, combined: mean, byComponent });
    return { mean, weights };
  }

  dispose(): void {
    for (const c of this.components) c.model.dispose?.();
  }

  private fail(c: Component, reason: unknown): void {
    // A failed component stays out until the next fit: its state may be corrupt.
    c.failed = true;
    c.model.dispose?.();
    this.config.onComponentFailure?.(c.name, reason);
  }
}
