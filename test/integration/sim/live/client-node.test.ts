import {
  ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig, PatchStrategy,
  Watch, setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateFlinkDeployment } from '../../../../src/sim/live/flinkdeployment-schema.js';
import { advanceToSecond, makeCluster, startHarness, type Harness } from '../../../support/live-cluster-harness.js';

/**
 * The real @kubernetes/client-node 1.4, with a KubeConfig whose cluster server is the live
 * twin on 127.0.0.1, against every Kubernetes API phoebe uses.
 */

let h: Harness;
let kc: KubeConfig;

beforeAll(async () => {
  h = await startHarness(makeCluster());
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'twin', server: h.url, skipTLSVerify: true }],
    users: [{ name: 'phoebe' }],
    contexts: [{ name: 'twin', cluster: 'twin', user: 'phoebe', namespace: 'flink' }],
    currentContext: 'twin',
  });
});

afterAll(async () => {
  await h.close();
});

const FD = { group: 'flink.apache.org', version: 'v1beta1', namespace: 'flink', plural: 'flinkdeployments', name: 'twin-test' };

async function apiError(promise: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('live twin with @kubernetes/client-node 1.4', () => {
  it('CustomObjectsApi: reads and merge-patches the FlinkDeployment; a watch sees the operator upgrade', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    advanceToSecond(h.cluster, 20);
    const fd = (await api.getNamespacedCustomObject(FD)) as any;
    expect(fd.spec.job.parallelism).toBe(10);
    expect(validateFlinkDeployment(fd)).toEqual([]);

    const events: { type: string; object: any }[] = [];
    const watch = new Watch(kc);
    let ended = false;
    const controller = await watch.watch(
      '/apis/flink.apache.org/v1beta1/namespaces/flink/flinkdeployments',
      { resourceVersion: fd.metadata.resourceVersion },
      (type, object) => { events.push({ type, object }); },
      () => { ended = true; },
    );
    try {
      const patched = (await api.patchNamespacedCustomObject(
        { ...FD, body: { spec: { job: { parallelism: 13 } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as any;
      expect(patched.spec.job.parallelism).toBe(13);
      expect(patched.metadata.generation).toBe(2);
      advanceToSecond(h.cluster, 31);
      const deadline = Date.now() + 5000;
      while (!events.some((e) => e.object.status?.lifecycleState === 'STABLE' && e.object.status?.jobStatus?.jobId === h.cluster.currentJob.id && e.object.metadata.generation === 2)) {
        if (Date.now() > deadline || ended) throw new Error(`watch did not show the upgrade: ${events.map((e) => e.type).join(',')}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(events.some((e) => e.object.status?.lifecycleState === 'UPGRADING')).toBe(true);
      expect(h.cluster.twin.record.parallelism[30]).toBe(13);
    } finally {
      controller.abort();
    }

    const invalid = await apiError(api.patchNamespacedCustomObject(
      { ...FD, body: { spec: { job: { parallelism: 'x' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ));
    expect(invalid.code).toBe(422);
    // The default content type of the generated client is a JSON patch, which works too.
    const json = (await api.patchNamespacedCustomObject({ ...FD, body: [{ op: 'replace', path: '/spec/job/parallelism', value: 11 }] })) as any;
    expect(json.spec.job.parallelism).toBe(11);
  });

  it('AppsV1Api: reads and replaces the TaskManager Deployment scale', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    advanceToSecond(h.cluster, 60);
    const name = 'twin-test-taskmanager';
    const scale = await apps.readNamespacedDeploymentScale({ name, namespace: 'flink' });
    expect(scale.spec?.replicas).toBe(h.cluster.twin.targetParallelism);
    scale.spec = { replicas: 16 };
    const replaced = await apps.replaceNamespacedDeploymentScale({ name, namespace: 'flink', body: scale });
    expect(replaced.spec?.replicas).toBe(16);
    expect(replaced.status?.replicas).toBe(16);
    advanceToSecond(h.cluster, 71);
    expect(h.cluster.twin.record.parallelism[70]).toBe(16);
    const stale = await apiError(apps.replaceNamespacedDeploymentScale({ name, namespace: 'flink', body: scale }));
    expect(stale.code).toBe(409);
    const patched = await apps.patchNamespacedDeploymentScale(
      { name, namespace: 'flink', body: { spec: { replicas: 15 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(15);
  });

  it('CoreV1Api and EventsV1Api: create and list Events', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedEvent({
      namespace: 'flink',
      body: {
        metadata: { generateName: 'twin-test.' },
        involvedObject: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: 'twin-test', namespace: 'flink' },
        reason: 'Rescaled', message: 'parallelism 10 → 12', type: 'Normal',
        firstTimestamp: new Date(), lastTimestamp: new Date(), count: 1,
        source: { component: 'phoebe' },
      },
    });
    expect(created.metadata?.name).toMatch(/^twin-test\./);
    expect(created.metadata?.uid).toBeDefined();
    const list = await core.listNamespacedEvent({ namespace: 'flink' });
    expect(list.items.map((e) => e.reason)).toContain('Rescaled');

    const events = kc.makeApiClient(EventsV1Api);
    const v1 = await events.createNamespacedEvent({
      namespace: 'flink',
      body: {
        metadata: { name: 'phoebe-1' },
        eventTime: new Date(), reportingController: 'phoebe.io/autoscaler', reportingInstance: 'phoebe-0',
        action: 'Rescale', reason: 'Rescaled', note: 'to 12', type: 'Normal',
        regarding: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: 'twin-test', namespace: 'flink' },
      },
    });
    expect(v1.metadata?.name).toBe('phoebe-1');
    const both = await events.listNamespacedEvent({ namespace: 'flink' });
    expect(both.items.map((e) => e.note)).toEqual(['parallelism 10 → 12', 'to 12']);
    expect((await core.listNamespacedEvent({ namespace: 'flink' })).items.map((e) => e.message)).toEqual(['parallelism 10 → 12', 'to 12']);
  });

  it('CoordinationV1Api: lease create, 409 on a second create and on a stale replace', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const lease = await coordination.createNamespacedLease({
      namespace: 'flink',
      body: { metadata: { name: 'phoebe' }, spec: { holderIdentity: 'phoebe-0', leaseDurationSeconds: 15 } },
    });
    expect(lease.metadata?.resourceVersion).toBeDefined();
    expect((await apiError(coordination.createNamespacedLease({ namespace: 'flink', body: { metadata: { name: 'phoebe' } } }))).code).toBe(409);
    const read = await coordination.readNamespacedLease({ name: 'phoebe', namespace: 'flink' });
    read.spec = { ...read.spec, renewTime: new Date() };
    const renewed = await coordination.replaceNamespacedLease({ name: 'phoebe', namespace: 'flink', body: read });
    expect(renewed.metadata?.resourceVersion).not.toBe(lease.metadata?.resourceVersion);
    const stale = await apiError(coordination.replaceNamespacedLease({ name: 'phoebe', namespace: 'flink', body: read }));
    expect(stale.code).toBe(409);
  });
});
