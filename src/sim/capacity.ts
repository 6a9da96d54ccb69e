import type { CapacityConfig } from '../config/scenario.js';

/** Nominal maximum throughput (records/s) of the job at parallelism p, without noise. */
export function nominalCapacity(capacity: CapacityConfig, p: number): number {
  if (capacity.model === 'linear') return capacity.intercept + capacity.perSlot * p;
  const { lambda1, sigma, kappa } = capacity;
  return (lambda1 * p) / (1 + sigma * (p - 1) + kappa * p * (p - 1));
}

/** nominalCapacity for every p in [min, max], indexed by p (entries below min are 0). */
export function capacityTable(capacity: CapacityConfig, min: number, max: number): Float64Array {
  const table = new Float64Array(max + 1);
  for (let p = min; p <= max; p++) table[p] = nominalCapacity(capacity, p);
  return table;
}
