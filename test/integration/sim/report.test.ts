import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICIES } from '../../../src/sim/policies/registry.js';
import type { ReportData } from '../../../src/sim/report/index.js';
import type { RunScores } from '../../../src/sim/scores.js';
import { ensureBuilt, ROOT } from '../../support/built-cli.js';
import { runBuilt } from '../../support/cli-run.js';

const CARS = join(ROOT, 'config', 'scenarios', 'cars.yaml');
const CHROMIUM = '/usr/bin/chromium';
const CHART_IDS = ['chart-arrival', 'chart-parallelism', 'chart-latency', 'chart-lag'];
const TWO_MB = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The page in a real browser: Debian's Chromium (installed here if missing and possible).

/** Path of Chromium, installing Debian's package when missing; a reason when that cannot be done. */
function ensureChromium(): { path: string } | { skip: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { skip: `${CHROMIUM} is missing and this user is not root, so it cannot be installed (apt-get install chromium)` };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const update = spawnSync('apt-get', [...lock, 'update'], { env, encoding: 'utf8', timeout: 600_000 });
  const install = spawnSync('apt-get', [...lock, 'install', '-y', 'chromium'], { env, encoding: 'utf8', timeout: 900_000 });
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  const tail = (r: typeof install): string => `${r.error?.message ?? ''} ${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return { skip: `cannot install chromium with apt-get (no network to Debian's mirrors?): update: ${tail(update)}; install: ${tail(install)}` };
}

const browser = ensureChromium();
if ('skip' in browser) console.warn(`report browser tests skipped: ${browser.skip}`);

function simulateCli(args: string[], cwd: string): { stdout: string; stderr: string } {
  const run = runBuilt(['simulate', ...args], cwd);
  if (run.status !== 0) throw new Error(`phoebe simulate ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run;
}

interface ChartCheck {
  id: string;
  canvases: number;
  width: number;
  height: number;
  /** Pixels that are neither transparent nor white (background), all series shown. */
  inked: number;
  /** Pixels of the failure markers' colour, all series shown. */
  failureMarks: number;
  /** Per series (its stroke colour), the pixels of that colour with only that series shown. */
  alone: { color: string; pixels: number }[];
}

interface PageCheck {
  ready: string | undefined;
  error: string;
  scoreRows: string[];
  data: ReportData;
  charts: ChartCheck[];
}

/**
 * Opens the report in headless Chromium with every network request refused, and reads back
 * per chart: its canvas, how much of it is inked, the failure markers' pixels, and, with each
 * series shown alone in turn (so lines that coincide, like several policies at zero backlog,
 * cannot hide one another), the pixels of that series' colour: a series that drew no data
 * path has none.
 */
let launched: Browser | undefined;

/** One headless Chromium for the file (a launch takes seconds); each report gets its own context. */
async function browserInstance(): Promise<Browser> {
  launched ??= await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  return launched;
}

async function inspectReport(file: string, screenshot?: string): Promise<{ page: PageCheck; problems: string[]; requests: string[] }> {
  const context = await (await browserInstance()).newContext({ viewport: { width: 1400, height: 1000 }, deviceScaleFactor: 1 });
  const problems: string[] = [];
  const requests: string[] = [];
  try {
    const url = pathToFileURL(file).href;
    await context.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested === url) return route.continue();
      requests.push(requested);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => document.body.dataset.chartsReady !== undefined || (document.getElementById('report-error')?.textContent ?? '') !== '', undefined, { timeout: 60_000 });
    const result = await page.evaluate(async (ids: string[]) => {
      const frames = (): Promise<void> => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
      await frames();
      const data = JSON.parse(document.getElementById('report-data')!.textContent!) as ReportData;
      const charts = (window as unknown as { phoebeReportCharts?: { setSeries(i: number, o: { show: boolean }): void }[] }).phoebeReportCharts ?? [];
      const hex = (h: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
      /** Inked pixels, and opaque pixels within 24 per channel of the colour. */
      const count = (canvas: HTMLCanvasElement, color: string): { inked: number; matching: number } => {
        const [tr, tg, tb] = hex(color);
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        let matching = 0;
        for (let i = 0; i < pixels.length; i += 4) {
          const r = pixels[i]!; const g = pixels[i + 1]!; const b = pixels[i + 2]!; const a = pixels[i + 3]!;
          if (a === 0 || (r > 245 && g > 245 && b > 245)) continue;
          inked++;
          if (a >= 200 && Math.abs(r - tr) <= 24 && Math.abs(g - tg) <= 24 && Math.abs(b - tb) <= 24) matching++;
        }
        return { inked, matching };
      };
      const out = [];
      for (const [k, id] of ids.entries()) {
        const host = document.getElementById(id)!;
        const canvases = host.querySelectorAll('canvas');
        const canvas = canvases[0];
        const strokes = JSON.parse(host.dataset.series ?? '[]') as string[];
        const check = { id, canvases: canvases.length, width: canvas?.width ?? 0, height: canvas?.height ?? 0, inked: 0, failureMarks: 0, alone: [] as { color: string; pixels: number }[] };
        const chart = charts[k];
        if (canvas && chart && canvas.width > 0 && canvas.height > 0) {
          const all = count(canvas, data.colors.failure);
          check.inked = all.inked;
          check.failureMarks = all.matching;
          for (const [i, color] of strokes.entries()) {
            strokes.forEach((_, j) => chart.setSeries(j + 1, { show: j === i }));
            await frames();
            check.alone.push({ color, pixels: count(canvas, color).matching });
          }
          strokes.forEach((_, j) => chart.setSeries(j + 1, { show: true }));
          await frames();
        }
        out.push(check);
      }
      const scoreRows = [...document.querySelectorAll('table.scores tbody tr td.policy')].map((td) => td.textContent ?? '');
      return { ready: document.body.dataset.chartsReady, error: document.getElementById('report-error')?.textContent ?? '', scoreRows, data, charts: out };
    }, CHART_IDS);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { page: result, problems, requests };
  } finally {
    await context.close();
  }
}

/** Every chart drawn: one canvas, inked, the failure markers, and a data path for every series. */
function expectChartsRendered(check: { page: PageCheck; problems: string[]; requests: string[] }, policies: string[]): void {
  const { page } = check;
  expect(check.problems).toEqual([]);
  expect(check.requests).toEqual([]);
  expect(page.error).toBe('');
  expect(page.ready).toBe(String(CHART_IDS.length));
  expect(page.scoreRows).toEqual([...policies, 'clairvoyant lower bound']);
  expect(page.data.policies.map((p) => p.name)).toEqual(policies);
  const policyColors = page.data.policies.map((p) => p.color);
  const expectedSeries: Record<string, string[]> = {
    'chart-arrival': [page.data.colors.arrivalRate],
    'chart-parallelism': [page.data.colors.lowerBound, ...policyColors],
    'chart-latency': [page.data.colors.slo, ...policyColors],
    'chart-lag': policyColors,
  };
  for (const chart of page.charts) {
    expect(chart.canvases, chart.id).toBe(1);
    expect(chart.width, chart.id).toBeGreaterThan(600);
    expect(chart.height, chart.id).toBeGreaterThan(150);
    expect(chart.inked / (chart.width * chart.height), `${chart.id}: share of inked pixels`).toBeGreaterThan(0.02);
    if (page.data.failures.length > 0) expect(chart.failureMarks, `${chart.id}: failure markers`).toBeGreaterThan(100 * page.data.failures.length);
    expect(chart.alone.map((s) => s.color), chart.id).toEqual(expectedSeries[chart.id]);
    for (const { color, pixels } of chart.alone) expect(pixels, `${chart.id}: pixels of ${color} shown alone`).toBeGreaterThanOrEqual(200);
  }
}

describe('phoebe simulate --report errors', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('ends with one message and exit status 2 when the report cannot be written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phoebe-report-'));
    try {
      const target = join(dir, 'missing-dir', 'report.html');
      const run = runBuilt(['simulate', '--scenario', CARS, '--policy', 'static', '--report', target], dir);
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`cannot write ${target}: ENOENT`);
      expect(existsSync(target)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.skipIf('skip' in browser)('phoebe simulate --report in Chromium', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'phoebe-report-'));
  }, 300_000);
  afterAll(async () => {
    await launched?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart for a crafted 1 h scenario with a step, a spike and two failures', async () => {
    // 1 h at 1 s: 40 k/s, a step to 110 k/s at 20 min, a 2-minute spike to 200 k/s at 40 min.
    const start = 1_700_000_000;
    const lines = ['timestamp,value'];
    for (let s = 0; s < 3600; s++) {
      const rate = s >= 2400 && s < 2520 ? 200_000 : s >= 1200 ? 110_000 : 40_000;
      lines.push(`${start + s},${rate}`);
    }
    writeFileSync(join(dir, 'crafted.csv'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'crafted.yaml'), [
      'name: crafted-step',
      'trace: { file: crafted.csv, scale: 1.0 }',
      'twin:',
      '  capacity: { model: linear, intercept: 6371, perSlot: 15934 }',
      '  noise: { capacity: 0.03 }',
      '  checkpointIntervalSeconds: 10',
      '  restartDowntimeSeconds: 30',
      '  rescaleDowntimeSeconds: 10',
      '  baseLatencySeconds: 0.2',
      '  minParallelism: 2',
      '  maxParallelism: 24',
      '  initialParallelism: 6',
      'failures: { atSeconds: [900, 2700] }',
      'slo: { recoveryTimeSeconds: 180, latencySeconds: 1.0 }',
      'seed: 4',
      '',
    ].join('\n'));
    const policies = ['static', 'hpa', 'phoebe'];
    const report = join(dir, 'crafted.html');
    const run = simulateCli(['--scenario', 'crafted.yaml', ...policies.flatMap((p) => ['--policy', p]), '--report', report, '--json', 'scores.json'], dir);
    expect(run.stdout).toContain('crafted-step: 3600 s, seed 4');
    expect(run.stderr).toMatch(/report: .*crafted\.html \(\d+ KiB\)/);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('phoebe simulate report: crafted-step, seed 4');
    const scores = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as RunScores[];
    for (const s of scores) expect(html).toContain(`<td>${s.costRatio.toFixed(3)}</td>`);

    const check = await inspectReport(report);
    expectChartsRendered(check, policies);
    expect(check.page.data.bucketSeconds).toBe(5);
    expect(check.page.data.failures).toEqual([900, 2700]);

    // The check sees a missing line: the same page with hpa's backlog blanked out.
    const data = JSON.parse(/<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html)![1]!) as ReportData;
    const hpa = data.policies.find((p) => p.name === 'hpa')!;
    (hpa as { lag: (number | null)[] }).lag = hpa.lag.map(() => null);
    const tampered = join(dir, 'tampered.html');
    writeFileSync(tampered, html.replace(/(<script type="application\/json" id="report-data">)[^<]*/, (_, open: string) => `${open}${JSON.stringify(data).replace(/</g, '\\u003c')}`));
    const broken = await inspectReport(tampered);
    const lag = broken.page.charts.find((c) => c.id === 'chart-lag')!;
    expect(lag.alone.find((s) => s.color === hpa.color)!.pixels).toBe(0);
    expect(lag.alone.filter((s) => s.color !== hpa.color).every((s) => s.pixels >= 200)).toBe(true);
    expect(() => expectChartsRendered(broken, policies)).toThrow(/chart-lag: pixels of/);
  }, 300_000);

  it('draws every chart for cars.yaml with every policy, under 2 MB, and takes a screenshot', async () => {
    const report = join(dir, 'cars.html');
    const run = simulateCli(['--scenario', CARS, '--report', report], dir);
    expect(run.stdout).toContain('cars: 21601 s, seed 1');
    const size = statSync(report).size;
    expect(size).toBeLessThan(TWO_MB / 4);
    // PHOEBE_REPORT_SCREENSHOT=docs/report-cars.png refreshes the README's screenshot.
    const target = process.env.PHOEBE_REPORT_SCREENSHOT;
    const screenshot = target ? resolve(ROOT, target) : join(dir, 'cars.png');
    mkdirSync(dirname(screenshot), { recursive: true });
    const check = await inspectReport(report, screenshot);
    const policies = [...POLICIES.keys()];
    expectChartsRendered(check, policies);
    expect(check.page.data.failures).toHaveLength(8);
    expect(check.page.data.bucketSeconds).toBe(15);
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1400); // IHDR width
    expect(png.readUInt32BE(20)).toBeGreaterThan(1800); // the whole page
  }, 300_000);
});
