/** The taskmanager-deployment actuator against the live twin's Deployment scale subresource, on fake time. */
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../../src/act/kubernetes/client.js';
import { KubernetesEventRecorder } from '../../../src/act/kubernetes/events.js';
import { silentLogger } from '../../../src/act/logger.js';
import { replicasFor, TaskManagerDeploymentActuator, type TaskManagerDeploymentActuatorOptions } from '../../../src/act/kubernetes/taskmanager-deployment-actuator.js';
import { DEPLOYMENT } from '../../../src/sim/live/live-cluster.js';
import { LiveTwin, NS, TM_NAME, type TwinOptions } from '../../support/live-twin.js';

const SCALE_PATH = `/apis/apps/v1/namespaces/${NS}/deployments/${TM_NAME}/scale`;

const open: LiveTwin[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

/** The twin runs one slot per TaskManager (reactive mode: its parallelism is the replicas). */
async function setup(twinOptions: TwinOptions = {}, options: Partial<TaskManagerDeploymentActuatorOptions> = {}) {
  const twin = await LiveTwin.start({ scheduler: 'adaptive', reactive: true, ...twinOptions });
  open.push(twin);
  const clients = twin.kube();
  const actuator = new TaskManagerDeploymentActuator({
    kube: clients,
    namespace: NS,
    name: TM_NAME,
    slotsPerTaskManager: 1,
    readyTimeoutMs: 60_000,
    events: new KubernetesEventRecorder({ core: clients.core, host: 'phoebe-0', logger: silentLogger }),
    logger: silentLogger,
    clock: twin.clock,
    ...options,
  });
  return { twin, actuator };
}

describe('TaskManagerDeploymentActuator (reactive mode)', () => {
  it('replicas = ceil(p / slots)', () => {
    expect(replicasFor(1, 2)).toBe(1);
    expect(replicasFor(4, 2)).toBe(2);
    expect(replicasFor(5, 2)).toBe(3);
    expect(replicasFor(7, 4)).toBe(2);
  });

  it('merge-patches the scale subresource and waits until status.replicas matches', async () => {
    const { twin, actuator } = await setup({ parallelism: 2 });
    expect(await actuator.currentParallelism()).toBe(2);
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 5 });
    expect(result.detail).toContain('2 → 5 TaskManagers × 1 slots');
    const [patch] = twin.find('PATCH', /\/scale$/);
    expect(patch!.path).toBe(SCALE_PATH);
    expect(patch!.headers['content-type']).toBe('application/merge-patch+json');
    expect(patch!.json).toEqual({ spec: { replicas: 5 } });
    expect(await actuator.currentParallelism()).toBe(5);
    expect(twin.cluster.twin.targetParallelism).toBe(5);
    const uid = twin.cluster.kube.mustGet(DEPLOYMENT, NS, TM_NAME).metadata?.uid;
    expect(twin.events()[0]).toMatchObject({
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: TM_NAME, namespace: NS, uid },
      reason: 'Rescaled',
      type: 'Normal',
      source: { component: 'phoebe' },
    });
    expect(String(twin.events()[0]!.message)).toMatch(/^2 → 5 completed \(taskmanager-deployment/);
  });

  it('rounds up to whole TaskManagers of several slots', async () => {
    const { twin, actuator } = await setup({ parallelism: 2 }, { slotsPerTaskManager: 2 });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 6 });
    expect(result.detail).toContain('2 → 3 TaskManagers × 2 slots (6 slots for parallelism 5)');
    expect(twin.find('PATCH', /\/scale$/)[0]!.json).toEqual({ spec: { replicas: 3 } });
  });

  it('scales down too', async () => {
    const { twin, actuator } = await setup({ parallelism: 4 });
    const result = await actuator.rescale({ parallelism: 1, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 1 });
    expect(twin.find('PATCH', /\/scale$/)[0]!.json).toEqual({ spec: { replicas: 1 } });
  });

  it('a scale patch whose answer is lost but which was applied still completes', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'lose-answer', on: 'scale-patch' });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 4 });
    expect(twin.find('PATCH', /./)).toHaveLength(1);
  });

  it('fails, bounded, when the Deployment does not reach the replicas', async () => {
    const { twin, actuator } = await setup({}, { readyTimeoutMs: 20_000 });
    twin.arm({ fault: 'scale-stuck' });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.seconds).toBe(20);
    expect(result.detail).toContain('spec.replicas 6, status.replicas 2');
    expect(twin.events()[0]).toMatchObject({ reason: 'RescaleFailed', type: 'Warning' });
  });

  it('refuses more TaskManagers than maxReplicas, without patching', async () => {
    const { twin, actuator } = await setup({}, { maxReplicas: 2 });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('maxReplicas 2');
    expect(twin.find('PATCH', /./)).toHaveLength(0);
  });

  it('skips when the Deployment already runs the replicas', async () => {
    const { twin, actuator } = await setup({ parallelism: 4 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('skipped');
    expect(twin.find('PATCH', /./)).toHaveLength(0);
    expect(twin.events()).toHaveLength(0);
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
