/**
 * Soak: the live twin on the 6-hour CARS trace (config/scenarios/cars.yaml, eight failures) at
 * speed 60 — six minutes — scraped by a real Prometheus, with `phoebe run` acting in flink-rest
 * mode, while Prometheus is stopped and started again three times for tens of seconds.
 * Afterwards: no lost job (exactly one, RUNNING), phoebe's RSS grew less than 10 % from early
 * steady state to the end, no unhandled rejection (none logged or counted, clean exit), every
 * decision explained (each decision log line has a reason; /api/v1/status has the last one's
 * explanation), and phoebe held during every outage and resumed by itself after it. Its figures
 * go to BENCHMARKS.md (section "soak") from `npm run bench:soak` only.
 *
 * Time: `phoebe twin --speed X` runs the job X times faster and shows it in wall-clock units:
 * rates × X, durations ÷ X. phoebe reads wall-clock units, so its configuration is the CARS
 * job's divided by X: latency SLO 1 s → 1/60 s, recovery SLO 180 s → 3 s, checkpoint interval
 * 10 s → 1/6 s, restart prior 30 s → 0.5 s, rescale prior 10 s → 1/6 s, decision interval
 * 30 s → 0.5 s, rounded up to 1 s (the interval is whole seconds, at least the 1-s history
 * step), and a 10-s rate window (10 simulated minutes; 1 m ÷ 60 would hold a single scrape).
 * Not scaled: the planner's dwell time and hourly limit on scale-downs (600 s, 4 per hour; not
 * in the configuration) and the actuation limits' defaults (60 s between rescales, 12 per hour),
 * so phoebe rescales at most once a wall minute (a simulated hour) and hardly ever scales down;
 * and Prometheus's 1-s scrape, i.e. one sample per simulated minute.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownTable, reportSection } from '../bench/benchmarks-file.js';
import { freePort, findPrometheus, startPrometheus } from '../support/prometheus-harness.js';
import { BIN, ensureBuilt, ROOT } from '../support/built-cli.js';
import { prometheusOutages, type PrometheusOutages } from '../support/prometheus-restart.js';

const SPEED = 60;
const TRACE_WALL_SECONDS = 21_600 / SPEED;
/** When (s after phoebe starts) Prometheus goes away, and for how long. */
const OUTAGES = [{ at: 100, seconds: 25 }, { at: 185, seconds: 35 }, { at: 270, seconds: 20 }];
/** Early steady state: after warm-up (20 s) and the forecaster's first fit (20 decisions), before the first outage. */
const BASELINE = { from: 65, to: 95 };
/** The final checks, this long before the twin's trace (and process) ends. */
const FINAL_MARGIN_SECONDS = 14;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'phoebe-soak-'));
let outages: PrometheusOutages | undefined;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await outages?.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]): { child: ChildProcess; lines: string[]; stderr: () => string } {
  // TMPDIR: whatever phoebe keeps in the OS temp directory (the flink-rest rescale journal) stays in this run's.
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (lines.length < 200_000) lines.push(line);
  });
  child.stderr?.on('data', (chunk: Buffer) => { err = (err + chunk.toString('utf8')).slice(-20_000); });
  return { child, lines, stderr: () => err };
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

async function waitHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try { if ((await get(url)).status === 200) return; } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`${url} did not answer`);
    await sleep(200);
  }
}

function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The value of an unlabelled (or exactly labelled) sample in a /metrics text. */
function metric(text: string, series: string): number | undefined {
  const escaped = series.replace(/[{}"=,.]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

interface Job { jid: string; name: string; state: string }

describe.skipIf(findPrometheus() === undefined)('soak: live twin at speed 60, Prometheus outages, phoebe run in flink-rest mode', () => {
  it('loses no job, keeps its memory, explains every decision, holds through every outage and resumes', async () => {
    ensureBuilt();
    const [twinPort, phoebePort] = [await freePort(), await freePort()];
    const twinUrl = `http://127.0.0.1:${twinPort}`;
    const phoebeUrl = `http://127.0.0.1:${phoebePort}`;

    const twin = start(['twin', '--scenario', join(ROOT, 'config', 'scenarios', 'cars.yaml'), '--listen', `127.0.0.1:${twinPort}`, '--speed', String(SPEED)]);
    const twinStartedAt = Date.now();
    await waitHttp(`${twinUrl}/jobs/overview`);
    const harness = await startPrometheus({ targets: [`127.0.0.1:${twinPort}`, `127.0.0.1:${phoebePort}`], scrapeIntervalSeconds: 1 });
    outages = prometheusOutages(harness);
    const jars = JSON.parse((await get(`${twinUrl}/jars`)).text) as { files: { name: string }[] };

    writeFileSync(join(dir, 'phoebe.yaml'), [
      `prometheus: { url: "${harness.url}", timeoutSeconds: 2 }`,
      'job:',
      '  name: cars',
      `  checkpointIntervalSeconds: ${10 / SPEED}`,
      `  flinkRest: { url: "${twinUrl}" }`,
      '  kafka: { topic: events, consumerGroup: phoebe-demo }',
      `slo: { latencySeconds: ${1 / SPEED}, recoveryTimeSeconds: ${180 / SPEED}, latencyObjective: 0.98 }`,
      'parallelism: { min: 2, max: 24 }',
      'decision: { intervalSeconds: 1 }',
      `priors: { restartSeconds: ${30 / SPEED}, rescaleSeconds: ${10 / SPEED} }`,
      `actuation: { mode: flink-rest, flinkRest: { jarName: "${jars.files[0]?.name}" } }`,
      'queries: { rateWindow: 10s }',
      'history: { backfillSeconds: 3600, stepSeconds: 1 }',
      `exporter: { listen: "127.0.0.1:${phoebePort}" }`,
      '',
    ].join('\n'));
    const phoebe = start(['run', '--config', 'phoebe.yaml']);
    const phoebeStartedAt = Date.now();
    const pid = phoebe.child.pid as number;
    const since = (): number => (Date.now() - phoebeStartedAt) / 1000;
    const why = (text: string): string => `${text}\n--- phoebe stderr ---\n${phoebe.stderr().slice(-2000)}\n--- phoebe log ---\n${phoebe.lines.slice(-40).join('\n')}`;
    await waitHttp(`${phoebeUrl}/healthz`);

    const rss: { t: number; kb: number }[] = [];
    const sampler = setInterval(() => {
      const kb = rssKb(pid);
      if (kb !== undefined) rss.push({ t: since(), kb });
    }, 2000);

    const outageLog: { at: number; seconds: number; heldWith: string; resumedAfter: number }[] = [];
    try {
      for (const outage of OUTAGES) {
        while (since() < outage.at) await sleep(250);
        await outages.down();
        const downAt = since();
        await sleep(Math.min(8, outage.seconds / 2) * 1000);
        // Prometheus is gone: phoebe must hold and say why, on /readyz and in its own metrics.
        const readyz = await get(`${phoebeUrl}/readyz`);
        const metrics = (await get(`${phoebeUrl}/metrics`)).text;
        expect(readyz.status, why('readyz during the outage')).toBe(503);
        expect(readyz.text, why('readyz body')).toMatch(/^holding \([^)]*source_unavailable[^)]*\): signal source failed/);
        expect(metric(metrics, 'phoebe_hold{reason="source_unavailable"}'), why('phoebe_hold')).toBe(1);
        expect(metric(metrics, 'phoebe_ready')).toBe(0);
        while (since() < downAt + outage.seconds) await sleep(250);
        await outages.up();
        const upAt = since();
        // Back: phoebe resumes by itself (after Prometheus scrapes again, and after any restart of the job settles).
        let resumedAfter = Number.NaN;
        while (since() < upAt + 60) {
          if ((await get(`${phoebeUrl}/readyz`)).status === 200) { resumedAfter = since() - upAt; break; }
          await sleep(500);
        }
        expect(resumedAfter, why(`phoebe did not resume within 60 s after outage ${outageLog.length + 1}`)).toBeLessThan(60);
        outageLog.push({ at: Math.round(downAt), seconds: Math.round(upAt - downAt), heldWith: readyz.text.trim().slice(0, 80), resumedAfter });
      }

      while (Date.now() < twinStartedAt + (TRACE_WALL_SECONDS - FINAL_MARGIN_SECONDS) * 1000) await sleep(500);
      clearInterval(sampler);

      // No lost job: exactly one job RUNNING (a rescale in flight may take a moment).
      let jobs: Job[] = [];
      for (let k = 0; k < 20; k++) {
        jobs = (JSON.parse((await get(`${twinUrl}/jobs/overview`)).text) as { jobs: Job[] }).jobs;
        if (jobs.filter((j) => j.state === 'RUNNING').length === 1) break;
        await sleep(250);
      }
      const running = jobs.filter((j) => j.state === 'RUNNING');
      expect(running.length, why(`jobs: ${JSON.stringify(jobs)}`)).toBe(1);
      expect(jobs.filter((j) => !['RUNNING', 'FINISHED', 'CANCELED'].includes(j.state)), why('jobs neither running nor ended')).toEqual([]);

      // phoebe is alive; nothing unhandled; every decision explained.
      expect(phoebe.child.exitCode, why('phoebe exited early')).toBeNull();
      const metrics = (await get(`${phoebeUrl}/metrics`)).text;
      const status = JSON.parse((await get(`${phoebeUrl}/api/v1/status`)).text) as {
        lastDecision: { decision: { reason: string; candidates: unknown[]; inputs: unknown } } | null;
      };
      const events = phoebe.lines.flatMap((line) => {
        try { return [JSON.parse(line) as Record<string, unknown>]; } catch { return []; }
      });
      const decisions = events.filter((e) => e.event === 'decision');
      const unexplained = decisions.filter((e) => typeof e.reason !== 'string' || (e.reason as string).trim() === '');
      const holds = events.filter((e) => e.event === 'hold' || e.event === 'source-error');
      const rescales = events.filter((e) => e.event === 'rescale');
      const unhandled = events.filter((e) => e.event === 'unhandled-rejection');
      expect(unhandled, why('unhandled rejections logged')).toEqual([]);
      expect(metric(metrics, 'phoebe_unhandled_rejections_total')).toBe(0);
      expect(phoebe.stderr(), 'phoebe stderr').not.toMatch(/unhandled|internal error/i);
      expect(decisions.length, why('decisions')).toBeGreaterThan(50);
      expect(unexplained, why('decisions without a reason')).toEqual([]);
      expect(holds.every((e) => Array.isArray(e.hold) && (e.hold as unknown[]).length > 0 && typeof e.reason === 'string'), why('holds without reasons')).toBe(true);
      expect(status.lastDecision?.decision.reason, why('status explanation')).toMatch(/\S/);
      expect(status.lastDecision?.decision.candidates.length).toBeGreaterThan(0);
      expect(rescales.filter((e) => e.outcome === 'failed'), why('failed rescales')).toEqual([]);

      // Memory: early steady state against the end.
      const baseline = median(rss.filter((s) => s.t >= BASELINE.from && s.t <= BASELINE.to).map((s) => s.kb));
      const end = median(rss.slice(-6).map((s) => s.kb));
      const growth = end / baseline - 1;
      expect(rss.length).toBeGreaterThan(100);
      expect(growth, why(`RSS ${baseline} kB → ${end} kB`)).toBeLessThan(0.1);

      // phoebe stops cleanly.
      const exit = new Promise<number | null>((resolve) => phoebe.child.once('exit', (code) => resolve(code)));
      phoebe.child.kill('SIGTERM');
      const code = await Promise.race([exit, sleep(15_000).then(() => 'timeout' as const)]);
      expect(code, why('exit code after SIGTERM')).toBe(0);

      const byAction = (action: string) => metric(metrics, `phoebe_decisions_total{action="${action}"}`) ?? 0;
      const heldBy = new Map<string, number>();
      for (const e of holds) for (const r of e.hold as string[]) heldBy.set(r, (heldBy.get(r) ?? 0) + 1);
      const finalJob = (JSON.parse((await get(`${twinUrl}/jobs/${running[0]?.jid}`)).text) as { vertices?: { parallelism: number }[] }).vertices?.[0]?.parallelism;
      const wall = (Date.now() - twinStartedAt) / 1000;
      const mb = (kb: number) => (kb / 1024).toFixed(0);
      reportSection('soak', [
        '## Soak: live twin at speed 60 with Prometheus outages',
        '',
        `Written by \`npm run bench:soak\` (test/soak/sidecar.soak.ts): the CARS scenario (6 h trace, ${8} failures) at speed ${SPEED} — ${(TRACE_WALL_SECONDS / 60).toFixed(0)} wall minutes —`,
        'scraped every second by a real Prometheus, `phoebe run` in flink-rest mode (configuration scaled by 1/60, see the test),',
        `Prometheus stopped and started again ${OUTAGES.length} times. Recorded ${new Date().toISOString().slice(0, 10)}.`,
        '',
        markdownTable(['figure', 'value'], [
          ['wall time of the run (s)', wall.toFixed(0)],
          ['decisions (hold / scale-up / scale-down)', `${byAction('hold') + byAction('scale-up') + byAction('scale-down')} (${byAction('hold')} / ${byAction('scale-up')} / ${byAction('scale-down')})`],
          ['decisions without a reason', String(unexplained.length)],
          ['ticks held for the data, by reason', [...heldBy].map(([r, n]) => `${r} ${n}`).join(', ') || 'none'],
          ['rescales (completed / failed)', `${metric(metrics, 'phoebe_rescales_total{result="completed"}') ?? 0} / ${metric(metrics, 'phoebe_rescales_total{result="failed"}') ?? 0}`],
          ['Prometheus outages (s each)', outageLog.map((o) => o.seconds).join(', ')],
          ['phoebe ready again after each outage (s)', outageLog.map((o) => o.resumedAfter.toFixed(1)).join(', ')],
          ['RSS early steady state → end (MB)', `${mb(baseline)} → ${mb(end)} (${(growth * 100).toFixed(1)} %)`],
          ['unhandled rejections', String(unhandled.length)],
          ['final state', `${jobs.length} job(s) seen, exactly 1 RUNNING at parallelism ${finalJob ?? '?'}; phoebe exit code ${String(code)}`],
        ]),
      ].join('\n'));
    } finally {
      clearInterval(sampler);
    }
  }, 12 * 60_000);
});
