import { describe, expect, it } from 'vitest';
import { clairvoyantLowerBound } from '../../../src/sim/lower-bound.js';
import { hpaPolicy } from '../../../src/sim/policies/hpa.js';
import { runPolicy } from '../../../src/sim/runner.js';
import { constant, scenario, trace } from '../../support/fixtures.js';

async function run(arrivals: number[], initialParallelism = 10) {
  const sc = scenario({ twin: { initialParallelism, rescaleDowntimeSeconds: 0 } });
  const values = Float64Array.from(arrivals);
  return runPolicy(sc, trace(values), hpaPolicy, { seed: 1, lowerBound: clairvoyantLowerBound(sc, values) });
}

describe('hpaPolicy', () => {
  it('scales to ceil(p · util / 0.7) every 15 s sync period', async () => {
    // 5,000/s on 10 slots of 1,000/s: 50 % busy → ceil(10 · 0.5/0.7) = 8, then 62.5 % is within tolerance.
    const { decisions } = await run(constant(5000, 600));
    expect(decisions.map((d) => [d.second, d.to])).toEqual([[14, 8]]);
  });

  it('does nothing within the 10 % tolerance', async () => {
    // 65 % busy: 0.65/0.7 = 0.93.
    const { decisions } = await run(constant(6500, 600));
    expect(decisions).toEqual([]);
  });

  it('holds scale-downs to the highest recommendation of the last 300 s', async () => {
    // 9,000/s for 10 min (≈ 12 slots at 75 %), then 3,000/s: the scale-down waits 5 minutes.
    const { decisions } = await run([...constant(9000, 600), ...constant(3000, 900)], 13);
    const down = decisions.find((d) => d.second >= 600 && d.to < d.from);
    expect(down).toBeDefined();
    expect(down?.second).toBeGreaterThanOrEqual(600 + 300 - 15);
    expect(down?.second).toBeLessThan(600 + 300 + 15);
  });

  it('scales up at once when saturated, limited to the default scale-up policy', async () => {
    // 20,000/s on 2 slots: 100 % busy → ceil(2/0.7) = 3, then 5, 8, … each sync period.
    const { decisions } = await run(constant(20_000, 300), 2);
    expect(decisions[0]).toMatchObject({ second: 14, from: 2, to: 3 });
    expect(decisions[1]).toMatchObject({ second: 29, from: 3, to: 5 });
  });
});
