/**
 * The Actuator contract (src/act/actuator.ts), checked for every mode of the registry, each built
 * from a configuration the way `phoebe run` builds it and run against the live twin on fake time:
 * a rescale always resolves (a failure is an outcome) and says how long it took; a rescale to the
 * parallelism the job runs at is skipped; after a completed one the job reports the new
 * parallelism; two at once never both act; nothing ever cancels the job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ACTUATION_MODES, type Actuator, type ActuationMode, type RescaleResult } from '../../src/act/actuator.js';
import { silentLogger } from '../../src/act/logger.js';
import { createActuator } from '../../src/act/registry.js';
import { parsePhoebeConfig } from '../../src/config/phoebe-config.js';
import { APP, LiveTwin, NS, TM_NAME, type TwinOptions } from '../support/live-twin.js';

const journals = mkdtempSync(join(tmpdir(), 'phoebe-contract-'));
afterAll(() => rmSync(journals, { recursive: true, force: true }));

const open: LiveTwin[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

/** The twin each mode acts on: reactive mode for the TaskManager Deployment. */
const TWINS: Record<ActuationMode, TwinOptions> = {
  recommend: {},
  'flink-rest': {},
  'flink-deployment': {},
  'taskmanager-deployment': { scheduler: 'adaptive', reactive: true },
};

let journal = 0;

/** The configured mode's actuator, built by the registry from a phoebe.yaml naming the twin. */
function actuatorFor(mode: ActuationMode, twin: LiveTwin): Actuator {
  const config = parsePhoebeConfig([
    'prometheus: { url: "http://prometheus:9090" }',
    'job:',
    `  name: ${APP}`,
    '  checkpointIntervalSeconds: 10',
    `  flinkRest: { url: "${twin.url}" }`,
    `  flinkDeployment: { namespace: ${NS}, name: ${APP} }`,
    `  taskManagerDeployment: { namespace: ${NS}, name: ${TM_NAME} }`,
    'slo: { latencySeconds: 1, recoveryTimeSeconds: 60 }',
    'parallelism: { max: 16 }',
    'actuation:',
    `  mode: ${mode}`,
    `  flinkRest: { jarName: phoebe-twin-job.jar, stateDirectory: "${join(journals, String(++journal))}" }`,
    '',
  ].join('\n'), 'contract.yaml', {}, { checkFiles: false });
  const clients = twin.kube();
  return createActuator(config.actuation.mode, config.actuation, {
    source: config.source, job: config.job, kubernetesConfigured: false, kube: () => clients,
    logger: silentLogger, observedParallelism: () => twin.cluster.jobParallelism(twin.cluster.currentJob), clock: twin.clock,
  });
}

async function setup(mode: ActuationMode, options: TwinOptions = {}): Promise<{ twin: LiveTwin; actuator: Actuator }> {
  const twin = await LiveTwin.start({ ...TWINS[mode], ...options });
  open.push(twin);
  return { twin, actuator: actuatorFor(mode, twin) };
}

function expectResult(result: RescaleResult): void {
  expect(['completed', 'failed', 'skipped']).toContain(result.outcome);
  expect(typeof result.detail).toBe('string');
  expect(Number.isFinite(result.seconds) && result.seconds >= 0).toBe(true);
}

describe.each(ACTUATION_MODES)('the Actuator contract: %s', (mode) => {
  it('is the mode it was configured as', async () => {
    const { actuator } = await setup(mode);
    expect(actuator.mode).toBe(mode);
  });

  it('a rescale to the parallelism the job runs at is skipped', async () => {
    const { twin, actuator } = await setup(mode, { parallelism: 3 });
    expect(await actuator.currentParallelism()).toBe(3);
    const result = await actuator.rescale({ parallelism: 3, reason: 'contract' });
    expectResult(result);
    expect(result.outcome).toBe('skipped');
    expect(twin.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('resolves with an outcome and its seconds; after a completed rescale the job reports the new parallelism', async () => {
    const { twin, actuator } = await setup(mode, { parallelism: 2 });
    const result = await actuator.rescale({ parallelism: 5, reason: 'contract' });
    expectResult(result);
    expect(result.outcome).toBe(mode === 'recommend' ? 'skipped' : 'completed');
    if (result.outcome === 'completed') {
      expect(result.parallelism).toBe(5);
      expect(await actuator.currentParallelism()).toBe(5);
      expect(twin.cluster.twin.targetParallelism).toBe(5);
    } else {
      expect(await actuator.currentParallelism()).toBe(2);
    }
    expect(twin.cancelRequests()).toEqual([]);
  });

  it('never rejects: an invalid parallelism and an unreachable target are outcomes', async () => {
    const { twin, actuator } = await setup(mode);
    const invalid = await actuator.rescale({ parallelism: 0, reason: 'contract' });
    expectResult(invalid);
    expect(invalid.outcome).not.toBe('completed');
    await twin.close();
    const unreachable = await actuator.rescale({ parallelism: 4, reason: 'contract' });
    expectResult(unreachable);
    expect(unreachable.outcome).toBe(mode === 'recommend' ? 'skipped' : 'failed');
  });

  it('never two at once: a rescale asked for while one runs does not act', async () => {
    const { twin, actuator } = await setup(mode, { parallelism: 2 });
    const [first, second] = await Promise.all([
      actuator.rescale({ parallelism: 4, reason: 'contract' }),
      actuator.rescale({ parallelism: 6, reason: 'contract' }),
    ]);
    expectResult(first!);
    expectResult(second!);
    expect(second!.outcome).not.toBe('completed');
    if (mode !== 'recommend') {
      expect(first!.outcome).toBe('completed');
      expect(second).toMatchObject({ outcome: 'failed', detail: 'another rescale is still in progress' });
      expect(twin.cluster.twin.targetParallelism).toBe(4);
    }
    expect(twin.cluster.concurrentSubmissionsRefused).toBe(0);
    expect(twin.cancelRequests()).toEqual([]);
  });
});
