/** A point of a (weighted) least-squares fit; weight defaults to 1. */
export interface FitPoint {
  x: number;
  y: number;
  weight?: number;
}

export interface Line {
  intercept: number;
  slope: number;
}

/**
 * The weighted least-squares line y = intercept + slope · x; undefined without points or when
 * x does not vary (a line is then undetermined: see leastSquaresThroughOrigin).
 */
export function leastSquaresLine(points: readonly FitPoint[]): Line | undefined {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (const { x, y, weight = 1 } of points) { sw += weight; sx += weight * x; sy += weight * y; }
  if (!(sw > 0)) return undefined;
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  for (const { x, y, weight = 1 } of points) { sxx += weight * (x - mx) ** 2; sxy += weight * (x - mx) * (y - my); }
  if (!(sxx > 0)) return undefined;
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

/** The weighted least-squares line through the origin, y = slope · x (slope 0 when every x is 0). */
export function leastSquaresThroughOrigin(points: readonly FitPoint[]): Line {
  let sxx = 0;
  let sxy = 0;
  for (const { x, y, weight = 1 } of points) { sxx += weight * x * x; sxy += weight * x * y; }
  return { intercept: 0, slope: sxx > 0 ? sxy / sxx : 0 };
}
