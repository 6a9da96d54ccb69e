import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusClient } from '../../../src/observe/prometheus-client.js';
import { caught, FakeServers, json, MATRIX } from '../../support/fake-prometheus.js';

// Integration: openssl (a child process) makes the self-signed certificate of the fake server.
const tmp = mkdtempSync(join(tmpdir(), 'phoebe-promclient-tls-'));
const fakes = new FakeServers();
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => fakes.closeAll());

describe('Prometheus client over TLS', () => {
  let cert: string | undefined;
  let key: string | undefined;
  beforeAll(() => {
    const dir = join(tmp, 'tls');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', `${dir}-key.pem`, '-out', `${dir}-cert.pem`], { encoding: 'utf8', timeout: 30_000 });
    if (made.status === 0) {
      cert = readFileSync(`${dir}-cert.pem`, 'utf8');
      key = readFileSync(`${dir}-key.pem`, 'utf8');
    }
  });

  it('trusts a given CA, refuses an unknown one, and skips verification only when told', async (ctx) => {
    if (!cert || !key) ctx.skip();
    const port = await fakes.serve((_req, res) => json(res, 200, MATRIX), createHttpsServer({ cert, key }));
    const url = `https://127.0.0.1:${port}`;
    const refused = await caught(createPrometheusClient({ url, timeoutSeconds: 5 }).rangeQuery('up', 1000, 1002, 1));
    expect(refused.kind).toBe('tls');
    const caFile = join(tmp, 'tls-cert.pem');
    expect(await createPrometheusClient({ url, timeoutSeconds: 5, tls: { caFile } }).rangeQuery('up', 1000, 1002, 1)).toHaveLength(1);
    expect(await createPrometheusClient({ url, timeoutSeconds: 5, tls: { insecureSkipVerify: true } }).rangeQuery('up', 1000, 1002, 1)).toHaveLength(1);
  });
});
