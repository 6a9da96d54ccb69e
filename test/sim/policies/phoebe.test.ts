import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/config/scenario.js';
import { clairvoyantLowerBound } from '../../../src/sim/lower-bound.js';
import { POLICIES } from '../../../src/sim/policies/registry.js';
import { runPolicy, scenarioArrivals } from '../../../src/sim/runner.js';
import type { RunScores } from '../../../src/sim/scores.js';
import { loadTrace } from '../../../src/sim/trace.js';

const scenarios = readdirSync('config/scenarios').filter((f) => f.endsWith('.yaml')).sort();

function meetsSlos(s: RunScores): boolean {
  return s.recoveredWithinTarget === s.failures && s.latencySloFraction >= 0.98;
}

describe.each(scenarios)('phoebe on %s (seed 1)', (file) => {
  it('meets both SLOs, rescales at most 4 times an hour, and no baseline meeting them is cheaper', async () => {
    const scenario = loadScenario(join('config/scenarios', file));
    const trace = loadTrace(scenario.tracePath);
    const lowerBound = clairvoyantLowerBound(scenario, scenarioArrivals(scenario, trace));
    const scores = new Map<string, RunScores>();
    for (const [name, factory] of POLICIES) {
      scores.set(name, (await runPolicy(scenario, trace, factory, { seed: 1, lowerBound })).scores);
    }
    const phoebe = scores.get('phoebe') as RunScores;
    expect(phoebe.recoveredWithinTarget).toBe(phoebe.failures);
    expect(phoebe.latencySloFraction).toBeGreaterThanOrEqual(0.98);
    expect(phoebe.rescales / (phoebe.durationSeconds / 3600)).toBeLessThanOrEqual(4);
    expect(phoebe.costRatio).toBeGreaterThanOrEqual(1);
    for (const [name, other] of scores) {
      if (name === 'phoebe') continue;
      if (meetsSlos(other)) expect(phoebe.meanParallelism, `${name} meets the SLOs`).toBeLessThan(other.meanParallelism);
      // Nobody may dominate phoebe: cheaper and at least as good on both QoS scores.
      const dominates = other.meanParallelism < phoebe.meanParallelism
        && other.recoveredWithinTarget >= phoebe.recoveredWithinTarget
        && other.latencySloFraction >= phoebe.latencySloFraction;
      expect(dominates, `${name} dominates phoebe`).toBe(false);
    }
  }, 120_000);
});
