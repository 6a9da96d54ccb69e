import { seededNormal } from '../../src/sim/random.js';

/**
 * The step-and-flash-crowd workload of config/traces/step-flash-crowd.csv: 6 h at 1 s, a base
 * load that steps up and down (a deployment that moves traffic) with two flash crowds (a
 * 5-minute surge to 1.5× at 2 h 15 min and a 2-minute one to 2.5× at 4 h, each reached within
 * 20 s), plus 3 % generator noise.
 * Reproducible: test/sim/synthetic-traces.test.ts checks the committed file against it.
 */
export function stepFlashCrowd(startTime = 1_700_000_000): string {
  const noise = seededNormal(42);
  const lines = ['timestamp|value'];
  for (let s = 0; s < 6 * 3600; s++) {
    let base = 60_000;
    if (s >= 3600 && s < 3 * 3600) base = 120_000; // step up at 1 h
    else if (s >= 3 * 3600 && s < 4.5 * 3600) base = 80_000; // step down at 3 h
    else if (s >= 4.5 * 3600) base = 100_000;
    const surge = (at: number, seconds: number, factor: number): number => {
      if (s < at || s >= at + seconds) return 1;
      const ramp = Math.min(1, (s - at) / 20, (at + seconds - s) / 20);
      return 1 + (factor - 1) * ramp;
    };
    const rate = base * surge(2 * 3600 + 900, 300, 1.5) * surge(4 * 3600, 120, 2.5) * (1 + 0.03 * noise());
    lines.push(`${startTime + s}|${Math.max(0, Math.round(rate))}`);
  }
  return `${lines.join('\n')}\n`;
}
