import { describe, expect, it } from 'vitest';
import { leastSquaresLine, leastSquaresThroughOrigin } from '../../src/util/least-squares.js';

describe('least squares', () => {
  it('fits the weighted line, and none where x does not vary', () => {
    expect(leastSquaresLine([{ x: 1, y: 3 }, { x: 2, y: 5 }, { x: 3, y: 7 }])).toEqual({ intercept: 1, slope: 2 });
    // A heavy point pulls the line through it.
    const line = leastSquaresLine([{ x: 0, y: 0, weight: 1 }, { x: 1, y: 1, weight: 1 }, { x: 2, y: 0, weight: 1000 }]);
    expect((line?.intercept ?? 0) + 2 * (line?.slope ?? 0)).toBeCloseTo(0, 2);
    expect(leastSquaresLine([{ x: 4, y: 1 }, { x: 4, y: 2 }])).toBeUndefined();
    expect(leastSquaresLine([])).toBeUndefined();
  });

  it('fits through the origin: with one x, the line through the mean', () => {
    expect(leastSquaresThroughOrigin([{ x: 4, y: 4000 }, { x: 4, y: 4400 }])).toEqual({ intercept: 0, slope: 1050 });
    expect(leastSquaresThroughOrigin([])).toEqual({ intercept: 0, slope: 0 });
  });
});
