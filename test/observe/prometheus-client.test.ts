import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPrometheusClient, scrub } from '../../src/observe/prometheus-client.js';
import { caught, FakeServers, json, MATRIX, PASSWORD, TOKEN } from '../support/fake-prometheus.js';

const tmp = mkdtempSync(join(tmpdir(), 'phoebe-promclient-'));
const fakes = new FakeServers();
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => fakes.closeAll());

describe('Prometheus client', () => {
  it('runs range queries under a path prefix and returns times in seconds', async () => {
    const seen: string[] = [];
    const port = await fakes.serve((req, res) => { seen.push(req.url ?? ''); json(res, 200, MATRIX); });
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}/prom/`, timeoutSeconds: 5 });
    const series = await client.rangeQuery('up', 1000, 1002, 1);
    expect(series).toEqual([{ values: [{ time: 1000, value: 1.5 }, { time: 1001, value: Number.NaN }, { time: 1002, value: 2 }] }]);
    const url = new URL(seen[0] ?? '', 'http://x');
    expect(url.pathname).toBe('/prom/api/v1/query_range');
    expect(url.searchParams.get('query')).toBe('up');
    expect(url.searchParams.get('start')).toBe('1000');
    expect(url.searchParams.get('step')).toBe('1');
  });

  it('sends a bearer token read from its file on every request', async () => {
    const auth: string[] = [];
    const port = await fakes.serve((req, res) => { auth.push(req.headers.authorization ?? ''); json(res, 200, MATRIX); });
    const file = join(tmp, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 5, bearerTokenFile: file });
    await client.rangeQuery('up', 1000, 1002, 1);
    writeFileSync(file, `${TOKEN}-rotated`);
    await client.rangeQuery('up', 1000, 1002, 1);
    expect(auth).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}-rotated`]);
  });

  it('sends basic auth, the password from a file', async () => {
    const auth: string[] = [];
    const port = await fakes.serve((req, res) => { auth.push(req.headers.authorization ?? ''); json(res, 200, MATRIX); });
    const file = join(tmp, 'password');
    writeFileSync(file, PASSWORD);
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 5, basicAuth: { username: 'phoebe', passwordFile: file } });
    await client.rangeQuery('up', 1000, 1002, 1);
    expect(auth).toEqual([`Basic ${Buffer.from(`phoebe:${PASSWORD}`).toString('base64')}`]);
  });

  it('types a refused credential, a rejected query and an odd answer, without the secret', async () => {
    const port = await fakes.serve((req, res) => {
      const query = new URL(req.url ?? '', 'http://x').searchParams.get('query');
      if (query === 'deny') return json(res, 401, { status: 'error', errorType: 'unauthorized', error: `bad token ${TOKEN}` });
      if (query === 'bad') return json(res, 400, { status: 'error', errorType: 'bad_data', error: `parse error near ${TOKEN}` });
      if (query === 'boom') return json(res, 503, { status: 'error', errorType: 'unavailable', error: 'overloaded' });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    });
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 5, bearerToken: TOKEN });
    const denied = await caught(client.rangeQuery('deny', 1000, 1002, 1));
    expect(denied.kind).toBe('credentials');
    expect(denied.httpStatus).toBe(401);
    const bad = await caught(client.rangeQuery('bad', 1000, 1002, 1));
    expect(bad.kind).toBe('query');
    expect(bad.message).toContain('parse error near <redacted>');
    const boom = await caught(client.rangeQuery('boom', 1000, 1002, 1));
    expect(boom.kind).toBe('http');
    expect(boom.message).toContain('HTTP 503: overloaded');
    expect((await caught(client.rangeQuery('html', 1000, 1002, 1))).kind).toBe('response');
  });

  it('gives up on a silent Prometheus within its timeout', async () => {
    const port = await fakes.serve(() => { /* never answers */ });
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 0.3, bearerToken: TOKEN });
    const started = Date.now();
    const err = await caught(client.rangeQuery('up', 1000, 1002, 1));
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe(`Prometheus at http://127.0.0.1:${port} did not answer within 0.3 s`);
    // A real timeout runs on the wall clock; ten times the 0.3 s leaves room for a loaded machine
    // while still telling a client that waits for the silent server forever.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports an unreachable Prometheus and an unreadable token file', async () => {
    const port = await fakes.serve(() => undefined);
    await fakes.closeLast();
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 2, basicAuth: { username: 'u', password: PASSWORD } });
    const err = await caught(client.rangeQuery('up', 1000, 1002, 1));
    expect(err.kind).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
    const noFile = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 2, bearerTokenFile: join(tmp, 'missing') });
    const e2 = await caught(noFile.rangeQuery('up', 1000, 1002, 1));
    expect(e2.kind).toBe('credentials');
    expect(e2.message).toBe(`cannot read the bearer token file ${join(tmp, 'missing')}: ENOENT`);
  });

  it('answers instant queries (vector and scalar)', async () => {
    const port = await fakes.serve((req, res) => {
      const query = new URL(req.url ?? '', 'http://x').searchParams.get('query');
      if (query === 'scalar(1)') return json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1000, '1'] } });
      json(res, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: { a: 'b' }, value: [1000.5, '3'] }] } });
    });
    const client = createPrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutSeconds: 5 });
    expect(await client.instantQuery('up', 1000.5)).toEqual([{ time: 1000.5, value: 3 }]);
    expect(await client.instantQuery('scalar(1)')).toEqual([{ time: 1000, value: 1 }]);
  });

  it('scrubs every secret from a text', () => {
    expect(scrub(`a ${TOKEN} b ${TOKEN}`, [TOKEN])).toBe('a <redacted> b <redacted>');
  });
});
