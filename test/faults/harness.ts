/**
 * Fault-test plumbing: fresh live twins with fault injection (one per scenario, served by the twin
 * host process), the twin's /__faults API, the SIGKILL driver, and the invariants every scenario
 * must end with.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RescaleResult } from '../../src/act/actuator.js';
import type { RescaleRecord } from '../../src/act/flink-rest/journal.js';
import type { FaultSpec } from '../../src/sim/live/fault-injection.js';
import type { FlowAccounting } from '../../src/sim/live/live-cluster.js';
import { BIN, ROOT, ensureBuilt } from '../support/built-cli.js';
import type { DriverConfig, DriverOutcome } from './rescale-driver.js';
import { IpcChild } from './ipc.js';
import type { TwinHostRequest } from './twin-host.js';

export const DRIVER = join(ROOT, 'dist', 'test', 'faults', 'rescale-driver.js');
const TWIN_HOST = join(ROOT, 'dist', 'test', 'faults', 'twin-host.js');
/** Simulated seconds per wall second: rescale downtime 4 s → 0.2 s, savepoint 2 s → 0.1 s, checkpoints every 0.5 s. */
export const SPEED = 20;
export const JOB = 'faults';
export const INITIAL_P = 4;
/** Records per simulated second; 1 000 per slot, so 4 slots keep up and nothing lags before a rescale. */
const RATE = 3_000;
const TRACE_SECONDS = 3_600;

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/** dist/ has the CLI, the driver and the twin host, built from the current sources. */
export function ensureFaultsBuilt(): void {
  ensureBuilt();
  const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'test', 'faults')));
  const fresh = [DRIVER, TWIN_HOST].every((file) => existsSync(file) && statSync(file).mtimeMs >= sources);
  if (fresh) return;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (!existsSync(DRIVER) || !existsSync(TWIN_HOST) || !existsSync(BIN)) throw new Error(`build failed (status ${build.status}):\n${build.stdout}\n${build.stderr}`.slice(0, 4000));
}

export function writeScenario(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const lines = ['timestamp|value'];
  for (let s = 0; s < TRACE_SECONDS; s++) lines.push(`${1_700_000_000 + s}|${RATE}`);
  writeFileSync(join(dir, 'trace.csv'), `${lines.join('\n')}\n`);
  const scenario = join(dir, 'faults.yaml');
  writeFileSync(scenario, [
    `name: ${JOB}`, 'trace: { file: trace.csv }',
    'twin:', '  capacity: { model: linear, intercept: 0, perSlot: 1000 }', '  noise: { capacity: 0 }',
    '  checkpointIntervalSeconds: 10', '  restartDowntimeSeconds: 10', '  rescaleDowntimeSeconds: 4', '  baseLatencySeconds: 0.2',
    '  minParallelism: 1', '  maxParallelism: 16', `  initialParallelism: ${INITIAL_P}`,
    'slo: { recoveryTimeSeconds: 60, latencySeconds: 1.0 }', '',
  ].join('\n'));
  return scenario;
}

export interface TwinProcess {
  url: string;
  /** The twin host's recent output (all its twins'), for a failure message. */
  log: () => string;
  stop(): Promise<void>;
}

/**
 * Fresh live twins with fault injection, each on its own port, served by one child process
 * (twin-host.ts: the CLI's startTwin, as `phoebe twin --faults` runs it).
 */
export class TwinHost {
  private readonly host = new IpcChild<TwinHostRequest, string>(TWIN_HOST);

  /** A new twin of `scenario` at SPEED; resolves once it listens. */
  async twin(scenario: string, timeoutMs = 20_000): Promise<TwinProcess> {
    const url = await this.host.request({ op: 'start', scenario, speed: SPEED }, timeoutMs);
    return { url, log: () => this.host.log(), stop: async () => { await this.host.request({ op: 'stop', url }, 5_000); } };
  }

  /** Ends the host and every twin it still serves. */
  close(): Promise<void> {
    return this.host.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface TwinJob {
  id: string;
  state: string;
  parallelism: number;
  savepointPath: string | null;
  restoredFromLatestStop: boolean | null;
  failure: string | null;
}

export interface TwinState {
  armed: unknown[];
  fired: { fault: string; detail: string }[];
  requests: number;
  routeCounts: Record<string, number>;
  /** Requests a slow fault still holds back (not executed yet). */
  heldRequests: number;
  cancelRequests: unknown[];
  concurrentSubmissionsRefused: number;
  jobs: TwinJob[];
  activeJobs: number;
  runningJobs: number;
  twin: { status: string; parallelism: number; elapsedSeconds: number };
  accounting: FlowAccounting;
}

export async function twinState(url: string): Promise<TwinState> {
  const res = await fetch(`${url}/__faults`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET /__faults: HTTP ${res.status}`);
  return (await res.json()) as TwinState;
}

export async function injectFaults(url: string, faults: FaultSpec[], replace = false): Promise<void> {
  const res = await fetch(`${url}/__faults`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ faults, replace }), signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`POST /__faults: HTTP ${res.status} ${await res.text()}`);
}

/** Requests the twin saw on one route, e.g. how many stops were sent. */
export async function countRequests(url: string, route: 'stop' | 'run' | 'savepoint-status' | 'job' | 'overview'): Promise<number> {
  return (await twinState(url)).routeCounts[route] ?? 0;
}

/** Polls the twin's state until `done` holds; throws with the state after `timeoutMs`. */
export async function waitForTwin(url: string, what: string, done: (state: TwinState) => boolean, timeoutMs = 8_000): Promise<TwinState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await twinState(url);
    if (done(state)) return state;
    if (Date.now() > until) {
      const { jobs, twin, fired, routeCounts, heldRequests } = state;
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ jobs, twin, fired, routeCounts, heldRequests })}`);
    }
    await sleep(50);
  }
}

export interface Settled {
  state: TwinState;
  job: TwinJob;
  /** Records neither processed nor in Kafka (the twin's conservation: arrivals = processed − rolled back + lag). */
  lost: number;
}

/**
 * The invariants of every scenario, waited for (bounded): exactly one job active and RUNNING at
 * `parallelism`, the twin running; no request that could cancel a job; no second job submitted
 * while one was active; every resubmitted job restored from the latest stop's savepoint; no
 * record lost. Throws with the twin's state when they do not hold within `timeoutMs`.
 */
export async function settled(url: string, parallelism: number, timeoutMs = 8_000): Promise<Settled> {
  const state = await waitForTwin(url, `the job settling RUNNING at ${parallelism}`, (s) => {
    const running = s.jobs.filter((j) => j.state === 'RUNNING');
    return s.activeJobs === 1 && running.length === 1 && running[0]!.parallelism === parallelism && s.twin.status === 'RUNNING' && s.twin.parallelism === parallelism;
  }, timeoutMs);
  const job = state.jobs.find((j) => j.state === 'RUNNING')!;
  const problems: string[] = [];
  if (state.cancelRequests.length > 0) problems.push(`cancel requests: ${JSON.stringify(state.cancelRequests)}`);
  if (state.concurrentSubmissionsRefused > 0) problems.push(`${state.concurrentSubmissionsRefused} submission(s) of a second job while one was active`);
  const gaps = state.jobs.filter((j) => j.restoredFromLatestStop === false);
  if (gaps.length > 0) problems.push(`jobs not restored from the latest stop savepoint: ${JSON.stringify(gaps)}`);
  const a = state.accounting;
  if (Math.abs(a.lost) > 1e-6 * Math.max(1, a.arrivals)) problems.push(`records lost: ${JSON.stringify(a)}`);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return { state, job, lost: Math.round(Math.abs(a.lost)) };
}

export interface DriverRun {
  /** The steps the driver printed, in order. */
  steps: string[];
  paused: string | undefined;
  result: RescaleResult | null | undefined;
  journal: RescaleRecord | null | undefined;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Runs the driver; when it pauses at `config.pauseAfter`, SIGKILLs it. Bounded by `timeoutMs`. */
export async function runDriver(config: DriverConfig, timeoutMs = 20_000): Promise<DriverRun> {
  const child = spawn(process.execPath, [DRIVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: DriverRun = { steps: [], paused: undefined, result: undefined, journal: undefined, signal: null, code: null, stderr: '' };
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as { step?: string; paused?: string; result?: RescaleResult | null; journal?: RescaleRecord | null };
      if (msg.step) run.steps.push(msg.step);
      if (msg.paused) {
        run.paused = msg.paused;
        child.kill('SIGKILL');
      }
      if ('result' in msg) {
        run.result = msg.result;
        run.journal = msg.journal;
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => { run.stderr = (run.stderr + chunk.toString()).slice(-20_000); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise<void>((resolve) => child.once('exit', (code, signal) => { run.code = code; run.signal = signal; resolve(); }));
  clearTimeout(timer);
  return run;
}

/**
 * The process that takes over after a kill: rescale-driver.ts --serve, one for all scenarios,
 * each run by a new actuator on the journal alone (see there). Answers like runDriver's run to
 * the end: code 0, or 2 with the error as stderr.
 */
export class DriverHost {
  private readonly host = new IpcChild<DriverConfig, DriverOutcome>(DRIVER, ['--serve']);

  async run(config: DriverConfig, timeoutMs = 20_000): Promise<DriverRun> {
    const run: DriverRun = { steps: [], paused: undefined, result: undefined, journal: undefined, signal: null, code: null, stderr: '' };
    try {
      const { steps, result, journal, log } = await this.host.request(config, timeoutMs);
      return { ...run, steps, result, journal, code: 0, stderr: log };
    } catch (err) {
      return { ...run, code: 2, stderr: err instanceof Error ? err.message : String(err) };
    }
  }

  close(): Promise<void> {
    return this.host.close();
  }
}

const FULL_PATH = 'requested → savepoint-triggered → savepoint-completed → job-stopped → resubmitting → resubmitted → done';

/** "requested → savepoint-triggered → …": the phases a journal entry went through (the usual seven to done, shortened). */
export function trail(record: RescaleRecord | null | undefined): string {
  if (!record) return 'no journal entry';
  const path = record.steps.map((s) => s.phase).join(' → ');
  return path === FULL_PATH ? 'requested → … → done, 7 phases' : path;
}
