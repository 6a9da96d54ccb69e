/**
 * The cheapest piecewise-constant parallelism schedule over the forecast horizon that never
 * falls below the per-step requirement, where every change costs `switchCost` slot-seconds.
 * Dynamic programming over (step, parallelism): O(steps · range²), microseconds at 60 × 23.
 */
export function cheapestSchedule(input: {
  /** Smallest admissible parallelism per step. */
  required: ArrayLike<number>;
  current: number;
  min: number;
  max: number;
  stepSeconds: number;
  /** Cost of changing from one parallelism to another at the start of step k. */
  switchCost: (from: number, to: number, k: number) => number;
  /** Seconds the last step's parallelism is assumed to last beyond the horizon. */
  tailSeconds?: number;
}): { path: number[]; cost: number; changes: number } {
  const { required, current, min, max, stepSeconds, switchCost } = input;
  const tail = input.tailSeconds ?? 0;
  const steps = required.length;
  const width = max - min + 1;
  if (steps === 0) return { path: [], cost: 0, changes: 0 };
  const INF = Number.POSITIVE_INFINITY;
  let cost = new Float64Array(width).fill(INF);
  const parent: Int16Array[] = [];
  // Step 0: any parallelism, paying for the change from the current one.
  const first = new Int16Array(width).fill(-1);
  for (let j = 0; j < width; j++) {
    const p = min + j;
    if (p < (required[0] as number)) continue;
    cost[j] = p * stepSeconds + (p === current ? 0 : switchCost(current, p, 0));
  }
  parent.push(first);
  for (let k = 1; k < steps; k++) {
    const next = new Float64Array(width).fill(INF);
    const from = new Int16Array(width).fill(-1);
    const need = required[k] as number;
    for (let j = 0; j < width; j++) {
      const p = min + j;
      if (p < need) continue;
      let best = INF;
      let arg = -1;
      for (let i = 0; i < width; i++) {
        const c = cost[i] as number;
        if (c === INF) continue;
        const total = i === j ? c : c + switchCost(min + i, p, k);
        if (total < best) { best = total; arg = i; }
      }
      if (arg >= 0) { next[j] = best + p * stepSeconds; from[j] = arg; }
    }
    cost = next;
    parent.push(from);
  }
  // The plan does not end with the horizon: its last level keeps costing for the tail.
  for (let j = 0; j < width; j++) cost[j] = (cost[j] as number) + (min + j) * tail;
  let end = 0;
  for (let j = 1; j < width; j++) if ((cost[j] as number) < (cost[end] as number)) end = j;
  if (!Number.isFinite(cost[end] as number)) {
    // No finite plan (a switch cost was infinite): meet the requirement step by step.
    const path = Array.from({ length: steps }, (_, k) => Math.min(max, Math.max(min, required[k] as number)));
    return { path, cost: Number.POSITIVE_INFINITY, changes: countChanges(path, current) };
  }
  const path = new Array<number>(steps);
  let j = end;
  for (let k = steps - 1; k >= 0; k--) {
    path[k] = min + j;
    if (k > 0) j = (parent[k] as Int16Array)[j] as number;
  }
  return { path, cost: cost[end] as number, changes: countChanges(path, current) };
}

function countChanges(path: readonly number[], current: number): number {
  let changes = path[0] === current ? 0 : 1;
  for (let k = 1; k < path.length; k++) if (path[k] !== path[k - 1]) changes++;
  return changes;
}
