import { describe, expect, it } from 'vitest';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import type { Policy } from '../../src/sim/policy.js';
import { runPolicy } from '../../src/sim/runner.js';
import type { RescaleOutcome } from '../../src/sim/twin.js';
import { constant, scenario, trace } from '../support/fixtures.js';

describe('runPolicy', () => {
  it('tells the policy what the twin answered to each parallelism it asked for', async () => {
    const sc = scenario({ twin: { initialParallelism: 4 } });
    const arrivals = constant(2000, 120);
    const answers: RescaleOutcome[] = [];
    // Asks for 6 every 30 s: a rescale, then the parallelism it already runs at.
    const policy: Policy = {
      name: 'six', intervalSeconds: 30,
      decide: () => ({ parallelism: 6 }),
      rescaleOutcome: (outcome) => { answers.push(outcome); },
    };
    const { decisions } = await runPolicy(sc, trace(arrivals), () => policy, { seed: 1, lowerBound: clairvoyantLowerBound(sc, Float64Array.from(arrivals)) });
    expect(decisions.map((d) => d.outcome)).toEqual(['started']);
    expect(answers).toEqual(['started', 'unchanged', 'unchanged']);
  });
});
