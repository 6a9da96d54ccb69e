import { afterEach, describe, expect, it } from 'vitest';
import {
  configValue,
  FlinkDeploymentActuator,
  parseReconciledSpec,
  VERTEX_OVERRIDES_KEY,
  type FlinkDeploymentActuatorOptions,
} from '../../../src/act/kubernetes/flink-deployment-actuator.js';
import { createKubeClients } from '../../../src/act/kubernetes/client.js';
import { KubernetesEventRecorder } from '../../../src/act/kubernetes/events.js';
import { FD_NAME, FD_UID, FakeKube, NS, type FakeKubeScript } from '../fake-kube.js';
import { RecordingLogger } from '../recording-logger.js';

const V1 = 'cbc357ccb763df2852fee8c4fc7d55f2';
const V2 = '90bea66de1c231edf33913ecd54406c1';


const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function setup(script: FakeKubeScript = {}, options: Partial<FlinkDeploymentActuatorOptions> = {}) {
  const kube = new FakeKube(script);
  open.push(kube);
  const url = await kube.start();
  const clients = createKubeClients({ kind: 'server', server: url });
  const logger = new RecordingLogger();
  const events = new KubernetesEventRecorder({ core: clients.core, host: 'phoebe-7d9f8-abcde', logger });
  const actuator = new FlinkDeploymentActuator({
    kube: clients,
    namespace: NS,
    name: FD_NAME,
    readyTimeoutMs: 3_000,
    pollIntervalMs: 60_000, // the watch has to do the work unless a test says otherwise
    requestTimeoutMs: 2_000,
    events,
    logger,
    ...options,
  });
  return { kube, actuator, logger };
}

describe('FlinkDeploymentActuator', () => {
  it('merge-patches spec.job.parallelism and follows the status through the watch until RUNNING and reconciled', async () => {
    const { kube, actuator } = await setup({ stepMs: 20 });
    expect(await actuator.currentParallelism()).toBe(2);
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 4, reason: 'forecast peak above capacity at 2' });
    expect(Date.now() - started).toBeLessThan(2_000); // well before the 60 s poll: the watch saw it
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 4 });
    expect(result.detail).toContain('spec.job.parallelism 2 → 4');

    const [patch] = kube.http.find('PATCH', /flinkdeployments\/cars$/);
    expect(patch!.path).toBe(`/apis/flink.apache.org/v1beta1/namespaces/${NS}/flinkdeployments/${FD_NAME}`);
    expect(patch!.headers['content-type']).toBe('application/merge-patch+json');
    expect(patch!.json).toEqual({ spec: { job: { parallelism: 4 } } });
    expect(patch!.query.get('fieldManager')).toBe('phoebe');

    const [watch] = kube.http.find('GET', /flinkdeployments$/);
    expect(watch!.query.get('watch')).toBe('true');
    expect(watch!.query.get('fieldSelector')).toBe(`metadata.name=${FD_NAME}`);

    // The operator's intermediate states (UPGRADING with the new spec recorded, old job still RUNNING) were not taken for done.
    const status = kube.fd.status as { jobStatus: { state: string }; reconciliationStatus: { state: string } };
    expect(status.jobStatus.state).toBe('RUNNING');
    expect(status.reconciliationStatus.state).toBe('DEPLOYED');
    expect(await actuator.currentParallelism()).toBe(4);

    expect(kube.events).toHaveLength(1);
    expect(kube.events[0]).toMatchObject({
      involvedObject: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: FD_NAME, namespace: NS, uid: FD_UID },
      reason: 'Rescaled',
      type: 'Normal',
      source: { component: 'phoebe', host: 'phoebe-7d9f8-abcde' },
      reportingComponent: 'phoebe',
    });
    expect(String(kube.events[0]!.message)).toMatch(/^2 → 4 completed \(flink-deployment/);
    expect(kube.http.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });

  it('does not take the UPGRADING phase (new spec recorded, old job RUNNING) for done', async () => {
    // Stop the operator right after it records the new spec: the job still shows RUNNING, reconciliation UPGRADING.
    const { kube, actuator } = await setup({ operator: 'never' }, { readyTimeoutMs: 300 });
    const pending = actuator.rescale({ parallelism: 4, reason: 'r' });
    await new Promise((r) => setTimeout(r, 50));
    kube.setStatus({ lifecycleState: 'UPGRADING', reconciliationStatus: { state: 'UPGRADING', lastReconciledSpec: JSON.stringify({ spec: kube.fd.spec, resource_metadata: { metadata: { generation: 4 } } }) } });
    const result = await pending;
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('reconciliation UPGRADING');
  });

  it('writes pipeline.jobvertex-parallelism-overrides when configured per vertex, and waits for it to be reconciled', async () => {
    const { kube, actuator } = await setup({}, { perVertex: { vertexIds: [V1, V2], pinned: { [V1]: 1 } } });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const [patch] = kube.http.find('PATCH', /flinkdeployments/);
    expect(patch!.json).toEqual({ spec: { job: { parallelism: 6 }, flinkConfiguration: { [VERTEX_OVERRIDES_KEY]: `${V1}:1,${V2}:6` } } });
    // The rest of the (nested) flinkConfiguration is untouched by the merge patch.
    expect((kube.fd.spec as { flinkConfiguration: Record<string, unknown> }).flinkConfiguration).toMatchObject({ 'taskmanager.numberOfTaskSlots': 2, [VERTEX_OVERRIDES_KEY]: `${V1}:1,${V2}:6` });
  });

  it('a patch whose answer is lost but which was applied still completes', async () => {
    const { kube, actuator, logger } = await setup({ patchAnswerMs: 1_500 }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(kube.http.find('PATCH', /./)).toHaveLength(1);
    expect(logger.lines.some((l) => l.includes('patch unanswered but applied'))).toBe(true);
  });

  it('falls back to polling when the watch is unavailable', async () => {
    const { kube, actuator, logger } = await setup({ watchBroken: true }, { pollIntervalMs: 15 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(kube.http.find('GET', /flinkdeployments\/cars$/).length).toBeGreaterThan(3);
    expect(logger.lines.some((l) => l.startsWith('warn watch'))).toBe(true);
  });

  it('polls only when the watch is switched off', async () => {
    const { kube, actuator } = await setup({}, { useWatch: false, pollIntervalMs: 15 });
    expect((await actuator.rescale({ parallelism: 3, reason: 'r' })).outcome).toBe('completed');
    expect(kube.http.find('GET', /flinkdeployments$/)).toHaveLength(0);
  });

  it('fails, bounded, when the operator never reconciles; the event is a Warning', async () => {
    const { kube, actuator } = await setup({ operator: 'never' }, { readyTimeoutMs: 200, pollIntervalMs: 50 });
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/patched to 5 but not RUNNING at 5 within 0 s \(job RUNNING, reconciliation DEPLOYED, reconciled parallelism 2/);
    expect(kube.events[0]).toMatchObject({ reason: 'RescaleFailed', type: 'Warning' });
  });

  it('stops waiting as soon as the operator rolls back', async () => {
    const { actuator } = await setup({ operator: 'rollback' }, { readyTimeoutMs: 5_000 });
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('rolled back');
    expect(result.detail).toContain('Job failed to start');
  });

  it('refuses upgradeMode stateless (the job would restart without state) unless allowed', async () => {
    const { kube, actuator } = await setup({ upgradeMode: 'stateless' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('stateless');
    expect(kube.http.find('PATCH', /./)).toHaveLength(0);

    const allowed = await setup({ upgradeMode: 'stateless' }, { allowStatelessUpgrade: true });
    expect((await allowed.actuator.rescale({ parallelism: 5, reason: 'r' })).outcome).toBe('completed');
  });

  it('refuses a suspended job', async () => {
    const { kube, actuator } = await setup({ jobState: 'suspended' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('suspended');
    expect(kube.http.find('PATCH', /./)).toHaveLength(0);
  });

  it('skips when already reconciled and running at p, without patching or recording an event', async () => {
    const { kube, actuator } = await setup({ initialParallelism: 4 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('skipped');
    expect(kube.http.find('PATCH', /./)).toHaveLength(0);
    expect(kube.events).toHaveLength(0);
  });

  it('reports a missing FlinkDeployment as a failure with the API status, not a rejection', async () => {
    const { actuator } = await setup({}, { name: 'nope' });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/FlinkDeployment streaming\/nope: Kubernetes API HTTP 404 NotFound/);
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('a failing event recorder never fails the rescale', async () => {
    const { actuator, logger } = await setup({ eventsStatus: 403 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(logger.lines.some((l) => l.includes('could not record the rescale event') && l.includes('403'))).toBe(true);
  });
});

describe('FlinkDeployment status helpers', () => {
  it('parses lastReconciledSpec in the current (spec + resource_metadata) and the old (bare spec) format', () => {
    const current = parseReconciledSpec(JSON.stringify({ spec: { job: { parallelism: 3 } }, resource_metadata: { apiVersion: 'flink.apache.org/v1beta1', metadata: { generation: 7 }, firstDeployment: false } }));
    expect(current).toEqual({ spec: { job: { parallelism: 3 } }, generation: 7 });
    const old = parseReconciledSpec(JSON.stringify({ job: { parallelism: 2 }, apiVersion: 'flink.apache.org/v1beta1' }));
    expect(old?.spec.job?.parallelism).toBe(2);
    expect(old?.generation).toBeUndefined();
    expect(parseReconciledSpec('not json')).toBeUndefined();
    expect(parseReconciledSpec(undefined)).toBeUndefined();
  });

  it('reads flinkConfiguration keys whether flat or nested', () => {
    expect(configValue({ [VERTEX_OVERRIDES_KEY]: 'a:1' }, VERTEX_OVERRIDES_KEY)).toBe('a:1');
    expect(configValue({ pipeline: { 'jobvertex-parallelism-overrides': 'b:2' } }, VERTEX_OVERRIDES_KEY)).toBe('b:2');
    expect(configValue({ state: { 'savepoints.dir': 'x' } }, 'state.savepoints.dir')).toBe('x');
    expect(configValue(undefined, VERTEX_OVERRIDES_KEY)).toBeUndefined();
  });

  it('validates its options', () => {
    const kube = createKubeClients({ kind: 'server', server: 'http://127.0.0.1:1' });
    expect(() => new FlinkDeploymentActuator({ kube, namespace: NS, name: FD_NAME, perVertex: { vertexIds: ['x'] } })).toThrow(/32 hex/);
    expect(() => new FlinkDeploymentActuator({ kube, namespace: '', name: FD_NAME })).toThrow(/namespace/);
  });
});
