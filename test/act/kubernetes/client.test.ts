import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callOptions, createKubeClients, createKubeConfig } from '../../../src/act/kubernetes/client.js';
import { describeError } from '../../../src/act/errors.js';
import { LiveTwin, NS, TM_NAME } from '../../support/live-twin.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLWJ5dGVz';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'phoebe-kube-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('kube-client', () => {
  it('an explicit loopback server needs no credentials and sends none', async () => {
    const twin = await LiveTwin.start();
    cleanup.push(() => twin.close());
    const clients = createKubeClients({ kind: 'server', server: twin.url });
    expect(clients.describe).toBe(`kubernetes ${twin.url}`);
    const scale = await clients.apps.readNamespacedDeploymentScale({ name: TM_NAME, namespace: NS }, callOptions(1_000));
    expect(scale.status?.replicas).toBe(2);
    expect(twin.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses plain http to a non-loopback server and credentials in the URL', () => {
    expect(() => createKubeConfig({ kind: 'server', server: 'http://10.0.0.1:6443' })).toThrow(/only allowed on 127\.0\.0\.1/);
    expect(() => createKubeConfig({ kind: 'server', server: 'https://admin:pw@127.0.0.1:6443' })).toThrow(/must not contain credentials/);
    expect(() => createKubeConfig({ kind: 'server', server: 'https://kubernetes.default.svc' })).not.toThrow();
  });

  it('loads a kubeconfig file and its context; nothing it says contains the token', () => {
    const dir = tempDir();
    const path = join(dir, 'config');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: prod',
        '  cluster: {server: "https://api.prod.example:6443", insecure-skip-tls-verify: true}',
        '- name: test',
        '  cluster: {server: "https://api.test.example:6443", insecure-skip-tls-verify: true}',
        'users:',
        `- name: phoebe`,
        `  user: {token: "${TOKEN}"}`,
        'contexts:',
        '- {name: prod, context: {cluster: prod, user: phoebe}}',
        '- {name: test, context: {cluster: test, user: phoebe, namespace: streaming}}',
        'current-context: prod',
        '',
      ].join('\n'),
    );
    const clients = createKubeClients({ kind: 'kubeconfig', path, context: 'test' });
    expect(clients.describe).toBe('kubernetes https://api.test.example:6443');
    expect(() => createKubeConfig({ kind: 'kubeconfig', path, context: 'nope' })).toThrow(/no context "nope"/);
  });

  it('errors about a broken kubeconfig name the file, not its content', () => {
    const dir = tempDir();
    const broken = join(dir, 'broken');
    writeFileSync(broken, `users:\n- name: x\n  user: {token: "${TOKEN}"\n  : : [\n`);
    let message = '';
    try {
      createKubeConfig({ kind: 'kubeconfig', path: broken });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(broken);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain('token');
    expect(() => createKubeConfig({ kind: 'kubeconfig', path: join(dir, 'missing') })).toThrow(/ENOENT/);
  });

  it('in-cluster outside a pod is a clear error', () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    delete process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_PORT;
    cleanup.push(() => {
      if (saved.host !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.host;
      if (saved.port !== undefined) process.env.KUBERNETES_SERVICE_PORT = saved.port;
    });
    expect(() => createKubeConfig({ kind: 'in-cluster' })).toThrow(/not running in a Kubernetes pod/);
  });

  it('callOptions puts a timeout on every API call', async () => {
    // A request timeout is real time (AbortSignal.timeout): an answer held 2 s, a timeout of 100 ms.
    const twin = await LiveTwin.start();
    cleanup.push(() => twin.close());
    twin.arm({ fault: 'slow', ms: 2_000 });
    const clients = createKubeClients({ kind: 'server', server: twin.url });
    const err = await clients.core.readNamespacedEvent({ name: 'x', namespace: NS }, callOptions(100)).catch((e: unknown) => e);
    expect(describeError(err)).toBe('request timed out');
  });

});

describe('describeError', () => {
  it('redacts tokens, passwords and URL credentials', () => {
    const text = describeError(new Error(`request to https://bob:secretpw@api/x failed; Authorization: Bearer ${TOKEN}; password=hunter2; "token":"abc123def456"`));
    for (const secret of ['secretpw', TOKEN, 'hunter2', 'abc123def456']) expect(text).not.toContain(secret);
  });
});
