import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTUATION_MODES } from '../../src/act/actuator.js';
import type { ActuatorContext } from '../../src/act/actuator-mode.js';
import { silentLogger } from '../../src/act/logger.js';
import { actuationIssues, actuationSettingsShape, type ActuationSettings } from '../../src/act/mode-settings.js';
import { ACTUATOR_MODES, createActuator } from '../../src/act/registry.js';
import { UserError } from '../../src/util/user-error.js';

const dir = mkdtempSync(join(tmpdir(), 'phoebe-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = (over: Partial<ActuatorContext> = {}): ActuatorContext => ({
  source: 'phoebe.yaml', job: { name: 'cars' }, kubernetesConfigured: false,
  kube: () => { throw new UserError('phoebe.yaml: no Kubernetes API here'); },
  logger: silentLogger, observedParallelism: () => 3, ...over,
});

const settings = (over: Partial<ActuationSettings> = {}): ActuationSettings => ({
  flinkDeployment: { timeoutSeconds: 600 }, taskManagerDeployment: { slotsPerTaskManager: 1, timeoutSeconds: 600 }, ...over,
});

describe('the actuation registry', () => {
  it('has one adapter per mode, each building an actuator of its mode', () => {
    expect(Object.keys(ACTUATOR_MODES).sort()).toEqual([...ACTUATION_MODES].sort());
    for (const mode of ACTUATION_MODES) expect(ACTUATOR_MODES[mode].mode).toBe(mode);
    expect(Object.keys(actuationSettingsShape).sort()).toEqual(['flinkDeployment', 'flinkRest', 'taskManagerDeployment']);
  });

  it('says what the configured mode misses, by key', () => {
    expect(actuationIssues('recommend', { name: 'cars' }, settings())).toEqual([]);
    expect(actuationIssues('flink-rest', { name: 'cars' }, settings()).map((i) => i.path.join('.'))).toEqual(['job.flinkRest.url', 'actuation.flinkRest']);
    expect(actuationIssues('flink-deployment', { name: 'cars' }, settings())).toEqual([{ path: ['job', 'flinkDeployment'], message: 'is required when actuation.mode is flink-deployment (namespace and name)' }]);
    expect(actuationIssues('taskmanager-deployment', { name: 'cars', taskManagerDeployment: { namespace: 'n', name: 'tm' } }, settings())).toEqual([]);
  });

  it('recommend reports the observed parallelism and changes nothing', async () => {
    const actuator = createActuator('recommend', settings(), context());
    expect(await actuator.currentParallelism()).toBe(3);
    expect((await actuator.rescale({ parallelism: 5, reason: 'r' })).outcome).toBe('skipped');
  });

  it('a journal directory phoebe cannot write is a user error naming the key', () => {
    // A file where the journal's directory should be: the directory cannot be created under it.
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const rest = { programArgs: [], savepointTimeoutSeconds: 600, stateDirectory: join(file, 'journal'), jarName: 'job.jar' };
    const job = { name: 'cars', flinkRest: { url: 'http://127.0.0.1:1' } };
    expect(() => createActuator('flink-rest', settings({ flinkRest: rest }), context({ job }))).toThrow(/^phoebe\.yaml: "actuation\.flinkRest\.stateDirectory": /);
  });

  it('the Kubernetes modes need the Kubernetes API; its error is the user\'s', () => {
    const job = { name: 'cars', flinkDeployment: { namespace: 'n', name: 'cars' }, taskManagerDeployment: { namespace: 'n', name: 'tm' } };
    expect(() => createActuator('flink-deployment', settings(), context({ job }))).toThrow(UserError);
    expect(() => createActuator('taskmanager-deployment', settings(), context({ job }))).toThrow(/no Kubernetes API here/);
  });
});
