import type { Scenario } from '../../src/config/scenario.js';
import type { Trace } from '../../src/sim/trace.js';

/** A small scenario with round numbers: capacity 1000 records/s per slot, no noise. */
export function scenario(overrides: {
  twin?: Partial<Scenario['twin']>;
  failures?: number[];
  slo?: Partial<Scenario['slo']>;
} = {}): Scenario {
  return {
    name: 'test',
    trace: { file: 'inline', scale: 1 },
    tracePath: 'inline',
    source: 'inline',
    seed: 1,
    twin: {
      capacity: { model: 'linear', intercept: 0, perSlot: 1000 },
      noise: { capacity: 0 },
      checkpointIntervalSeconds: 10,
      restartDowntimeSeconds: 30,
      rescaleDowntimeSeconds: 10,
      baseLatencySeconds: 0.2,
      minParallelism: 2,
      maxParallelism: 24,
      initialParallelism: 10,
      ...overrides.twin,
    },
    failures: { atSeconds: overrides.failures ?? [] },
    slo: { recoveryTimeSeconds: 180, latencySeconds: 1, ...overrides.slo },
  };
}

export function trace(values: ArrayLike<number>): Trace {
  return { startTime: 1_700_000_000, values: Float64Array.from(values) };
}

export function constant(value: number, seconds: number): number[] {
  return new Array<number>(seconds).fill(value);
}
