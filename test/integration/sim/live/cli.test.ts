import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, ROOT } from '../../../support/built-cli.js';

let dir: string;
let scenarioFile: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'phoebe-twin-cli-'));
  const lines = ['timestamp|value', ...Array.from({ length: 300 }, (_, t) => `${1_700_000_000 + t}|${6000 + 10 * t}`)];
  writeFileSync(join(dir, 'trace.csv'), `${lines.join('\n')}\n`);
  scenarioFile = join(dir, 'tiny.yaml');
  writeFileSync(scenarioFile, [
    'name: tiny',
    'trace: { file: trace.csv, scale: 1.0 }',
    'twin:',
    '  capacity: { model: linear, intercept: 0, perSlot: 1000 }',
    '  noise: { capacity: 0.02 }',
    '  checkpointIntervalSeconds: 10',
    '  restartDowntimeSeconds: 30',
    '  rescaleDowntimeSeconds: 10',
    '  baseLatencySeconds: 0.2',
    '  minParallelism: 2',
    '  maxParallelism: 24',
    '  initialParallelism: 10',
    'failures: { atSeconds: [100] }',
    'slo: { recoveryTimeSeconds: 180, latencySeconds: 1.0 }',
    'seed: 3',
    '',
  ].join('\n'));
}, 200_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let resolveUrl: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => { resolveUrl = resolve; });
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const match = / on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
    if (match) resolveUrl(match[1] as string);
  });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, url, exit };
}

describe('phoebe twin (CLI)', () => {
  it('serves on the given loopback address and stops by itself when the trace ends', async () => {
    const twin = run(['twin', '--scenario', scenarioFile, '--listen', '127.0.0.1:0', '--speed', '300', '--scheduler', 'adaptive']);
    const url = await Promise.race([twin.url, twin.exit.then((e) => { throw new Error(`exited early: ${e.stderr}`); })]);
    const overview = await (await fetch(`${url}/jobs/overview`)).json() as { jobs: { state: string; name: string }[] };
    expect(overview.jobs[0]).toMatchObject({ name: 'tiny', state: 'RUNNING' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('flink_jobmanager_job_uptime{');
    const config = await (await fetch(`${url}/jobmanager/config`)).json() as { key: string; value: string }[];
    expect(config).toContainEqual({ key: 'jobmanager.scheduler', value: 'adaptive' });
    const fd = await (await fetch(`${url}/apis/flink.apache.org/v1beta1/namespaces/flink/flinkdeployments/tiny`)).json() as { status: { jobStatus: { state: string } } };
    expect(fd.status.jobStatus.state).toBeDefined();
    const result = await twin.exit; // 300 s of trace at speed 300: about 1 s
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/phoebe twin: tiny \(300 s of trace, speed 300/);
  });

  it('stops on SIGTERM', async () => {
    const twin = run(['twin', '--scenario', scenarioFile, '--listen', '127.0.0.1:0']);
    const url = await Promise.race([twin.url, twin.exit.then((e) => { throw new Error(`exited early: ${e.stderr}`); })]);
    expect((await fetch(`${url}/overview`)).status).toBe(200);
    const started = Date.now();
    twin.child.kill('SIGTERM');
    const result = await twin.exit;
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
