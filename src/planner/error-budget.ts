import { JOB_STATUS_CODE, indexAtOrAfter, type SignalHistory } from '../observe/signals.js';

export interface ErrorBudgetConfig {
  /** Fraction of seconds that must meet the latency SLO (e.g. 0.98). */
  objective: number;
  latencySeconds: number;
  /** Seconds of history the budget is counted over. */
  windowSeconds: number;
  /** Share of the budget rescales may aim to spend; the rest absorbs noise and surprises. */
  targetSpend: number;
  /** Price (slot-seconds per violation-second) when spending exactly the target share. */
  basePrice: number;
  /** After a restart, latency belongs to the recovery SLO for this long, not to the latency budget. */
  recoverySeconds: number;
}

export interface ErrorBudgetState {
  /** Seconds over the latency SLO inside the window. */
  violations: number;
  /** Seconds the window allows (objective over the window's counted seconds). */
  allowed: number;
  /** violations ÷ allowed. */
  spent: number;
  /** Slot-seconds one more violation-second is worth now. */
  price: number;
}

/** Before this much history the spend rate is too noisy: assume the target spend. */
const MIN_WINDOW_SECONDS = 1800;

/**
 * The latency SLO as an error budget: the fraction of seconds allowed over the target is spent
 * by rescales (downtime and catch-up), noise and forecast misses. Rescales get cheaper while
 * the budget is underspent and dearer as it runs out, so one setting fits calm and wild jobs.
 */
export function errorBudget(history: SignalHistory, config: ErrorBudgetConfig): ErrorBudgetState {
  const n = history.length;
  if (n === 0) return { violations: 0, allowed: 0, spent: config.targetSpend, price: config.basePrice };
  const now = history.t[n - 1] as number;
  let violations = 0;
  let counted = 0;
  let recoveringUntil = Number.NEGATIVE_INFINITY;
  let restarts = history.numRestarts[indexAtOrAfter(history, now - config.windowSeconds)] as number;
  for (let i = indexAtOrAfter(history, now - config.windowSeconds); i < n; i++) {
    const t = history.t[i] as number;
    const r = history.numRestarts[i] as number;
    if (r > restarts || history.status[i] === JOB_STATUS_CODE.RESTARTING) recoveringUntil = Math.max(recoveringUntil, t + config.recoverySeconds);
    restarts = r;
    if (t <= recoveringUntil) continue;
    // A second without a latency reading is unknown, not a violation: missing data must not
    // price rescales (or cause one).
    const latency = history.latencySeconds[i] as number;
    if (Number.isNaN(latency)) continue;
    counted++;
    if (!(latency <= config.latencySeconds)) violations++;
  }
  const allowed = (1 - config.objective) * counted;
  // Blend towards the target while the window is young, so the first minutes set no price.
  const youth = Math.max(0, 1 - counted / MIN_WINDOW_SECONDS);
  const spent = allowed > 0 ? (violations / allowed) * (1 - youth) + config.targetSpend * youth : config.targetSpend;
  // Doubles for every quarter of the budget spent beyond the target share, halves below it.
  const price = config.basePrice * 2 ** ((spent - config.targetSpend) / 0.25);
  return { violations, allowed, spent, price };
}
