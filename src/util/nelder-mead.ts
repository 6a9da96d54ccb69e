import { yieldIfBusy } from './cooperative.js';

/**
 * Derivative-free minimisation (Nelder–Mead simplex). The smoothing and ARMA objectives here
 * are cheap O(n) recursions with few parameters, where a simplex converges in a few hundred
 * evaluations and needs no gradients.
 */

export interface MinimizeOptions {
  maxEvaluations?: number;
  /** Stop when the simplex's objective values differ by less than this (relative). */
  tolerance?: number;
  /** Initial simplex edge length per coordinate. */
  step?: number;
}

export interface MinimizeResult {
  x: number[];
  value: number;
  evaluations: number;
}

export function minimize(f: (x: readonly number[]) => number, x0: readonly number[], options: MinimizeOptions = {}): MinimizeResult {
  const steps = minimizeSteps(f, x0, options);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * The same minimisation, letting the event loop run between iterations whenever the current
 * slice has been busy (cooperative.ts): for objectives costly enough that a whole run would
 * hold the main thread for tens of milliseconds.
 */
export async function minimizeCooperatively(f: (x: readonly number[]) => number, x0: readonly number[], options: MinimizeOptions = {}): Promise<MinimizeResult> {
  const steps = minimizeSteps(f, x0, options);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    await yieldIfBusy();
  }
}

/** Nelder–Mead as a generator that pauses after every iteration; returns the result. */
function* minimizeSteps(f: (x: readonly number[]) => number, x0: readonly number[], options: MinimizeOptions): Generator<void, MinimizeResult> {
  const maxEvaluations = options.maxEvaluations ?? 200 * x0.length;
  const tolerance = options.tolerance ?? 1e-8;
  const step = options.step ?? 0.5;
  const n = x0.length;
  let evaluations = 0;
  // Non-finite objective values would freeze the ordering; treat them as worst possible.
  const evaluate = (x: number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };

  const simplex: { x: number[]; v: number }[] = [{ x: [...x0], v: evaluate([...x0]) }];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    x[i] = (x[i] as number) + step;
    simplex.push({ x, v: evaluate(x) });
  }

  const combine = (a: readonly number[], b: readonly number[], t: number): number[] => a.map((ai, i) => ai + t * ((b[i] as number) - ai));

  while (evaluations < maxEvaluations) {
    yield;
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0] as { x: number[]; v: number };
    const worst = simplex[n] as { x: number[]; v: number };
    const secondWorst = simplex[n - 1] as { x: number[]; v: number };
    if (Math.abs(worst.v - best.v) <= tolerance * (Math.abs(best.v) + 1e-300)) break;

    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] = (centroid[j] as number) + (simplex[i]!.x[j] as number) / n;

    const reflected = combine(centroid, worst.x, -1);
    const vr = evaluate(reflected);
    if (vr < best.v) {
      const expanded = combine(centroid, worst.x, -2);
      const ve = evaluate(expanded);
      simplex[n] = ve < vr ? { x: expanded, v: ve } : { x: reflected, v: vr };
    } else if (vr < secondWorst.v) {
      simplex[n] = { x: reflected, v: vr };
    } else {
      const outside = vr < worst.v;
      const contracted = combine(centroid, outside ? reflected : worst.x, 0.5);
      const vc = evaluate(contracted);
      if (vc < (outside ? vr : worst.v)) {
        simplex[n] = { x: contracted, v: vc };
      } else {
        for (let i = 1; i <= n; i++) {
          const x = combine(best.x, simplex[i]!.x, 0.5);
          simplex[i] = { x, v: evaluate(x) };
        }
      }
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  const best = simplex[0] as { x: number[]; v: number };
  return { x: best.x, value: best.v, evaluations };
}

/** Maps an unbounded optimiser coordinate into (lo, hi), so bounded parameters need no penalty. */
export function squash(u: number, lo: number, hi: number): number {
  return lo + (hi - lo) / (1 + Math.exp(-u));
}

/** Inverse of squash, for choosing a starting point inside (lo, hi). */
export function unsquash(x: number, lo: number, hi: number): number {
  const p = Math.min(1 - 1e-9, Math.max(1e-9, (x - lo) / (hi - lo)));
  return Math.log(p / (1 - p));
}
