/**
 * How component forecasts are weighted from their recent rolling-origin errors. Which method
 * wins changes from series to series (the published study's main finding), so the weights are
 * earned per series: components far behind the best get nothing, the rest share by inverse
 * squared error, which leans on the best without betting everything on a noisy ranking.
 */

export interface ComponentScore {
  readonly name: string;
  /** Rolling MAE, or null when the component has no scored forecasts yet. */
  readonly mae: number | null;
}

export interface CombinationRule {
  /** Components whose MAE exceeds the best's by more than this factor get weight 0. */
  readonly cutoff: number;
  /** Weights ∝ MAE^(−power). */
  readonly power: number;
}

export const DEFAULT_COMBINATION: CombinationRule = { cutoff: 1.25, power: 2 };

/** Weights summing to 1 over the given components; equal weights while nothing is scored. */
export function combinationWeights(scores: readonly ComponentScore[], rule: CombinationRule = DEFAULT_COMBINATION): Map<string, number> {
  const weights = new Map<string, number>();
  if (scores.length === 0) return weights;
  const scored = scores.filter((s): s is ComponentScore & { mae: number } => s.mae !== null && Number.isFinite(s.mae));
  if (scored.length === 0) {
    for (const s of scores) weights.set(s.name, 1 / scores.length);
    return weights;
  }
  const best = Math.min(...scored.map((s) => s.mae));
  if (best <= 0) {
    // A component that has been exactly right so far takes everything (constant series).
    const perfect = scored.filter((s) => s.mae <= 0);
    for (const s of scores) weights.set(s.name, perfect.includes(s as ComponentScore & { mae: number }) ? 1 / perfect.length : 0);
    return weights;
  }
  let total = 0;
  for (const s of scores) {
    const w = s.mae !== null && s.mae <= rule.cutoff * best ? Math.pow(best / s.mae, rule.power) : 0;
    weights.set(s.name, w);
    total += w;
  }
  for (const [name, w] of weights) weights.set(name, w / total);
  return weights;
}
