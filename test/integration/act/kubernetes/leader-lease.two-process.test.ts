/**
 * One actor, with real processes: two `phoebe run` sidecars (flink-deployment mode, leader
 * election on one Lease) against one live twin (`phoebe twin`, a child process on 127.0.0.1) that
 * a real Prometheus scrapes. The job starts far under-provisioned, so both want to scale it up.
 *
 * 1. The test holds the Lease itself at first: both sidecars decide, want to rescale, and are
 *    held (not-leader) — neither acts.
 * 2. It releases the Lease: exactly one sidecar takes it and rescales; the other never does
 *    (its rescale counters, its log, the twin's Events and the FlinkDeployment's history agree).
 * 3. The leader is killed with SIGKILL (no release): the follower takes over only once the Lease
 *    has gone unrenewed for its duration, and then rescales (a forced rescale through the admin
 *    API, held with 409 not-leader before the takeover).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../../../src/act/kubernetes/client.js';
import { LeaderLease, leaseApi } from '../../../../src/act/kubernetes/leader-lease.js';
import { silentLogger } from '../../../../src/act/logger.js';
import { freePort, startPrometheus, type PrometheusHarness } from '../../../support/prometheus-harness.js';
import { BIN, ensureBuilt } from '../../../support/built-cli.js';

const NS = 'flink';
const JOB = 'lease-job';
const LEASE = 'phoebe-lease-job';
// Short, so that the takeover after the SIGKILL comes soon; the bounds it is checked against are in
// these units. A renewal may still fail twice in a row before the leader stops acting.
const LEASE_SECONDS = 3;
const RENEW_SECONDS = 0.75;
/**
 * The sidecars' rate window: they decide once their history spans twice this (controller-settings.ts),
 * counted from Prometheus's first scrape; short, so that the first decisions come soon.
 */
const RATE_WINDOW = '2s';
/** A sidecar's control loop goes round once a second, so that "a few rounds" take a few seconds. */
const DECISION_SECONDS = 1;
/** Rounds of the follower's loop after the leader's rescale, before the leader is killed (6 s at the former 2 s interval). */
const FOLLOWER_ROUNDS = 3;
/** What a round of the control loop logs: exactly one of these (control-loop.ts). */
const ROUND_EVENTS = ['decision', 'waiting', 'hold', 'source-error', 'error'];
const TOKEN = 'two-process-admin-token-0123456789';
const INITIAL_P = 2;

interface Sidecar { name: string; port: number; child: ChildProcess; log: () => string; killedAt?: number }

const dir = mkdtempSync(join(tmpdir(), 'phoebe-lease-'));
const children: ChildProcess[] = [];
let prometheus: PrometheusHarness | undefined;
let twinUrl = '';
let phantom: LeaderLease | undefined;
const sidecars: Sidecar[] = [];

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const keep = (chunk: Buffer): void => { out = (out + chunk.toString()).slice(-400_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  children.push(child);
  return { child, log: () => out };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, diagnose: () => string = () => ''): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch { /* not yet */ }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${diagnose()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function metric(sidecar: Sidecar, name: string): Promise<number | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${sidecar.port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

function loopEvents(sidecar: Sidecar, ...events: string[]): Record<string, unknown>[] {
  return sidecar.log().split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } })
    .filter((e) => events.includes(e.event as string));
}

const rounds = (sidecar: Sidecar): number => loopEvents(sidecar, ...ROUND_EVENTS).length;

interface KubeEvent { reason: string; reportingInstance?: string; source?: { host?: string }; firstTimestamp?: string; message: string }
async function rescaleEvents(): Promise<KubeEvent[]> {
  const list = (await (await fetch(`${twinUrl}/api/v1/namespaces/${NS}/events`)).json()) as { items: KubeEvent[] };
  return list.items.filter((e) => e.reason === 'Rescaled' || e.reason === 'RescaleFailed');
}

async function lease(): Promise<{ holderIdentity?: string; leaseTransitions?: number }> {
  const body = (await (await fetch(`${twinUrl}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${LEASE}`)).json()) as { spec: { holderIdentity?: string; leaseTransitions?: number } };
  return body.spec;
}

function force(sidecar: Sidecar, parallelism: number): Promise<Response> {
  return fetch(`http://127.0.0.1:${sidecar.port}/api/v1/admin/force-parallelism`, {
    method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ parallelism }),
    signal: AbortSignal.timeout(5000),
  });
}

const logs = (): string => sidecars.map((s) => `--- ${s.name} ---\n${s.log().split('\n').slice(-40).join('\n')}`).join('\n');

beforeAll(async () => {
  ensureBuilt();
  const lines = ['timestamp|value'];
  for (let s = 0; s < 900; s++) lines.push(`${1_700_000_000 + s}|6000`);
  writeFileSync(join(dir, 'trace.csv'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'scenario.yaml'), [
    `name: ${JOB}`, 'trace: { file: trace.csv }',
    'twin:', '  capacity: { model: linear, intercept: 0, perSlot: 1000 }', '  noise: { capacity: 0.02 }',
    '  checkpointIntervalSeconds: 2', '  restartDowntimeSeconds: 5', '  rescaleDowntimeSeconds: 1', '  baseLatencySeconds: 0.2',
    '  minParallelism: 1', '  maxParallelism: 16', `  initialParallelism: ${INITIAL_P}`,
    'slo: { recoveryTimeSeconds: 30, latencySeconds: 1.0 }', '',
  ].join('\n'));
  const [twinPort, portA, portB] = await Promise.all([freePort(), freePort(), freePort()]) as [number, number, number];
  const twin = start(['twin', '--scenario', 'scenario.yaml', '--listen', `127.0.0.1:${twinPort}`], {});
  twinUrl = `http://127.0.0.1:${twinPort}`;
  // Prometheus starts with the twin: its first scrape comes ~5 s after its start (a scrape before
  // the twin listens just fails), and the sidecars' warm-up counts from that scrape.
  const [twinUp, prometheusUp] = await Promise.allSettled([
    waitFor('the twin', async () => ((await fetch(`${twinUrl}/jobs/overview`)).ok ? true : undefined), 20_000, twin.log),
    startPrometheus({ targets: [`127.0.0.1:${twinPort}`], scrapeIntervalSeconds: 1 }),
  ]);
  if (prometheusUp.status === 'fulfilled') prometheus = prometheusUp.value;
  for (const up of [twinUp, prometheusUp]) if (up.status === 'rejected') throw up.reason;
  if (!prometheus) throw new Error('no Prometheus');

  // The test holds the Lease first, so that both sidecars start as followers.
  phantom = new LeaderLease({
    api: leaseApi(createKubeClients({ kind: 'server', server: twinUrl }).kubeConfig), namespace: NS, name: LEASE, identity: 'the-test',
    leaseDurationSeconds: LEASE_SECONDS, renewEverySeconds: RENEW_SECONDS, logger: silentLogger,
  });
  await phantom.start();
  expect(phantom.isLeader()).toBe(true);

  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: twin',
    `clusters: [{ name: twin, cluster: { server: "${twinUrl}", insecure-skip-tls-verify: true } }]`,
    'users: [{ name: nobody, user: {} }]', 'contexts: [{ name: twin, context: { cluster: twin, user: nobody } }]', '',
  ].join('\n'));
  for (const [name, port] of [['phoebe-a', portA], ['phoebe-b', portB]] as const) {
    writeFileSync(join(dir, `${name}.yaml`), [
      `prometheus: { url: "${prometheus.url}", timeoutSeconds: 5 }`,
      'job:', `  name: ${JOB}`, '  checkpointIntervalSeconds: 2', `  flinkDeployment: { namespace: ${NS}, name: ${JOB} }`,
      'slo: { latencySeconds: 1.0, recoveryTimeSeconds: 30 }', 'parallelism: { min: 1, max: 16 }', `decision: { intervalSeconds: ${DECISION_SECONDS} }`,
      'priors: { restartSeconds: 10, rescaleSeconds: 3 }',
      `actuation: { mode: flink-deployment, flinkDeployment: { timeoutSeconds: 60 }, kubernetes: { kubeconfig: ${kubeconfig} }, limits: { minSecondsBetweenRescales: 0 } }`,
      `queries: { rateWindow: ${RATE_WINDOW} }`, 'history: { backfillSeconds: 600, stepSeconds: 1 }', `exporter: { listen: "127.0.0.1:${port}" }`,
      `leaderElection: { enabled: true, leaseName: ${LEASE}, namespace: ${NS}, leaseDurationSeconds: ${LEASE_SECONDS}, renewEverySeconds: ${RENEW_SECONDS} }`,
      'admin: { enabled: true }', '',
    ].join('\n'));
    // PHOEBE_POD_NAME: the holder identity; HOSTNAME: the Events' reportingInstance.
    const p = start(['run', '--config', `${name}.yaml`], { PHOEBE_POD_NAME: name, HOSTNAME: name, PHOEBE_ADMIN_TOKEN: TOKEN });
    sidecars.push({ name, port, child: p.child, log: p.log });
  }
}, 90_000);

afterAll(async () => {
  await phantom?.stop();
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  for (const child of running) child.kill('SIGTERM');
  await prometheus?.stop();
  // SIGTERM ends them within moments; SIGKILL whatever is still there after 3 s.
  const killer = setTimeout(() => { for (const child of running) child.kill('SIGKILL'); }, 3_000);
  await exited;
  clearTimeout(killer);
  rmSync(dir, { recursive: true, force: true });
});

describe('two phoebe processes, one Lease', () => {
  it('only the leader ever rescales; after a SIGKILL the follower takes over once the Lease expires', async () => {
    const [a, b] = sidecars as [Sidecar, Sidecar];
    // 1. Both decide and want to scale up, and both are held: the Lease is the test's.
    for (const s of sidecars) {
      await waitFor(`${s.name} wanting to rescale`, async () => ((await metric(s, 'phoebe_actuation_blocked_total{reason="not-leader"}')) ?? 0) >= 1 ? true : undefined, 150_000, logs);
      expect(await metric(s, 'phoebe_leader')).toBe(0);
      const held = loopEvents(s, 'blocked');
      expect(held[0], s.name).toMatchObject({ reason: 'not-leader', source: 'decision' });
      expect(held[0]?.to as number).toBeGreaterThan(INITIAL_P);
      expect(await metric(s, 'phoebe_rescales_total{result="completed"}')).toBe(0);
      expect((await force(s, 6)).status).toBe(409);
    }
    expect(await rescaleEvents()).toEqual([]);

    // 2. The Lease is released: exactly one takes it and rescales.
    await phantom!.stop({ release: true });
    const leader = await waitFor('a leader that rescaled', async () => {
      for (const s of sidecars) if (((await metric(s, 'phoebe_rescales_total{result="completed"}')) ?? 0) >= 1) return s;
      return undefined;
    }, 60_000, logs);
    const follower = leader === a ? b : a;
    expect(await metric(leader, 'phoebe_leader')).toBe(1);
    expect(await metric(follower, 'phoebe_leader')).toBe(0);
    expect((await lease()).holderIdentity).toBe(leader.name);
    // Let both run a few more rounds while the leader leads (the follower's, counted in its log).
    const roundsBefore = rounds(follower);
    await waitFor(`${FOLLOWER_ROUNDS} more rounds of the follower's loop`, async () => (rounds(follower) >= roundsBefore + FOLLOWER_ROUNDS ? true : undefined), 30_000, logs);
    expect(await metric(follower, 'phoebe_leader')).toBe(0);
    for (const result of ['completed', 'failed', 'skipped']) expect(await metric(follower, `phoebe_rescales_total{result="${result}"}`), result).toBe(0);
    expect(loopEvents(follower, 'rescale')).toEqual([]);
    const beforeKill = await rescaleEvents();
    expect(beforeKill.length).toBeGreaterThanOrEqual(1);
    for (const e of beforeKill) expect(e.reportingInstance, e.message).toBe(leader.name);
    const forced = await force(follower, 12);
    expect(forced.status).toBe(409);
    expect(await forced.json()).toMatchObject({ reason: 'not-leader' });

    // 3. SIGKILL: no release. The follower must wait for the Lease to expire on its clock.
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    leader.killedAt = killedAt;
    await waitFor('the follower to lead', async () => ((await metric(follower, 'phoebe_leader')) === 1 ? true : undefined), 30_000, logs);
    const takeoverSeconds = (Date.now() - killedAt) / 1000;
    // Not before the leader's last renewal is leaseDuration old (the kill came ≤ renewEvery after it).
    expect(takeoverSeconds).toBeGreaterThanOrEqual(LEASE_SECONDS - RENEW_SECONDS - 0.5);
    expect(takeoverSeconds).toBeLessThanOrEqual(LEASE_SECONDS + 3 * RENEW_SECONDS + 3);
    const taken = await lease();
    expect(taken.holderIdentity).toBe(follower.name);
    expect(taken.leaseTransitions).toBeGreaterThanOrEqual(2);

    // The new leader acts: a forced rescale (retried while its own rescale, if any, is in progress).
    const currentBefore = (await rescaleEvents()).length;
    await waitFor('a forced rescale to start', async () => ((await force(follower, 12)).status === 202 ? true : undefined), 60_000, logs);
    await waitFor('the new leader\'s rescale', async () => ((await metric(follower, 'phoebe_rescales_total{result="completed"}')) ?? 0) >= 1 ? true : undefined, 60_000, logs);
    const after = (await rescaleEvents()).slice(currentBefore);
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const e of after) expect(e.reportingInstance, e.message).toBe(follower.name);
    // Over the whole run: every Event is the first leader's before the kill and the follower's after.
    for (const e of await rescaleEvents()) {
      const at = Date.parse(e.firstTimestamp ?? '');
      expect(e.reportingInstance, e.message).toBe(at < killedAt ? leader.name : follower.name);
    }
    const spec = (await (await fetch(`${twinUrl}/apis/flink.apache.org/v1beta1/namespaces/${NS}/flinkdeployments/${JOB}`)).json()) as { spec: { job: { parallelism: number } } };
    expect(spec.spec.job.parallelism).toBe(12);
    expect(loopEvents(follower, 'rescale').some((e) => e.source === 'force' && e.to === 12 && e.outcome === 'completed')).toBe(true);
  }, 300_000);
});
