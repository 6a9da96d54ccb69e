import { describe, expect, it } from 'vitest';
import { clairvoyantLowerBound } from '../../src/sim/lower-bound.js';
import { POLICIES } from '../../src/sim/policies/registry.js';
import { bucketWidth, buildReportData, downsample, renderReport, type ReportData } from '../../src/sim/report/index.js';
import { roundForPage } from '../../src/sim/report/data.js';
import { runPolicy, scenarioArrivals, type RunResult } from '../../src/sim/runner.js';
import type { RunScores } from '../../src/sim/scores.js';
import type { TwinRecord } from '../../src/sim/twin.js';
import { constant, scenario as fixtureScenario, trace as fixtureTrace } from '../support/fixtures.js';

// The report's pure parts; the page in a real browser and through the built CLI is in
// test/integration/sim/report.test.ts.
const TWO_MB = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Pure parts: bucketing, aggregation, the page's text.

describe('report data', () => {
  it('picks the smallest listed bucket that keeps a run within the point budget', () => {
    expect(bucketWidth(600)).toBe(1);
    expect(bucketWidth(1500)).toBe(1);
    expect(bucketWidth(1501)).toBe(2);
    expect(bucketWidth(21_601)).toBe(15); // 6 h: 1441 points
    expect(bucketWidth(21_601, 400)).toBe(60);
    expect(bucketWidth(7 * 86_400)).toBe(600);
    expect(() => bucketWidth(10, 0)).toThrow(RangeError);
  });

  it('aggregates each bucket by its maximum or mean, the last bucket partial', () => {
    const values = [1, 5, 2, 8, 3, 4, 10];
    expect(downsample(values, 3, 'max')).toEqual([5, 8, 10]);
    expect(downsample(values, 3, 'mean')).toEqual([roundForPage(8 / 3), 5, 10]);
    expect(downsample(values, 1, 'max')).toEqual(values);
    expect(downsample([], 5, 'mean')).toEqual([]);
  });

  it('rounds to four significant digits', () => {
    expect(roundForPage(42_680.3)).toBe(42_680);
    expect(roundForPage(1_234_567)).toBe(1_235_000);
    expect(roundForPage(0.213_456)).toBe(0.2135);
    expect(roundForPage(12)).toBe(12);
    expect(roundForPage(0)).toBe(0);
    expect(roundForPage(-3.14159)).toBe(-3.142);
  });

  it('keeps every policy, the lower bound, failures inside the run and a spike inside its bucket', async () => {
    const scenario = fixtureScenario({ failures: [100, 900, 5000] });
    const trace = fixtureTrace([...constant(4000, 600), ...constant(9000, 600)]);
    const arrivals = scenarioArrivals(scenario, trace);
    const lowerBound = clairvoyantLowerBound(scenario, arrivals);
    const results: RunResult[] = [];
    for (const name of ['static', 'hpa']) {
      results.push(await runPolicy(scenario, trace, POLICIES.get(name)!, { seed: 1, lowerBound }));
    }
    const data = buildReportData({ scenario, seed: 1, arrivals, lowerBound, results }, { maxPoints: 100 });
    expect(data.bucketSeconds).toBe(15);
    expect(data.x).toHaveLength(80);
    expect(data.x[1]).toBe(15);
    expect(data.failures).toEqual([100, 900]);
    expect(data.policies.map((p) => p.name)).toEqual(['static', 'hpa']);
    expect(new Set(data.policies.map((p) => p.color)).size).toBe(2);
    expect(data.arrivalRate[0]).toBe(4000);
    expect(data.arrivalRate[79]).toBe(9000);
    const hpa = results[1]!;
    // The highest latency of the run (the failure at 900 s) survives the aggregation.
    let peak = 0;
    for (const v of hpa.record.latencySeconds) peak = Math.max(peak, v);
    expect(Math.max(...data.policies[1]!.latencySeconds)).toBeCloseTo(peak, 2);
    expect(Math.max(...data.lowerBound)).toBe(Math.max(...lowerBound.perSecond));
    for (const p of data.policies) {
      expect(p.parallelism).toHaveLength(80);
      expect(p.latencySeconds).toHaveLength(80);
      expect(p.lag).toHaveLength(80);
    }
  });
});

/** A fake run with noisy values in every column, the worst case for the page's size. */
function noisyResult(policy: string, seconds: number, seed: number): RunResult {
  let state = seed;
  const random = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const column = (f: () => number): Float64Array => Float64Array.from({ length: seconds }, f);
  const record = {
    t: column(() => 0),
    arrivalRate: column(() => 40_000 + 100_000 * random()),
    throughput: column(() => 40_000 + 100_000 * random()),
    lag: column(() => 1_000_000 * random()),
    latencySeconds: column(() => 0.2 + 100 * random()),
    parallelism: column(() => 2 + Math.floor(22 * random())),
    status: column(() => 0),
  } as unknown as TwinRecord;
  const scores: RunScores = {
    scenario: 'noisy', policy, seed, durationSeconds: seconds, meanParallelism: 12.345, lowerBoundMeanParallelism: 7.37,
    costRatio: 1.675, failures: 8, recoveredWithinTarget: 7, recoveryTimesSeconds: [50, 60, 70, 80, 90, 100, 110, null],
    latencySloFraction: 0.987_65, rescales: 42, rescalesRejected: 1, decisionMillis: { p50: 5.5, p95: 12.25 },
  };
  return { scores, record, decisions: [] };
}

describe('report page', () => {
  const scenario = { name: 'noisy <script>alert(1)</script>', slo: { latencySeconds: 1, recoveryTimeSeconds: 180 }, failures: { atSeconds: [1200, 20_401] } };

  it('stays well under 2 MB for 6 h × 5 policies of noise, and is self-contained', () => {
    const seconds = 21_601;
    const results = ['static', 'hpa', 'flink-autoscaler', 'phoebe-2022', 'phoebe'].map((name, k) => noisyResult(name, seconds, k + 1));
    const arrivals = results[0]!.record.arrivalRate;
    const lowerBound = { perSecond: Int32Array.from({ length: seconds }, (_, s) => 2 + (s % 20)), meanParallelism: 7.37, infeasibleSeconds: 0 };
    const html = renderReport({ scenario, seed: 3, arrivals, lowerBound, results, generatedAt: new Date('2025-01-02T03:04:05Z') });
    expect(Buffer.byteLength(html)).toBeLessThan(TWO_MB / 2);
    // Nothing is fetched: no external script, stylesheet, image or font.
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<img\b/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html).toContain('var uPlot=');
    // The title names scenario, seed and date; the scenario name is escaped wherever it appears.
    expect(html).toContain('<title>phoebe simulate report: noisy &lt;script&gt;alert(1)&lt;/script&gt;, seed 3</title>');
    expect(html).toContain('seed 3, 2025-01-02</h1>');
    expect(html).not.toContain('<script>alert(1)');
    // The embedded data parses back.
    const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)?.[1];
    const data = JSON.parse(json!) as ReportData;
    expect(data.scenario).toBe(scenario.name);
    expect(data.bucketSeconds).toBe(15);
    expect(data.policies).toHaveLength(5);
    // Every policy has a score row, with the lower bound's row after them.
    const rows = html.match(/<tr>\s*<td class="policy">/g) ?? [];
    expect(rows).toHaveLength(5);
    expect(html).toMatch(/clairvoyant lower bound<\/td><td>7\.37<\/td>/);
    expect(html).toContain('7/8');
  });
});
