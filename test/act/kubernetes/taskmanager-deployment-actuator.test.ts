import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../../src/act/kubernetes/client.js';
import { KubernetesEventRecorder } from '../../../src/act/kubernetes/events.js';
import { silentLogger } from '../../../src/act/logger.js';
import { replicasFor, TaskManagerDeploymentActuator, type TaskManagerDeploymentActuatorOptions } from '../../../src/act/kubernetes/taskmanager-deployment-actuator.js';
import { FakeKube, NS, TM_NAME, TM_UID, type FakeKubeScript } from '../fake-kube.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function setup(script: FakeKubeScript = {}, options: Partial<TaskManagerDeploymentActuatorOptions> = {}) {
  const kube = new FakeKube(script);
  open.push(kube);
  const clients = createKubeClients({ kind: 'server', server: await kube.start() });
  const actuator = new TaskManagerDeploymentActuator({
    kube: clients,
    namespace: NS,
    name: TM_NAME,
    slotsPerTaskManager: 2,
    readyTimeoutMs: 2_000,
    pollIntervalMs: 5,
    events: new KubernetesEventRecorder({ core: clients.core, host: 'phoebe-0', logger: silentLogger }),
    logger: silentLogger,
    ...options,
  });
  return { kube, actuator };
}

describe('TaskManagerDeploymentActuator (reactive mode)', () => {
  it('replicas = ceil(p / slots)', () => {
    expect(replicasFor(1, 2)).toBe(1);
    expect(replicasFor(4, 2)).toBe(2);
    expect(replicasFor(5, 2)).toBe(3);
    expect(replicasFor(7, 4)).toBe(2);
  });

  it('merge-patches the scale subresource and waits until status.replicas matches', async () => {
    const { kube, actuator } = await setup({ tmReplicas: 1 });
    expect(await actuator.currentParallelism()).toBe(2);
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 6 });
    expect(result.detail).toContain('1 → 3 TaskManagers × 2 slots (6 slots for parallelism 5)');
    const [patch] = kube.http.find('PATCH', /\/scale$/);
    expect(patch!.path).toBe(`/apis/apps/v1/namespaces/${NS}/deployments/${TM_NAME}/scale`);
    expect(patch!.headers['content-type']).toBe('application/merge-patch+json');
    expect(patch!.json).toEqual({ spec: { replicas: 3 } });
    expect(kube.http.find('GET', /\/scale$/).length).toBeGreaterThanOrEqual(3); // converged one replica per look
    expect(await actuator.currentParallelism()).toBe(6);
    expect(kube.events[0]).toMatchObject({
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: TM_NAME, namespace: NS, uid: TM_UID },
      reason: 'Rescaled',
      type: 'Normal',
      source: { component: 'phoebe' },
    });
    expect(String(kube.events[0]!.message)).toMatch(/^2 → 5 completed \(taskmanager-deployment/);
  });

  it('scales down too', async () => {
    const { kube, actuator } = await setup({ tmReplicas: 4 });
    const result = await actuator.rescale({ parallelism: 2, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 2 });
    expect(kube.http.find('PATCH', /\/scale$/)[0]!.json).toEqual({ spec: { replicas: 1 } });
  });

  it('a scale patch whose answer is lost but which was applied still completes', async () => {
    const { kube, actuator } = await setup({ tmReplicas: 1, patchAnswerMs: 1_500 }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 4 });
    expect(kube.http.find('PATCH', /./)).toHaveLength(1);
  });

  it('fails, bounded, when the Deployment does not reach the replicas', async () => {
    const { kube, actuator } = await setup({ scaleStuck: true }, { readyTimeoutMs: 100 });
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('spec.replicas 3, status.replicas 1');
    expect(kube.events[0]).toMatchObject({ reason: 'RescaleFailed', type: 'Warning' });
  });

  it('refuses more TaskManagers than maxReplicas, without patching', async () => {
    const { kube, actuator } = await setup({}, { maxReplicas: 2 });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('maxReplicas 2');
    expect(kube.http.find('PATCH', /./)).toHaveLength(0);
  });

  it('skips when the Deployment already runs the replicas', async () => {
    const { kube, actuator } = await setup({ tmReplicas: 2 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('skipped');
    expect(kube.http.find('PATCH', /./)).toHaveLength(0);
    expect(kube.events).toHaveLength(0);
  });

  it('reports a missing Deployment as a failure', async () => {
    const { actuator } = await setup({}, { name: 'nope' });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('HTTP 404');
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('validates slotsPerTaskManager', () => {
    const kube = createKubeClients({ kind: 'server', server: 'http://127.0.0.1:1' });
    expect(() => new TaskManagerDeploymentActuator({ kube, namespace: NS, name: TM_NAME, slotsPerTaskManager: 0 })).toThrow(/slotsPerTaskManager/);
  });
});
