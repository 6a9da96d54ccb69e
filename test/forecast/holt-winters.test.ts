import { describe, expect, it } from 'vitest';
import { averagedErrors, averagedErrorsDirect, fitHoltWinters, type HoltWintersSpec } from '../../src/forecast/holt-winters.js';

const y = Array.from({ length: 300 }, (_, i) => 500 + 200 * Math.sin((2 * Math.PI * i) / 24) + 50 * Math.sin(i * 1.7) + i);
const SPECS: HoltWintersSpec[] = [
  { seasonal: 'add', trend: false },
  { seasonal: 'mul', trend: false },
  { seasonal: 'add', trend: true },
  { seasonal: 'mul', trend: true },
];

describe('Holt-Winters lead-averaged estimation', () => {
  it('computes the lead-averaged in-sample error exactly as forecasting every lead at every origin would', () => {
    for (const spec of SPECS) {
      const params = { ...spec, alpha: 0.3, beta: 0.05, gamma: 0.2, phi: spec.trend ? 0.9 : 1 };
      for (const leads of [1, 4, 12, 24]) {
        const direct = averagedErrorsDirect(y, 24, params, leads);
        expect(averagedErrors(y, 24, params, leads)).toBeCloseTo(direct, 6 - Math.round(Math.log10(direct)));
      }
    }
  });

  it('estimates on the averaged error when asked, and its averaged error is then no worse', () => {
    const oneStep = fitHoltWinters(y, 24, SPECS[0]!, 1)!;
    const averaged = fitHoltWinters(y, 24, SPECS[0]!, 12)!;
    expect(averaged.sse).toBeLessThanOrEqual(averagedErrors(y, 24, oneStep.params, 12) * (1 + 1e-6));
  });
});
