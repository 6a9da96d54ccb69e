import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../prometheus-harness.js';
import { repoRoot } from './maven.js';
import { startProcess, type ManagedProcess } from './processes.js';

/**
 * `phoebe run` as a user starts it — the built CLI (npm run build), a YAML configuration — as a
 * child of the real-cluster test, ended by the harness like every other process. Its log is
 * pino's JSON lines; its status is GET /api/v1/status.
 */

export const PHOEBE_CLI = join(repoRoot, 'dist', 'src', 'cli', 'bin.js');

export interface PhoebeLogLine {
  /** Unix ms. */
  time: number;
  event?: string;
  [key: string]: unknown;
}

export interface PhoebeProcess {
  readonly name: string;
  readonly url: string;
  readonly process: ManagedProcess;
  /** Every JSON log line so far. */
  log(): PhoebeLogLine[];
  /** The lines of one event ('decision', 'rescale', 'hold', 'resume', …). */
  events(event: string): PhoebeLogLine[];
  status(): Promise<PhoebeStatus>;
  /** POST /api/v1/admin/force-parallelism: an operator's rescale through phoebe's gate and actuator. */
  force(parallelism: number): Promise<{ status: number; body: unknown }>;
  /** Waits (bounded) until a rescale line matches; the error says what phoebe decided instead. */
  awaitRescale(match: (line: PhoebeLogLine, index: number) => boolean, timeoutMs: number): Promise<PhoebeLogLine>;
  /** POST /api/v1/admin/<action> (pause, resume, reset-circuit-breaker). */
  admin(action: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** The admin token every test phoebe gets (PHOEBE_ADMIN_TOKEN); its admin API is on only where the config enables it. */
export const ADMIN_TOKEN = 'real-cluster-test-admin-token';

export interface PhoebeStatus {
  mode: string;
  readiness: unknown;
  dataQuality: { ok: boolean; reasons?: string[] };
  lastDecision: null | { time: number; decision: { action: string; currentParallelism: number; recommendedParallelism: number; reason: string; inputs: { arrivalRate: number; lag: number } } };
}

async function admin(url: string, action: string, body: object): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/api/v1/admin/${action}`, {
    method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Writes `config` (YAML text, without `exporter`) to <dir>/<name>.yaml, adds a free exporter
 * port, starts `phoebe run` and waits until /healthz answers.
 */
export async function startPhoebe(dir: string, name: string, config: string, timeoutMs = 30_000): Promise<PhoebeProcess> {
  const port = await freePort();
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `${config.trimEnd()}\nexporter: { listen: "127.0.0.1:${port}" }\n`);
  const logFile = join(dir, `${name}.log`);
  const proc = startProcess({
    name,
    command: process.execPath,
    args: [PHOEBE_CLI, 'run', '--config', file],
    logFile,
    // The rescale journal (default <tmpdir>/phoebe) stays inside the run's directory.
    env: { ...process.env, TMPDIR: dir, PHOEBE_ADMIN_TOKEN: ADMIN_TOKEN },
    lifetimeSeconds: 3600,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw new Error(`${name} exited:\n${proc.tail()}`);
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await proc.stop(5000);
      throw new Error(`${name} did not answer /healthz within ${timeoutMs} ms:\n${proc.tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const log = (): PhoebeLogLine[] => {
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      return [];
    }
    const lines: PhoebeLogLine[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as PhoebeLogLine);
      } catch { /* a line being written */ }
    }
    return lines;
  };
  const events = (event: string): PhoebeLogLine[] => log().filter((l) => l.event === event);
  const awaitRescale = async (match: (line: PhoebeLogLine, index: number) => boolean, waitMs: number): Promise<PhoebeLogLine> => {
    const until = Date.now() + waitMs;
    for (;;) {
      const found = events('rescale').find(match);
      if (found) return found;
      if (Date.now() > until) {
        const decisions = events('decision').slice(-6).map((d) => `${d.action} ${d.current}→${d.recommended}: ${d.reason}${d.heldBy ? ` (held: ${d.heldBy})` : ''}`);
        throw new Error(`${name}: no matching rescale within ${waitMs} ms; rescales ${JSON.stringify(events('rescale'))}; last decisions:\n${decisions.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  return {
    name, url, process: proc, log, events, awaitRescale,
    status: async () => (await (await fetch(`${url}/api/v1/status`, { signal: AbortSignal.timeout(5000) })).json()) as PhoebeStatus,
    force: (parallelism) => admin(url, 'force-parallelism', { parallelism }),
    admin: (action) => admin(url, action, {}),
    stop: async () => { await proc.stop(30_000); },
  };
}
