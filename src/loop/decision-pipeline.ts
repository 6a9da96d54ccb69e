import { LeadCalibration } from '../forecast/lead-calibration.js';
import type { Forecast, Forecaster } from '../forecast/types.js';
import { QosLearner, type QosPriors } from '../models/qos-model.js';
import type { Signals } from '../observe/signals.js';
import { bucketMeans } from '../observe/window.js';
import type { Decision } from '../planner/decision.js';
import { errorBudget, type ErrorBudgetState } from '../planner/error-budget.js';
import { plan, type PlannerConfig, type WorkloadForecast } from '../planner/planner.js';

export interface PipelineConfig {
  planner: PlannerConfig;
  priors: QosPriors;
  /** The forecaster works on means of this many seconds (the planner's step). */
  bucketSeconds: number;
  /** Forecast steps ahead (horizon = steps · bucketSeconds). */
  horizonSteps: number;
  /** Refit the forecaster from scratch this often (s); in between it only updates. */
  refitSeconds: number;
  /** History the forecaster is fitted on (s). */
  fitWindowSeconds: number;
  /** Coverage the upper bound is calibrated to, from the pipeline's own forecast errors. */
  upperLevel: number;
  /** Past forecasts per lead behind that calibration. */
  calibrationWindow: number;
}

/**
 * How far the forecast looks ahead whatever the decision interval (horizonSteps · bucketSeconds):
 * ten minutes, as the original Phoebe; longer trend extrapolations cost more than they saved.
 */
export const FORECAST_HORIZON_SECONDS = 600;

/** The settings that do not depend on the configuration (src/loop/controller-settings.ts adds the rest). */
export const DEFAULT_PIPELINE: Omit<PipelineConfig, 'planner' | 'priors' | 'bucketSeconds' | 'horizonSteps'> = {
  refitSeconds: 1800,
  fitWindowSeconds: 6 * 3600,
  upperLevel: 0.9,
  calibrationWindow: 240,
};

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Below this many buckets a forecast is a guess; the persistence forecast is used instead. */
const MIN_BUCKETS_TO_FORECAST = 20;

/** A plan made, with what it was made from. */
export interface PipelineDecision {
  kind: 'decision';
  decision: Decision;
  forecast: WorkloadForecast;
  forecastSource: string;
  budget: ErrorBudgetState;
  /** The forecaster's rolling MAE relative to the series level; null before it is known. */
  forecastErrorRatio: number | null;
}

export type PipelineOutcome = PipelineDecision | { kind: 'waiting'; reason: string };

/**
 * The modelling and planning part of phoebe's controller step (src/loop/controller.ts), in
 * order: models from the new signals → forecast of the arrival rate → plan. It keeps what the
 * models and the forecaster learned; phoebe's rescales come in as data with each call.
 */
export class DecisionPipeline {
  private readonly qos: QosLearner;
  private readonly bucketT: number[] = [];
  private readonly bucketY: number[] = [];
  /** Buckets already handed to the forecaster. */
  private fed = 0;
  private fittedAt = Number.NEGATIVE_INFINITY;
  private readonly calibration: LeadCalibration;

  constructor(
    private readonly config: PipelineConfig,
    private readonly forecaster: Forecaster,
  ) {
    this.qos = new QosLearner(config.priors);
    this.calibration = new LeadCalibration(config.horizonSteps, config.calibrationWindow, config.upperLevel);
  }

  /**
   * `rescaleTimes`: start times of phoebe's rescales, newest last, for the planner's scale-down
   * limits; `now`: the decision's time. Both unix s on phoebe's clock (the signals' newest sample
   * may be a few seconds older).
   */
  async decide(signals: Signals, rescaleTimes: readonly number[], now: number): Promise<PipelineOutcome> {
    const { latest, history } = signals;
    if (latest.status !== 'RUNNING') return { kind: 'waiting', reason: `job is ${latest.status}` };
    const model = this.qos.update(history);
    if (!model) return { kind: 'waiting', reason: 'no capacity observation yet' };
    this.collectBuckets(signals);
    // Each stage is synchronous work of a few to tens of ms: let requests (a /metrics scrape)
    // in between, so a decision never holds the event loop for its whole duration.
    await yieldToEventLoop();
    const { forecast, source } = await this.forecastArrivals(latest.t, latest.arrivalRate);
    await yieldToEventLoop();
    const { planner } = this.config;
    const budget = errorBudget(history, {
      ...planner.errorBudget,
      latencySeconds: planner.slo.latencySeconds,
      recoverySeconds: planner.slo.recoveryTimeSeconds,
    });
    const decision = plan(
      {
        time: now, currentParallelism: latest.parallelism, arrivalRate: latest.arrivalRate, lag: latest.lag,
        model, forecast, rescaleTimes, violationPrice: budget.price,
      },
      planner,
    );
    return { kind: 'decision', decision, forecast, forecastSource: source, budget, forecastErrorRatio: this.forecaster.accuracy().relativeMae };
  }

  async close(): Promise<void> {
    await this.forecaster.close();
  }

  /** Appends the means of every bucket completed since the last call. */
  private collectBuckets(signals: Signals): void {
    const { history } = signals;
    const width = this.config.bucketSeconds;
    const first = history.t[0] as number;
    const count = this.bucketT.length;
    const start = count > 0 ? (this.bucketT[count - 1] as number) + width : first - (first % width);
    // A sample at t covers the second [t, t + 1): a bucket is complete once its last second is in.
    const end = (history.t[history.length - 1] as number) + 1;
    const fresh = bucketMeans(history, 'arrivalRate', start, end, width, this.bucketY[count - 1] ?? 0);
    for (let k = 0; k < fresh.t.length; k++) {
      this.bucketT.push(fresh.t[k] as number);
      this.bucketY.push(fresh.y[k] as number);
      this.calibration.observe(this.bucketY, this.scale());
    }
  }

  private async forecastArrivals(now: number, latestRate: number): Promise<{ forecast: WorkloadForecast; source: string }> {
    const { bucketSeconds: width, horizonSteps } = this.config;
    const count = this.bucketT.length;
    // Forecast steps start after the newest complete bucket; skip those already in the past.
    const lastEnd = count > 0 ? (this.bucketT[count - 1] as number) + width : now;
    const skip = Math.max(0, Math.floor((now - lastEnd) / width));
    if (count < MIN_BUCKETS_TO_FORECAST) return { forecast: this.persistence(latestRate), source: 'persistence (warming up)' };
    try {
      if (now - this.fittedAt >= this.config.refitSeconds || this.fed === 0) {
        const from = Math.max(0, count - Math.ceil(this.config.fitWindowSeconds / width));
        await this.forecaster.fit(this.bucketT.slice(from), this.bucketY.slice(from));
        this.fittedAt = now;
        await yieldToEventLoop();
      } else if (this.fed < count) {
        await this.forecaster.update(this.bucketT.slice(this.fed), this.bucketY.slice(this.fed));
      }
      this.fed = count;
      const f: Forecast = await this.forecaster.forecast(horizonSteps + skip);
      const raw = f.mean.slice(skip);
      const mean = this.calibration.median(raw, this.scale());
      const upper = this.calibration.upper(raw, this.scale(), f.upper.slice(skip));
      if (!upper.every(Number.isFinite)) throw new Error('non-finite forecast');
      this.calibration.remember(count + skip, raw);
      return { forecast: { stepSeconds: width, mean, upper }, source: 'forecaster' };
    } catch {
      // A failed or diverging forecast never blocks a decision: hold the recent peak.
      this.fed = 0;
      return { forecast: this.persistence(latestRate), source: 'persistence (forecaster failed)' };
    }
  }

  /** The series' recent level, which forecast errors are measured against. */
  private scale(): number {
    const recent = this.bucketY.slice(-120);
    return recent.reduce((a, v) => a + v, 0) / Math.max(1, recent.length);
  }

  /** The recent peak held flat, with 10 % headroom: safe while the forecaster cannot speak. */
  private persistence(latestRate: number): WorkloadForecast {
    const peak = Math.max(latestRate, ...this.bucketY.slice(-10));
    const steps = this.config.horizonSteps;
    return { stepSeconds: this.config.bucketSeconds, mean: new Array<number>(steps).fill(peak), upper: new Array<number>(steps).fill(peak * 1.1) };
  }
}
