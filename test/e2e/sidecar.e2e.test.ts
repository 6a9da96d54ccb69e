/**
 * End to end: a real Prometheus scrapes three live twins and three `phoebe run` sidecars, one
 * per acting mode, on a compressed scenario with a load ramp; everything is asserted through
 * Prometheus queries, as an operator would check it. Also runs every Grafana panel's PromQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startPrometheus, type PrometheusHarness } from '../support/prometheus-harness.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'bin.js');
const MODES = ['flink-rest', 'flink-deployment', 'taskmanager-deployment'] as const;
type Mode = (typeof MODES)[number];
const INITIAL_P = 5;
const RAMP_START = 40;
// An 80 s ramp (3,000 → 9,000 records/s): a 60 s one failed one run in four beside the other
// integration tests. This run sits beside them, so its length costs the suite nothing.
const RAMP_END = 120;
const TRACE_SECONDS = 240;

interface Rig { mode: Mode; job: string; twinPort: number; phoebePort: number; phoebeLog: () => string; twinLog: () => string }

const dir = mkdtempSync(join(tmpdir(), 'phoebe-e2e-'));
const children: ChildProcess[] = [];
const rigs: Rig[] = [];
let prometheus: PrometheusHarness;
let startedAt = 0;

/** Starts the CLI; TMPDIR keeps phoebe's rescale journal (default <tmpdir>/phoebe) private to this run. */
function start(args: string[], name: string): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOSTNAME: name, TMPDIR: dir } });
  let out = '';
  const keep = (chunk: Buffer): void => { out = (out + chunk.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  children.push(child);
  return { child, log: () => out };
}

async function waitHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try { if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return; } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Values of a query over the run so far, one per second, oldest first (null where absent). */
async function series(expr: string): Promise<{ t: number; v: number }[]> {
  const end = Math.floor(Date.now() / 1000);
  const url = `${prometheus.url}/api/v1/query_range?${new URLSearchParams({ query: expr, start: String(startedAt), end: String(end), step: '1' })}`;
  const body = (await (await fetch(url)).json()) as { data: { result: { values: [number, string][] }[] } };
  const result = body.data.result[0];
  return result ? result.values.map(([t, v]) => ({ t, v: Number(v) })) : [];
}

beforeAll(async () => {
  const lines = ['timestamp|value'];
  for (let s = 0; s < TRACE_SECONDS; s++) {
    const ramp = Math.min(1, Math.max(0, (s - RAMP_START) / (RAMP_END - RAMP_START)));
    lines.push(`${1_700_000_000 + s}|${Math.round(3000 + 6000 * ramp)}`);
  }
  writeFileSync(join(dir, 'trace.csv'), `${lines.join('\n')}\n`);
  const scenario = (name: string): string => [
    `name: ${name}`, 'trace: { file: trace.csv }',
    'twin:', '  capacity: { model: linear, intercept: 0, perSlot: 1000 }', '  noise: { capacity: 0.02 }',
    '  checkpointIntervalSeconds: 2', '  restartDowntimeSeconds: 5', '  rescaleDowntimeSeconds: 3', '  baseLatencySeconds: 0.2',
    `  minParallelism: 2`, '  maxParallelism: 16', `  initialParallelism: ${INITIAL_P}`,
    'slo: { recoveryTimeSeconds: 30, latencySeconds: 1.0 }', '',
  ].join('\n');

  const ports = await Promise.all(MODES.flatMap(() => [freePort(), freePort()]));
  prometheus = await startPrometheus({ targets: ports.map((p) => `127.0.0.1:${p}`), scrapeIntervalSeconds: 1 });
  startedAt = Math.floor(Date.now() / 1000);
  for (const [k, mode] of MODES.entries()) {
    const twinPort = ports[2 * k] as number;
    const phoebePort = ports[2 * k + 1] as number;
    // One job name per twin: the default queries select by job_name, so each phoebe reads its own.
    const job = `e2e-${mode}`;
    writeFileSync(join(dir, `${job}.yaml`), scenario(job));
    const twin = start(['twin', '--scenario', `${job}.yaml`, '--listen', `127.0.0.1:${twinPort}`], `twin-${mode}`);
    await waitHttp(`http://127.0.0.1:${twinPort}/jobs/overview`);
    const kubeconfig = join(dir, `kubeconfig-${mode}`);
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: twin',
      // client-node refuses plain http unless TLS verification is explicitly off.
      `clusters: [{ name: twin, cluster: { server: "http://127.0.0.1:${twinPort}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: nobody, user: {} }]', 'contexts: [{ name: twin, context: { cluster: twin, user: nobody } }]', '',
    ].join('\n'));
    const jars = (await (await fetch(`http://127.0.0.1:${twinPort}/jars`)).json()) as { files: { name: string }[] };
    // Time runs about 6× faster than in production here (decisions every 5 s, not 30 s): the
    // actuation safety net's minimum interval is scaled the same way (60 s → 10 s).
    const limits = 'limits: { minSecondsBetweenRescales: 10 }';
    const actuation: Record<Mode, string> = {
      'flink-rest': `{ mode: flink-rest, flinkRest: { jarName: "${jars.files[0]?.name}" }, ${limits} }`,
      'flink-deployment': `{ mode: flink-deployment, kubernetes: { kubeconfig: ${kubeconfig} }, ${limits} }`,
      'taskmanager-deployment': `{ mode: taskmanager-deployment, taskManagerDeployment: { slotsPerTaskManager: 1 }, kubernetes: { kubeconfig: ${kubeconfig} }, ${limits} }`,
    };
    writeFileSync(join(dir, `phoebe-${mode}.yaml`), [
      `prometheus: { url: "${prometheus.url}", timeoutSeconds: 5 }`,
      // No kafka section: the three twins share a topic name, so arrival and lag come from the
      // Flink source metrics, which carry job_name.
      'job:', `  name: ${job}`, '  checkpointIntervalSeconds: 2',
      `  flinkRest: { url: "http://127.0.0.1:${twinPort}" }`,
      `  flinkDeployment: { namespace: flink, name: ${job} }`, `  taskManagerDeployment: { namespace: flink, name: ${job}-taskmanager }`,
      'slo: { latencySeconds: 1.0, recoveryTimeSeconds: 30 }', 'parallelism: { min: 2, max: 16 }', 'decision: { intervalSeconds: 5 }',
      'priors: { restartSeconds: 10, rescaleSeconds: 5 }', `actuation: ${actuation[mode]}`,
      // A fresh Prometheus: short rate windows, so phoebe starts deciding after 20 s.
      'queries: { rateWindow: 10s }', 'history: { backfillSeconds: 600, stepSeconds: 1 }', `exporter: { listen: "127.0.0.1:${phoebePort}" }`, '',
    ].join('\n'));
    const phoebe = start(['run', '--config', `phoebe-${mode}.yaml`], `phoebe-${mode}`);
    rigs.push({ mode, job, twinPort, phoebePort, phoebeLog: phoebe.log, twinLog: twin.log });
  }
}, 60_000);

afterAll(async () => {
  // Every child ends here: SIGTERM, and SIGKILL for one that has not exited 10 s later.
  await Promise.all(children.map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  })));
  await prometheus?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const at = (rig: Rig): string => `instance="127.0.0.1:${rig.phoebePort}"`;
const twinAt = (rig: Rig): string => `instance="127.0.0.1:${rig.twinPort}"`;

async function sleepUntil(unixSeconds: number): Promise<void> {
  const ms = unixSeconds * 1000 - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

/** Every job RUNNING at ≥ 10 subtasks, the parallelism its phoebe reports, and phoebe ready (what the test asserts). */
async function everySettled(): Promise<boolean> {
  for (const rig of rigs) {
    const subtasks = await prometheus.query(`count(flink_taskmanager_job_task_busyTimeMsPerSecond{${twinAt(rig)}})`);
    const uptime = await prometheus.query(`flink_jobmanager_job_uptime{${twinAt(rig)}}`);
    const reported = await prometheus.query(`phoebe_parallelism{${at(rig)}}`);
    const ready = await prometheus.query(`phoebe_ready{${at(rig)}}`);
    if (!((subtasks[0] ?? 0) >= 10 && (uptime[0] ?? 0) > 0 && reported[0] === subtasks[0] && ready[0] === 1)) return false;
  }
  return true;
}

describe('phoebe run against live twins and a real Prometheus', () => {
  it('in every acting mode, raises the parallelism before the ramp breaks the latency SLO and the job runs at it', async () => {
    // The checks below cover the whole ramp: wait until it is over. Then wait until every job
    // runs at the parallelism phoebe reports, above the ramp's needs (at most 50 s, bounded by
    // the trace), rather than always the 50 s.
    await sleepUntil(startedAt + RAMP_END);
    const settleBy = startedAt + RAMP_END + 50;
    while (!(await everySettled()) && Date.now() / 1000 < settleBy) await new Promise((r) => setTimeout(r, 1000));
    const failures: string[] = [];
    for (const rig of rigs) {
      const why = (text: string): string => `${rig.mode}: ${text}\n--- phoebe log ---\n${rig.phoebeLog().slice(-3000)}`;
      // phoebe's own metrics are there and it is ready.
      expect(await prometheus.query(`phoebe_ready{${at(rig)}}`), why('phoebe_ready')).toEqual([1]);
      expect((await prometheus.query(`phoebe_decision_duration_seconds_count{${at(rig)}}`))[0], why('decisions')).toBeGreaterThan(10);
      expect(await prometheus.query(`phoebe_actuation_mode{${at(rig)}, mode="${rig.mode}"}`)).toEqual([1]);
      // It rescaled, successfully, and never failed a rescale.
      expect((await prometheus.query(`phoebe_rescales_total{${at(rig)}, result="completed"}`))[0], why('completed rescales')).toBeGreaterThanOrEqual(1);
      expect(await prometheus.query(`phoebe_rescales_total{${at(rig)}, result="failed"}`), why('failed rescales')).toEqual([0]);
      // The job is back RUNNING, at a parallelism that carries the ramp's 9,000 records/s.
      const subtasks = await prometheus.query(`count(flink_taskmanager_job_task_busyTimeMsPerSecond{${twinAt(rig)}})`);
      expect(subtasks[0], why('subtasks')).toBeGreaterThanOrEqual(10);
      expect((await prometheus.query(`flink_jobmanager_job_uptime{${twinAt(rig)}}`))[0], why('uptime')).toBeGreaterThan(0);
      expect(await prometheus.query(`phoebe_parallelism{${at(rig)}}`), why('phoebe sees it')).toEqual(subtasks);
      // Before latency went over the SLO for the first time, phoebe had already asked for more.
      const recommended = await series(`phoebe_parallelism_recommended{${at(rig)}}`);
      const latency = await series(`max(flink_taskmanager_job_latency_source_id_operator_id_operator_subtask_index_latency{${twinAt(rig)}, quantile="0.99"}) / 1000`);
      const firstRaise = recommended.find((s) => s.v > INITIAL_P)?.t;
      const firstBreach = latency.find((s) => s.v > 1)?.t;
      expect(firstRaise, why('a raise')).toBeDefined();
      if (firstBreach !== undefined && !(firstRaise! <= firstBreach)) failures.push(why(`first raise at ${firstRaise}, first breach at ${firstBreach}`));
      // Late seconds are only the rescales' own downtimes (3 s each, plus catch-up): no overload.
      const late = latency.filter((s) => s.v > 1).length;
      const rescales = (await prometheus.query(`phoebe_rescales_total{${at(rig)}, result="completed"}`))[0] as number;
      expect(late, why(`${late} late seconds for ${rescales} rescales`)).toBeLessThanOrEqual(rescales * 8);
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('records a Kubernetes Event on the rescaled object in the Kubernetes modes', async () => {
    for (const rig of rigs.filter((r) => r.mode !== 'flink-rest')) {
      const list = (await (await fetch(`http://127.0.0.1:${rig.twinPort}/api/v1/namespaces/flink/events`)).json()) as { items: { reason: string; involvedObject: { kind: string }; message: string }[] };
      const rescaled = list.items.filter((e) => e.reason === 'Rescaled');
      expect(rescaled.length, rig.mode).toBeGreaterThanOrEqual(1);
      expect(rescaled[0]?.involvedObject.kind).toBe(rig.mode === 'flink-deployment' ? 'FlinkDeployment' : 'Deployment');
    }
  });

  it('every Grafana panel query parses and returns data', async () => {
    const dashboard = JSON.parse(readFileSync(join(process.cwd(), 'grafana', 'phoebe-overview.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$instance', '.*');
        const res = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
        const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
        expect(body.status, `${panel.title}: ${expr}: ${body.error}`).toBe('success');
        if ((body.data?.result.length ?? 0) === 0) empty.push(`${panel.title}: ${expr}`);
      }
    }
    expect(empty).toEqual([]);
  });
});
