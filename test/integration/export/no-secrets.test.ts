/**
 * No secret leaves phoebe: a real `phoebe run` process with a Prometheus bearer token or basic-auth
 * password, an admin token and a kubeconfig with a user token, against a server that refuses
 * everything (Prometheus 503, Kubernetes 401) so every error path logs. Its whole pino output,
 * /metrics, /api/v1/status, /healthz, /readyz and every admin answer (refused or not) are searched
 * for each secret, raw and base64-encoded. The server checks that the secrets were really sent.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/prometheus-harness.js';
import { BIN, ensureBuilt } from '../../support/built-cli.js';

const PROM_BEARER = 'promBearer-S3CRET-7f3a9c1e5b';
const PROM_USER = 'phoebe-reader';
const PROM_PASSWORD = 'promPass-S3CRET-2d8e4a6c0f';
const ADMIN_TOKEN = 'adminTok-S3CRET-9b1d3f5a7c';
const KUBE_TOKEN = 'kubeTok-S3CRET-4c6e8a0b2d';

const dir = mkdtempSync(join(tmpdir(), 'phoebe-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every form a secret could leak in. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
}

async function refusingServer(): Promise<{ server: Server; url: string; seen: { path: string; authorization: string }[] }> {
  const seen: { path: string; authorization: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization ?? '' });
    req.resume();
    if (req.url?.startsWith('/api/v1/')) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('service unavailable\n');
    } else if (req.url?.startsWith('/apis/') || req.url?.startsWith('/api/')) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, diagnose: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${diagnose()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('no secret in logs, /metrics or /api/v1/status', () => {
  it.each(['bearer', 'basic'] as const)('Prometheus %s auth, admin token, kubeconfig token', async (auth) => {
    ensureBuilt();
    const fake = await refusingServer();
    const port = await freePort();
    const kubeconfig = join(dir, `kubeconfig-${auth}`);
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      `clusters: [{ name: k, cluster: { server: "${fake.url}", insecure-skip-tls-verify: true } }]`,
      `users: [{ name: u, user: { token: "${KUBE_TOKEN}" } }]`, 'contexts: [{ name: c, context: { cluster: k, user: u } }]', '',
    ].join('\n'));
    const config = join(dir, `phoebe-${auth}.yaml`);
    writeFileSync(config, [
      `prometheus: { url: "${fake.url}", timeoutSeconds: 2${auth === 'basic' ? `, basicAuth: { username: ${PROM_USER} }` : ''} }`,
      'job: { name: secret-job, checkpointIntervalSeconds: 10, flinkDeployment: { namespace: flink, name: secret-job } }',
      'slo: { latencySeconds: 1, recoveryTimeSeconds: 60 }', 'parallelism: { max: 8 }', 'decision: { intervalSeconds: 1 }',
      `actuation: { mode: flink-deployment, kubernetes: { kubeconfig: ${kubeconfig} } }`,
      'history: { backfillSeconds: 300 }', `exporter: { listen: "127.0.0.1:${port}" }`,
      'leaderElection: { enabled: true, leaseName: phoebe, namespace: flink, leaseDurationSeconds: 2, renewEverySeconds: 1 }',
      'admin: { enabled: true }', '',
    ].join('\n'));
    const env: NodeJS.ProcessEnv = { ...process.env, PHOEBE_ADMIN_TOKEN: ADMIN_TOKEN };
    if (auth === 'bearer') env.PHOEBE_PROMETHEUS_BEARER_TOKEN = PROM_BEARER;
    else env.PHOEBE_PROMETHEUS_PASSWORD = PROM_PASSWORD;
    const child = spawn(process.execPath, [BIN, 'run', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    const answers: string[] = [];
    try {
      const promAuth = auth === 'bearer' ? `Bearer ${PROM_BEARER}` : `Basic ${Buffer.from(`${PROM_USER}:${PROM_PASSWORD}`).toString('base64')}`;
      // The secrets were really used: several refused Prometheus reads and Lease reads.
      await waitUntil('refused requests with each credential', () =>
        fake.seen.filter((s) => s.path.startsWith('/api/v1/') && s.authorization === promAuth).length >= 3
        && fake.seen.filter((s) => s.path.includes('/leases/') && s.authorization === `Bearer ${KUBE_TOKEN}`).length >= 3, 30_000, () => output);
      const base = `http://127.0.0.1:${port}`;
      const bodies: Record<string, string> = {};
      for (const path of ['/metrics', '/api/v1/status', '/healthz', '/readyz', '/nope']) {
        const res = await fetch(`${base}${path}`);
        bodies[path] = await res.text();
        answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${bodies[path]}`);
      }
      const admin = async (path: string, authorization: string | undefined, body?: unknown): Promise<number> => {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        if (authorization !== undefined) headers.Authorization = authorization;
        const res = await fetch(`${base}/api/v1/admin/${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
        answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
        return res.status;
      };
      expect(await admin('pause', undefined)).toBe(401);
      // A wrong token that contains the right one: neither may be echoed or logged.
      expect(await admin('pause', `Bearer ${ADMIN_TOKEN}x`)).toBe(403);
      expect(await admin('pause', `Bearer ${PROM_BEARER}`)).toBe(403);
      expect(await admin('pause', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`)).toBe(401);
      expect(await admin('pause', `Bearer ${ADMIN_TOKEN}`)).toBe(200);
      expect(await admin('force-parallelism', `Bearer ${ADMIN_TOKEN}`, { parallelism: 4 })).toBe(409);
      expect(await admin('force-parallelism', `Bearer ${ADMIN_TOKEN}`, { parallelism: 99 })).toBe(400);
      expect(await admin('reset-circuit-breaker', `Bearer ${ADMIN_TOKEN}`)).toBe(200);
      expect(await admin('resume', `Bearer ${ADMIN_TOKEN}`)).toBe(200);
      const status = JSON.parse(bodies['/api/v1/status'] ?? '{}') as { actuation: { leader: boolean; leaderElection: { lastError: string | null } } };
      expect(status.actuation.leader).toBe(false);
      expect(status.actuation.leaderElection.lastError).toContain('401');
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      fake.server.closeAllConnections();
      fake.server.close();
    }
    // The logs are pino JSON lines and cover the error paths, so the search below means something.
    const lines = output.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(output).toContain('phoebe started');
    expect(output).toContain('leader election: read of the lease failed');
    expect(output).toContain('"outcome":"forbidden"');
    expect(output).toMatch(/"event":"(source-error|hold)"/);
    const everything = `${output}\n${answers.join('\n')}`;
    const secrets = [PROM_BEARER, PROM_PASSWORD, ADMIN_TOKEN, KUBE_TOKEN, `${PROM_USER}:${PROM_PASSWORD}`];
    for (const secret of secrets) {
      for (const form of forms(secret)) expect(everything.includes(form), `${secret} (as ${form}) leaked`).toBe(false);
    }
    // Nor their distinctive middle part, in case something was cut or re-encoded around it.
    expect(everything).not.toContain('S3CRET');
  }, 60_000);
});
