/**
 * The actuators against the live digital twin (src/sim/live): the same Flink REST and Kubernetes
 * endpoints a cluster serves, driven by a wall clock at 20 simulated seconds per second. Every
 * request is recorded so the tests can assert that none of them could cancel the job.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FlinkDeploymentActuator } from '../../../src/act/kubernetes/flink-deployment-actuator.js';
import { FlinkRestActuator } from '../../../src/act/flink-rest/actuator.js';
import { createKubeClients } from '../../../src/act/kubernetes/client.js';
import { KubernetesEventRecorder } from '../../../src/act/kubernetes/events.js';
import { silentLogger } from '../../../src/act/logger.js';
import { TaskManagerDeploymentActuator } from '../../../src/act/kubernetes/taskmanager-deployment-actuator.js';
import type { Scenario } from '../../../src/config/scenario.js';
import { CORE_EVENT, JAR_ENTRY_CLASS, JAR_NAME, LiveCluster, type Scheduler } from '../../../src/sim/live/live-cluster.js';
import { createLiveTwinApp } from '../../../src/sim/live/server.js';
import { scenario as testScenario } from '../../support/fixtures.js';

const SPEED = 20;

/** The shared test scenario, with a short restart and rescale so the live clock gets through them quickly. */
function scenario(): Scenario {
  const base = testScenario({ twin: { restartDowntimeSeconds: 10, rescaleDowntimeSeconds: 4, minParallelism: 1, maxParallelism: 16, initialParallelism: 2 } });
  return { ...base, name: 'cars-live', seed: 7 };
}

interface Recorded {
  method: string;
  path: string;
  query: string;
}

interface Twin {
  cluster: LiveCluster;
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

const open: Twin[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function startTwin(scheduler: Scheduler): Promise<Twin> {
  const arrivals = new Float64Array(3_600).fill(1_500);
  const cluster = new LiveCluster({ scenario: scenario(), arrivals, seed: 7, speed: SPEED, startWallMs: Date.now(), scheduler, namespace: 'streaming' });
  const closers = new Set<() => void>();
  let url = '';
  const app = createLiveTwinApp(cluster, () => url, { add: (c) => closers.add(c), delete: (c) => closers.delete(c) });
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? 'GET', path: u.pathname, query: u.search });
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clock = setInterval(() => cluster.advanceTo(Date.now()), 10);
  const twin: Twin = {
    cluster,
    url,
    requests,
    close: async () => {
      clearInterval(clock);
      for (const c of [...closers]) c();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.push(twin);
  return twin;
}

/** Nothing here could cancel a job: no DELETE or PATCH on Flink paths, no cancel endpoints or modes. */
function expectNoCancel(requests: Recorded[]): void {
  const flink = requests.filter((r) => !r.path.startsWith('/api'));
  expect(flink.filter((r) => r.method === 'DELETE' || r.method === 'PATCH')).toEqual([]);
  expect(requests.filter((r) => /cancel/i.test(r.path) || /mode=cancel/i.test(r.query))).toEqual([]);
  expect(requests.filter((r) => r.method === 'DELETE')).toEqual([]);
}

describe('actuators against the live twin', () => {
  it('flink-rest: stop-with-savepoint and resubmission by jar name; the event lands on the FlinkDeployment', async () => {
    const twin = await startTwin('default');
    const kube = createKubeClients({ kind: 'server', server: twin.url });
    const firstJob = twin.cluster.currentJob.id;
    const actuator = new FlinkRestActuator({
      restUrl: twin.url,
      jobName: 'cars-live',
      jarName: JAR_NAME,
      entryClass: JAR_ENTRY_CLASS,
      savepointDirectory: 'file:/flink-data/savepoints',
      pollIntervalMs: 20,
      savepointTimeoutMs: 5_000,
      runningTimeoutMs: 5_000,
      requestTimeoutMs: 2_000,
      events: {
        sink: new KubernetesEventRecorder({ core: kube.core, host: 'phoebe-0', logger: silentLogger }),
        target: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: 'cars-live', namespace: 'streaming' },
      },
      logger: silentLogger,
    });
    expect(await actuator.currentParallelism()).toBe(2);
    expect(actuator.jobId).toBe(firstJob);

    const result = await actuator.rescale({ parallelism: 4, reason: 'scale up for the forecast peak' });

    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(4);
    expect(actuator.jobId).not.toBe(firstJob);
    expect(actuator.jobId).toBe(twin.cluster.currentJob.id);
    expect(twin.cluster.twin.parallelism).toBe(4);
    expect(twin.cluster.jobs.find((j) => j.id === firstJob)?.finalState).toBe('FINISHED');
    expect(twin.cluster.currentJob.savepointPath).toMatch(/^file:\/flink-data\/savepoints\/savepoint-/);
    expect(await actuator.currentParallelism()).toBe(4);
    expectNoCancel(twin.requests);

    const events = twin.cluster.kube.list(CORE_EVENT, 'streaming').items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: 'Rescaled', type: 'Normal', source: { component: 'phoebe' }, involvedObject: { kind: 'FlinkDeployment', name: 'cars-live' } });
    expect(String(events[0]!.message)).toMatch(/^2 → 4 completed \(flink-rest/);
  });

  it('flink-rest: adaptive scheduler rescales in place, same job id', async () => {
    const twin = await startTwin('adaptive');
    const job = twin.cluster.currentJob.id;
    const actuator = new FlinkRestActuator({ restUrl: twin.url, jobId: job, jarName: JAR_NAME, pollIntervalMs: 20, runningTimeoutMs: 5_000, logger: silentLogger });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(result.detail).toContain('in place');
    expect(actuator.jobId).toBe(job);
    expect(twin.requests.some((r) => r.method === 'PUT' && r.path === `/jobs/${job}/resource-requirements`)).toBe(true);
    expect(twin.requests.some((r) => r.method === 'POST')).toBe(false);
    await expect.poll(() => twin.cluster.twin.parallelism === 6 && twin.cluster.twin.status === 'RUNNING', { timeout: 3_000 }).toBe(true);
    expectNoCancel(twin.requests);
  });

  it('flink-deployment: merge patch, then the watch follows the operator until RUNNING and reconciled', async () => {
    const twin = await startTwin('default');
    const kube = createKubeClients({ kind: 'server', server: twin.url });
    const actuator = new FlinkDeploymentActuator({
      kube,
      namespace: 'streaming',
      name: 'cars-live',
      // The twin compiles the CRD schema on its first write (seconds): generous bounds.
      readyTimeoutMs: 15_000,
      pollIntervalMs: 60_000,
      events: new KubernetesEventRecorder({ core: kube.core, host: 'phoebe-0', logger: silentLogger }),
      logger: silentLogger,
    });
    const firstJob = twin.cluster.currentJob.id;
    expect(await actuator.currentParallelism()).toBe(2);

    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });

    expect(result.outcome).toBe('completed');
    expect(twin.cluster.twin.parallelism).toBe(3);
    expect(twin.cluster.twin.status).toBe('RUNNING');
    expect(twin.cluster.currentJob.id).not.toBe(firstJob);
    expect(await actuator.currentParallelism()).toBe(3);
    const watch = twin.requests.find((r) => r.method === 'GET' && r.path === '/apis/flink.apache.org/v1beta1/namespaces/streaming/flinkdeployments');
    expect(watch?.query).toContain('watch=true');
    expect(watch?.query).toContain(`fieldSelector=${encodeURIComponent('metadata.name=cars-live')}`);
    const events = twin.cluster.kube.list(CORE_EVENT, 'streaming').items;
    const uid = twin.cluster.flinkDeployment('streaming', 'cars-live').metadata?.uid;
    expect(uid).toBeTruthy();
    expect(events[0]).toMatchObject({ reason: 'Rescaled', involvedObject: { kind: 'FlinkDeployment', name: 'cars-live', uid } });
    expectNoCancel(twin.requests);
  });

  it('taskmanager-deployment: the scale subresource sets the TaskManagers (one slot each)', async () => {
    const twin = await startTwin('adaptive');
    const kube = createKubeClients({ kind: 'server', server: twin.url });
    const actuator = new TaskManagerDeploymentActuator({
      kube,
      namespace: 'streaming',
      name: 'cars-live-taskmanager',
      slotsPerTaskManager: 1,
      readyTimeoutMs: 5_000,
      pollIntervalMs: 20,
      events: new KubernetesEventRecorder({ core: kube.core, host: 'phoebe-0', logger: silentLogger }),
      logger: silentLogger,
    });
    expect(await actuator.currentParallelism()).toBe(2);
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result).toMatchObject({ outcome: 'completed', parallelism: 5 });
    await expect.poll(() => twin.cluster.twin.parallelism === 5 && twin.cluster.twin.status === 'RUNNING', { timeout: 3_000 }).toBe(true);
    expect(twin.cluster.kube.list(CORE_EVENT, 'streaming').items[0]).toMatchObject({ reason: 'Rescaled', involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cars-live-taskmanager' } });
    expectNoCancel(twin.requests);
  });
});
