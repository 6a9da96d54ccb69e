/**
 * The admin API over HTTP: off by default (404), bearer token required (401 / 403), constant-time
 * comparison, bounded JSON bodies, and each action reaching the controller. The last test drives
 * a real ControlLoop through the endpoints: force goes through the normal actuation path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parsePhoebeConfig } from '../../src/config/phoebe-config.js';
import { Secret } from '../../src/util/secret.js';
import { adminRouter, readAdminToken, tokensEqual, type AdminController, type AdminEvent } from '../../src/export/admin.js';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import { createApp, startServer, type ServerState } from '../../src/export/server.js';
import { ControlLoop } from '../../src/loop/control-loop.js';
import type { DecisionPipeline } from '../../src/loop/decision-pipeline.js';
import { testSettings } from '../support/controller-settings.js';
import { FakeActuator } from '../support/fake-actuator.js';
import { settle } from '../support/fake-clock.js';

const TOKEN = 'adm1n-T0ken-0123456789abcdef';
const slo = { latencySeconds: 1, latencyObjective: 0.98, recoveryTimeSeconds: 180 };
const state: ServerState = { live: () => true, readiness: () => ({ ready: true, reason: 'ready' }), status: () => ({ mode: 'flink-rest' }) };

let close: (() => Promise<void>) | undefined;
afterEach(async () => { await close?.(); close = undefined; });
const dir = mkdtempSync(join(tmpdir(), 'phoebe-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeController() {
  const calls: string[] = [];
  let paused = false;
  const controller: AdminController = {
    pause: () => { calls.push('pause'); const changed = !paused; paused = true; return changed; },
    resume: () => { calls.push('resume'); const changed = paused; paused = false; return changed; },
    resetCircuitBreaker: () => { calls.push('reset'); return true; },
    force: (p) => { calls.push(`force ${p}`); return p === 13 ? { accepted: false, reason: 'min-interval', detail: 'last rescale ended 5 s ago (minimum 60 s)' } : { accepted: true }; },
  };
  return { controller, calls };
}

async function serve(admin?: ReturnType<typeof adminRouter>, registry = new PhoebeMetrics({ defaultMetrics: false, slo, minParallelism: 1, maxParallelism: 12 }).registry): Promise<string> {
  const started = await startServer(createApp(registry, state, admin ? { admin } : {}), '127.0.0.1:0');
  close = started.close;
  return `http://127.0.0.1:${started.port}`;
}

function post(url: string, options: { token?: string; authorization?: string; body?: string; contentType?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.Authorization = options.authorization;
  else if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
  return fetch(url, { method: 'POST', headers, ...(options.body !== undefined ? { body: options.body } : {}) });
}

describe('admin API', () => {
  it('does not exist unless enabled: every admin path is 404, and the config default is off on 127.0.0.1', async () => {
    const base = await serve();
    for (const path of ['pause', 'resume', 'force-parallelism', 'reset-circuit-breaker']) {
      expect((await post(`${base}/api/v1/admin/${path}`, { token: TOKEN })).status).toBe(404);
    }
    const config = parsePhoebeConfig('prometheus: { url: "http://p:9090" }\njob: { name: j, checkpointIntervalSeconds: 10 }\nslo: { latencySeconds: 1, recoveryTimeSeconds: 60 }\nparallelism: { max: 4 }\n', 'c.yaml', {}, { checkFiles: false });
    expect(config.admin).toEqual({ enabled: false });
    expect(config.leaderElection.enabled).toBe(false);
    expect(config.exporter).toMatchObject({ host: '127.0.0.1', port: 9464 });
  });

  it('answers 401 without a bearer token and 403 with a wrong one, before touching the body', async () => {
    const { controller, calls } = fakeController();
    const events: AdminEvent[] = [];
    const base = await serve(adminRouter({ token: new Secret(TOKEN), controller, bounds: { min: 1, max: 12 }, log: (e) => events.push(e) }));
    const url = `${base}/api/v1/admin/pause`;
    const none = await post(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="phoebe-admin"');
    for (const authorization of ['', `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, 'Bearer', `Bearer ${TOKEN} extra`, TOKEN]) {
      expect((await post(url, { authorization })).status, authorization).toBe(401);
    }
    for (const token of [`${TOKEN}x`, TOKEN.slice(0, -1), TOKEN.toUpperCase(), 'x']) {
      const res = await post(url, { token });
      expect(res.status, token).toBe(403);
      expect(await res.text()).not.toContain(TOKEN);
    }
    // Unknown admin paths need the token too.
    expect((await post(`${base}/api/v1/admin/nope`)).status).toBe(401);
    // Unauthenticated bodies are not parsed: even a malformed one is a 401.
    expect((await post(url, { body: '{nope' })).status).toBe(401);
    expect(calls).toEqual([]);
    expect(events.map((e) => e.outcome)).toEqual([...Array(6).fill('unauthenticated'), ...Array(4).fill('forbidden'), 'unauthenticated', 'unauthenticated']);
    expect(JSON.stringify(events)).not.toContain(TOKEN.slice(0, 8));
    // Lower-case scheme is fine (RFC 7235: case-insensitive).
    expect((await post(url, { authorization: `bearer ${TOKEN}` })).status).toBe(200);
  });

  it('pause, resume, reset and force reach the controller; force validates its body', async () => {
    const { controller, calls } = fakeController();
    const base = await serve(adminRouter({ token: new Secret(TOKEN), controller, bounds: { min: 2, max: 12 } }));
    const a = (path: string, body?: string): Promise<Response> => post(`${base}/api/v1/admin/${path}`, { token: TOKEN, ...(body !== undefined ? { body } : {}) });
    expect(await (await a('pause')).json()).toEqual({ paused: true, changed: true });
    expect(await (await a('pause')).json()).toEqual({ paused: true, changed: false });
    expect(await (await a('resume')).json()).toEqual({ paused: false, changed: true });
    expect(await (await a('reset-circuit-breaker')).json()).toEqual({ circuitBreakerOpen: false, wasOpen: true });
    const forced = await a('force-parallelism', '{"parallelism": 7}');
    expect(forced.status).toBe(202);
    expect(await forced.json()).toEqual({ accepted: true, parallelism: 7 });
    const held = await a('force-parallelism', '{"parallelism": 13}');
    expect(held.status).toBe(400); // above max 12
    const bounds = await fetch(`${base}/api/v1/admin/force-parallelism`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: '{"parallelism": 1}' });
    expect(bounds.status).toBe(400);
    for (const body of ['{}', '{"parallelism": "7"}', '{"parallelism": 7.5}', '[7]', 'null']) {
      expect((await a('force-parallelism', body)).status, body).toBe(400);
    }
    const broken = await a('force-parallelism', '{"parallelism": ');
    expect(broken.status).toBe(400);
    const text = await broken.text();
    expect(text).toBe('{"error":"invalid JSON body"}');
    expect((await a('force-parallelism', JSON.stringify({ parallelism: 7, pad: 'x'.repeat(2000) }))).status).toBe(413);
    // GET is not an admin action.
    expect((await fetch(`${base}/api/v1/admin/pause`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect(calls).toEqual(['pause', 'pause', 'resume', 'reset', 'force 7']);
  });

  it('answers 409 with the reason when the gate holds a forced rescale', async () => {
    const { controller } = fakeController();
    const base = await serve(adminRouter({ token: new Secret(TOKEN), controller, bounds: { min: 1, max: 16 } }));
    const res = await post(`${base}/api/v1/admin/force-parallelism`, { token: TOKEN, body: '{"parallelism": 13}' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ accepted: false, parallelism: 13, reason: 'min-interval', detail: 'last rescale ended 5 s ago (minimum 60 s)' });
  });

  it('compares tokens in constant time whatever their lengths, and reads a token file', () => {
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(TOKEN, `${TOKEN} `)).toBe(false);
    expect(tokensEqual('', TOKEN)).toBe(false);
    expect(tokensEqual('x'.repeat(10_000), TOKEN)).toBe(false);
    const file = join(dir, 'token');
    writeFileSync(file, `  ${TOKEN}\n`);
    expect(readAdminToken(file).reveal()).toBe(TOKEN);
    writeFileSync(file, 'short\n');
    expect(() => readAdminToken(file)).toThrow(/at least 16 characters/);
    try { readAdminToken(file); } catch (err) { expect(String(err)).not.toContain('short'); }
    expect(() => readAdminToken(join(dir, 'missing'))).toThrow(/ENOENT/);
    expect(() => adminRouter({ token: new Secret(''), controller: fakeController().controller, bounds: { min: 1, max: 2 } })).toThrow(/empty/);
  });

  it('configuration: enabled needs a token; PHOEBE_ADMIN_TOKEN replaces tokenFile; a short token is refused without echoing it', () => {
    const base = 'prometheus: { url: "http://p:9090" }\njob: { name: j, checkpointIntervalSeconds: 10 }\nslo: { latencySeconds: 1, recoveryTimeSeconds: 60 }\nparallelism: { max: 4 }\n';
    const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parsePhoebeConfig(text, 'c.yaml', env, { checkFiles: false });
    expect(() => parse(`${base}admin: { enabled: true }\n`)).toThrow(/"admin.tokenFile": is required when admin.enabled is true \(or set PHOEBE_ADMIN_TOKEN\)/);
    const fromEnv = parse(`${base}admin: { enabled: true, tokenFile: /t }\n`, { PHOEBE_ADMIN_TOKEN: TOKEN });
    expect(fromEnv.admin.tokenFile).toBeUndefined();
    expect(fromEnv.admin.token?.reveal()).toBe(TOKEN);
    expect(JSON.stringify(fromEnv)).not.toContain(TOKEN);
    let message = '';
    try { parse(`${base}admin: { enabled: true }\n`, { PHOEBE_ADMIN_TOKEN: 'tiny-secret' }); } catch (err) { message = String(err); }
    expect(message).toContain('"admin.token": must be at least 16 characters without whitespace (value from PHOEBE_ADMIN_TOKEN)');
    expect(message).not.toContain('tiny-secret');
    expect(() => parse(`${base}admin: { enabled: true, tokenFile: /t }\n`, {})).not.toThrow();
    expect(() => parse(`${base}admin: { enabled: true, tokenFile: /t, token: "${TOKEN}" }\n`)).toThrow(/either token/);
  });

  it('drives a real control loop: pause holds its rescales, force rescales once through the actuator and the limits', async () => {
    const actuator = new FakeActuator({ mode: 'flink-deployment', parallelism: () => 4 });
    const pipeline = { decide: async () => ({ kind: 'waiting', reason: 'test' }), close: async () => undefined } as unknown as DecisionPipeline;
    const metrics = new PhoebeMetrics({ defaultMetrics: false, slo, minParallelism: 1, maxParallelism: 12 });
    const loop = new ControlLoop({
      source: { read: async () => { throw new Error('no source in this test'); } }, pipeline, actuator, metrics, log: () => undefined,
      settings: testSettings({ limits: { minSecondsBetweenRescales: 600, maxRescalesPerHour: 4, circuitBreakerFailures: 2 } }),
    });
    const base = await serve(adminRouter({ token: new Secret(TOKEN), controller: loop, bounds: { min: 1, max: 12 } }), metrics.registry);
    const a = (path: string, body?: string): Promise<Response> => post(`${base}/api/v1/admin/${path}`, { token: TOKEN, ...(body !== undefined ? { body } : {}) });
    expect((await a('pause')).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^phoebe_actuation_paused 1$/m);
    expect((await a('force-parallelism', '{"parallelism": 9}')).status).toBe(202);
    await settle();
    expect(actuator.asked).toEqual([9]);
    const again = await a('force-parallelism', '{"parallelism": 10}');
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ reason: 'min-interval' });
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(body).toMatch(/^phoebe_rescales_total\{result="completed"\} 1$/m);
    expect(body).toMatch(/^phoebe_actuation_blocked_total\{reason="min-interval"\} 1$/m);
    expect((await a('resume')).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^phoebe_actuation_paused 0$/m);
    await loop.stop();
  });
});
