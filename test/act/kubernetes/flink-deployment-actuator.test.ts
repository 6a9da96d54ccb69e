/** The flink-deployment actuator against the live twin's Kubernetes API and operator, on fake time. */
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
import { APP, LiveTwin, NS, type TwinOptions } from '../../support/live-twin.js';
import { RecordingLogger } from '../../support/recording-logger.js';

const PINNED = 'cbc357ccb763df2852fee8c4fc7d55f2';
const FD_PATH = `/apis/flink.apache.org/v1beta1/namespaces/${NS}/flinkdeployments/${APP}`;

const open: LiveTwin[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function setup(twinOptions: TwinOptions = {}, options: Partial<FlinkDeploymentActuatorOptions> = {}) {
  const twin = await LiveTwin.start(twinOptions);
  open.push(twin);
  const clients = twin.kube();
  const logger = new RecordingLogger();
  const events = new KubernetesEventRecorder({ core: clients.core, host: 'phoebe-7d9f8-abcde', logger });
  const actuator = new FlinkDeploymentActuator({
    kube: clients,
    namespace: NS,
    name: APP,
    readyTimeoutMs: 60_000,
    pollIntervalMs: 5_000,
    requestTimeoutMs: 2_000,
    events,
    logger,
    clock: twin.clock,
    ...options,
  });
  return { twin, actuator, logger };
}

/** Writes the FlinkDeployment's spec as a user would (the operator then reconciles it). */
function editSpec(twin: LiveTwin, job: Record<string, unknown>): void {
  twin.cluster.patchFlinkDeployment(NS, APP, 'application/merge-patch+json', { spec: { job } });
}

describe('FlinkDeploymentActuator', () => {
  it('merge-patches spec.job.parallelism and follows the status through the watch until RUNNING and reconciled', async () => {
    // Time moves only when the test says: the actuator's next poll is a minute away, so only the watch can tell it.
    const { twin, actuator } = await setup({ manualTime: true }, { pollIntervalMs: 60_000 });
    expect(await actuator.currentParallelism()).toBe(2);
    const pending = actuator.rescale({ parallelism: 4, reason: 'forecast peak above capacity at 2' });
    // (The twin compiles the CRD's schema at its first write: a second or so of real time.)
    await expect.poll(() => twin.find('GET', /flinkdeployments$/).length, { timeout: 10_000 }).toBe(1);
    // The operator's savepoint upgrade: stop, savepoint (2 s), the new job running 10 s after the stop.
    for (let s = 0; s < 15; s++) await twin.advance(1_000);
    const result = await pending;
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 4 });
    expect(result.seconds).toBeLessThan(60);
    expect(result.detail).toContain('spec.job.parallelism 2 → 4');

    const [patch] = twin.find('PATCH', /flinkdeployments/);
    expect(patch!.path).toBe(FD_PATH);
    expect(patch!.headers['content-type']).toBe('application/merge-patch+json');
    expect(patch!.json).toEqual({ spec: { job: { parallelism: 4 } } });
    expect(patch!.query.get('fieldManager')).toBe('phoebe');
    const [watch] = twin.find('GET', /flinkdeployments$/);
    expect(watch!.query.get('watch')).toBe('true');
    expect(watch!.query.get('fieldSelector')).toBe(`metadata.name=${APP}`);

    const status = twin.flinkDeployment.status as { jobStatus: { state: string }; reconciliationStatus: { state: string } };
    expect(status.jobStatus.state).toBe('RUNNING');
    expect(status.reconciliationStatus.state).toBe('DEPLOYED');
    expect(twin.cluster.twin.parallelism).toBe(4);
    expect(await actuator.currentParallelism()).toBe(4);

    const events = twin.events();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      involvedObject: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: APP, namespace: NS, uid: twin.flinkDeployment.metadata?.uid },
      reason: 'Rescaled',
      type: 'Normal',
      source: { component: 'phoebe', host: 'phoebe-7d9f8-abcde' },
      reportingComponent: 'phoebe',
    });
    expect(String(events[0]!.message)).toMatch(/^2 → 4 completed \(flink-deployment/);
    expect(twin.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });

  it('does not take the UPGRADING phase (new spec recorded, old job RUNNING) for done', async () => {
    // The operator records the new spec and takes its savepoint (2 s) while the old job runs; the actuator waits 1 s.
    const { actuator } = await setup({}, { readyTimeoutMs: 1_000, pollIntervalMs: 500 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('job RUNNING, reconciliation UPGRADING, reconciled parallelism 4');
  });

  it('writes pipeline.jobvertex-parallelism-overrides when configured per vertex, and waits for it to be reconciled', async () => {
    const twin = await LiveTwin.start();
    open.push(twin);
    const vertex = twin.cluster.vertexId;
    const actuator = new FlinkDeploymentActuator({
      kube: twin.kube(), namespace: NS, name: APP, perVertex: { vertexIds: [vertex], pinned: { [PINNED]: 1 } }, clock: twin.clock, logger: new RecordingLogger(),
    });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const [patch] = twin.find('PATCH', /flinkdeployments/);
    expect(patch!.json).toEqual({ spec: { job: { parallelism: 6 }, flinkConfiguration: { [VERTEX_OVERRIDES_KEY]: `${vertex}:6,${PINNED}:1` } } });
    // The rest of the flinkConfiguration is untouched by the merge patch.
    expect((twin.flinkDeployment.spec as { flinkConfiguration: Record<string, unknown> }).flinkConfiguration).toMatchObject({ 'taskmanager.numberOfTaskSlots': '1', [VERTEX_OVERRIDES_KEY]: `${vertex}:6,${PINNED}:1` });
    expect(twin.cluster.twin.parallelism).toBe(6);
  });

  it('a patch whose answer is lost but which was applied still completes', async () => {
    const { twin, actuator, logger } = await setup();
    twin.arm({ fault: 'lose-answer', on: 'fd-patch' });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(twin.find('PATCH', /./)).toHaveLength(1);
    expect(logger.lines.some((l) => l.includes('patch unanswered but applied'))).toBe(true);
  });

  it('falls back to polling when the watch is unavailable', async () => {
    const { twin, actuator, logger } = await setup();
    twin.arm({ fault: 'kube-error', on: 'fd-watch' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(twin.find('GET', /flinkdeployments\/cars$/).length).toBeGreaterThan(2);
    expect(logger.lines.some((l) => l.startsWith('warn watch'))).toBe(true);
  });

  it('polls only when the watch is switched off', async () => {
    const { twin, actuator } = await setup({}, { useWatch: false });
    expect((await actuator.rescale({ parallelism: 3, reason: 'r' })).outcome).toBe('completed');
    expect(twin.find('GET', /flinkdeployments$/)).toHaveLength(0);
  });

  it('fails, bounded, when the operator never reconciles; the event is a Warning', async () => {
    const { twin, actuator } = await setup({}, { readyTimeoutMs: 30_000, pollIntervalMs: 10_000 });
    twin.arm({ fault: 'operator-stalls' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.seconds).toBe(30);
    expect(result.detail).toMatch(/patched to 5 but not RUNNING at 5 within 30 s \(job RUNNING, reconciliation DEPLOYED, reconciled parallelism 2/);
    expect(twin.events()[0]).toMatchObject({ reason: 'RescaleFailed', type: 'Warning' });
  });

  it('stops waiting as soon as the operator rolls back', async () => {
    const { twin, actuator } = await setup({}, { readyTimeoutMs: 600_000 });
    twin.arm({ fault: 'operator-rolls-back' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.seconds).toBe(0);
    expect(result.detail).toContain('rolled back');
    expect(result.detail).toContain('Job failed to start');
  });

  it('refuses upgradeMode stateless (the job would restart without state) unless allowed', async () => {
    const { twin, actuator } = await setup();
    editSpec(twin, { upgradeMode: 'stateless' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('stateless');
    expect(twin.find('PATCH', /./)).toHaveLength(0);

    const allowed = new FlinkDeploymentActuator({ kube: twin.kube(), namespace: NS, name: APP, allowStatelessUpgrade: true, clock: twin.clock, logger: new RecordingLogger() });
    expect((await allowed.rescale({ parallelism: 5, reason: 'r' })).outcome).toBe('completed');
  });

  it('refuses a suspended job', async () => {
    const { twin, actuator } = await setup();
    editSpec(twin, { state: 'suspended' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('suspended');
    expect(twin.find('PATCH', /./)).toHaveLength(0);
  });

  it('skips when already reconciled and running at p, without patching or recording an event', async () => {
    const { twin, actuator } = await setup({ parallelism: 4 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('skipped');
    expect(twin.find('PATCH', /./)).toHaveLength(0);
    expect(twin.events()).toHaveLength(0);
  });

  it('reports a missing FlinkDeployment as a failure with the API status, not a rejection', async () => {
    const { actuator } = await setup({}, { name: 'nope' });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/FlinkDeployment streaming\/nope: Kubernetes API HTTP 404 NotFound/);
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('a failing event recorder never fails the rescale', async () => {
    const { twin, actuator, logger } = await setup();
    twin.arm({ fault: 'kube-error', on: 'events', status: 403 });
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
    expect(() => new FlinkDeploymentActuator({ kube, namespace: NS, name: APP, perVertex: { vertexIds: ['x'] } })).toThrow(/32 hex/);
    expect(() => new FlinkDeploymentActuator({ kube, namespace: '', name: APP })).toThrow(/namespace/);
  });
});
