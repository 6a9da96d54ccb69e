import { describe, expect, it } from 'vitest';
import { validateFlinkDeployment } from '../../../../src/sim/live/flinkdeployment-schema.js';
import { JOB_STATUS_CODE } from '../../../../src/observe/signals.js';
import { advanceToSecond, harnessPerTest, makeCluster } from '../../../support/live-cluster-harness.js';

const open = harnessPerTest();

const FD = '/apis/flink.apache.org/v1beta1/namespaces/flink/flinkdeployments';
const MERGE = 'application/merge-patch+json';

interface WatchStream {
  events: { type: string; object: any }[];
  waitFor(predicate: (e: { type: string; object: any }) => boolean, what: string): Promise<{ type: string; object: any }>;
  close(): void;
}

/** Reads a watch stream (newline-delimited JSON) in the background. */
async function watch(url: string): Promise<WatchStream> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  expect(response.status).toBe(200);
  const events: { type: string; object: any }[] = [];
  let wake: () => void = () => undefined;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
        }
        wake();
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async waitFor(predicate, what) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = events.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no watch event: ${what}; got ${events.map((e) => `${e.type} rv=${e.object?.metadata?.resourceVersion} ${e.object?.status?.lifecycleState}/${e.object?.status?.jobStatus?.state}`).join(', ')}`);
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 50); });
      }
    },
    close: () => controller.abort(),
  };
}

function reconciledParallelism(fd: any): number {
  return JSON.parse(fd.status.reconciliationStatus.lastReconciledSpec).spec.job.parallelism;
}

describe('live twin Kubernetes API: FlinkDeployment', () => {
  it('serves a FlinkDeployment valid against the CRD, with the job\'s status', async () => {
    const h = await open(makeCluster());
    advanceToSecond(h.cluster, 5);
    const res = await h.get(`${FD}/twin-test`);
    expect(res.status).toBe(200);
    const fd = res.body;
    expect(validateFlinkDeployment(fd)).toEqual([]);
    expect(fd).toMatchObject({
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkDeployment',
      metadata: { name: 'twin-test', namespace: 'flink', generation: 1 },
      spec: { job: { parallelism: 10, upgradeMode: 'savepoint', state: 'running' } },
      status: { lifecycleState: 'STABLE', observedGeneration: 1, jobStatus: { state: 'RUNNING', jobId: h.cluster.currentJob.id }, reconciliationStatus: { state: 'DEPLOYED' } },
    });
    expect(reconciledParallelism(fd)).toBe(10);
    expect(fd.metadata.resourceVersion).toMatch(/^\d+$/);
    const list = (await h.get(FD)).body;
    expect(list).toMatchObject({ kind: 'FlinkDeploymentList', apiVersion: 'flink.apache.org/v1beta1', items: [{ metadata: { name: 'twin-test' } }] });
    const missing = await h.get(`${FD}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
  });

  it('a merge patch of spec.job.parallelism upgrades the job like the operator (savepoint, new job id, down for the rescale downtime), visible on a watch', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 50);
    const before = (await h.get(`${FD}/twin-test`)).body;
    const oldJob = before.status.jobStatus.jobId;
    const stream = await watch(`${h.url}${FD}?watch=true&resourceVersion=${before.metadata.resourceVersion}`);
    try {
      const patched = await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { parallelism: 14 } } }, MERGE);
      expect(patched.status).toBe(200);
      expect(patched.body.metadata.generation).toBe(2);
      expect(Number(patched.body.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
      expect(patched.body.spec.job.parallelism).toBe(14);
      expect(validateFlinkDeployment(patched.body)).toEqual([]);

      const upgrading = await stream.waitFor((e) => e.object.status?.lifecycleState === 'UPGRADING', 'UPGRADING');
      expect(upgrading.type).toBe('MODIFIED');
      expect(upgrading.object.status.observedGeneration).toBe(2);
      expect(reconciledParallelism(upgrading.object)).toBe(14);
      expect(upgrading.object.status.reconciliationStatus.state).toBe('UPGRADING');

      advanceToSecond(cluster, 52); // the savepoint completed: the operator submits the new job
      const submitted = await stream.waitFor((e) => e.object.status?.jobStatus?.jobId !== oldJob, 'new job id');
      expect(submitted.object.status.jobStatus.state).toBe('INITIALIZING');
      expect(submitted.object.status.jobStatus.savepointInfo.lastSavepoint.location).toMatch(/savepoint-/);
      advanceToSecond(cluster, 61);
      const stable = await stream.waitFor((e) => e.object.status?.jobStatus?.jobId !== oldJob && e.object.status?.lifecycleState === 'STABLE' && e.object.status?.jobStatus?.state === 'RUNNING', 'STABLE again');
      expect(stable.object.status.jobStatus.jobId).toBe(cluster.currentJob.id);
      expect(stable.object.status.reconciliationStatus.state).toBe('DEPLOYED');
      expect(JSON.parse(stable.object.status.reconciliationStatus.lastStableSpec).spec.job.parallelism).toBe(14);
      expect(validateFlinkDeployment(stable.object)).toEqual([]);
      // Every event is a complete object with increasing resource versions.
      const versions = stream.events.map((e) => Number(e.object.metadata.resourceVersion));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    } finally {
      stream.close();
    }
    const record = cluster.twin.record;
    expect(record.status[49]).toBe(JOB_STATUS_CODE.RUNNING);
    for (let s = 50; s < 60; s++) expect(record.status[s]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(record.status[60]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(record.parallelism[60]).toBe(14);
    expect(cluster.jobs.map((j) => cluster.jobState(j))).toEqual(['FINISHED', 'RUNNING']);
    // The TaskManager Deployment follows the new parallelism.
    expect((await h.get('/apis/apps/v1/namespaces/flink/deployments/twin-test-taskmanager/scale')).body.spec.replicas).toBe(14);
  });

  it('pipeline.jobvertex-parallelism-overrides for the job vertex rescale too; a JSON patch works as well', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 20);
    const key = 'pipeline.jobvertex-parallelism-overrides';
    const res = await h.send('PATCH', `${FD}/twin-test`, { spec: { flinkConfiguration: { [key]: `${cluster.vertexId}:6` } } }, MERGE);
    expect(res.status).toBe(200);
    advanceToSecond(cluster, 31);
    expect(cluster.twin.record.parallelism[30]).toBe(6);
    expect(cluster.jobState(cluster.currentJob)).toBe('RUNNING');
    const json = await h.send('PATCH', `${FD}/twin-test`, [
      { op: 'test', path: '/spec/job/parallelism', value: 10 },
      { op: 'remove', path: `/spec/flinkConfiguration/${key.replace(/\//g, '~1')}` },
      { op: 'replace', path: '/spec/job/parallelism', value: 9 },
    ], 'application/json-patch+json');
    expect(json.status, json.text).toBe(200);
    expect(json.body.spec.flinkConfiguration[key]).toBeUndefined();
    advanceToSecond(cluster, 42);
    expect(cluster.twin.record.parallelism[41]).toBe(9);
    expect(cluster.jobs).toHaveLength(3);
  });

  it('rejects a patch the CRD forbids with 422 and a Status, and leaves the object alone', async () => {
    const h = await open(makeCluster());
    const before = (await h.get(`${FD}/twin-test`)).body;
    const bad = await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { parallelism: 'many', upgradeMode: 'sometimes' } } }, MERGE);
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422, details: { name: 'twin-test', group: 'flink.apache.org', kind: 'FlinkDeployment' } });
    const fields = (bad.body.details.causes as { field: string }[]).map((c) => c.field).sort();
    expect(fields).toEqual(['spec.job.parallelism', 'spec.job.upgradeMode']);
    expect(bad.body.message).toMatch(/spec\.job\.parallelism in body must be of type integer/);
    const after = (await h.get(`${FD}/twin-test`)).body;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.spec.job.parallelism).toBe(10);
    // Unsupported patch types and a stale resourceVersion are refused too.
    expect((await h.send('PATCH', `${FD}/twin-test`, { spec: {} }, 'application/strategic-merge-patch+json')).status).toBe(415);
    const stale = await h.send('PATCH', `${FD}/twin-test`, { metadata: { resourceVersion: '1' }, spec: { job: { parallelism: 4 } } }, MERGE);
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe('Conflict');
    // Writes to status through the main resource are ignored (status is a subresource).
    const status = await h.send('PATCH', `${FD}/twin-test`, { status: { lifecycleState: 'FAILED' } }, MERGE);
    expect(status.status).toBe(200);
    expect(status.body.status.lifecycleState).toBe('STABLE');
    expect(status.body.metadata.generation).toBe(1);
  });

  it('a spec change while the job restarts waits until it runs again; suspend and resume work through spec.job.state', async () => {
    const h = await open(makeCluster({ overrides: { failures: [10] } }));
    const cluster = h.cluster;
    advanceToSecond(cluster, 15);
    expect(cluster.jobState(cluster.currentJob)).toBe('RESTARTING');
    const res = await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { parallelism: 12 } } }, MERGE);
    expect(res.status).toBe(200);
    let fd = (await h.get(`${FD}/twin-test`)).body;
    expect(fd.status.observedGeneration).toBe(1); // not reconciled yet
    expect(fd.status.lifecycleState).toBe('STABLE');
    advanceToSecond(cluster, 40);
    expect(cluster.jobState(cluster.currentJob)).toBe('RESTARTING');
    advanceToSecond(cluster, 41); // RUNNING again in second 40: the operator upgrades now
    fd = (await h.get(`${FD}/twin-test`)).body;
    expect(fd.status.observedGeneration).toBe(2);
    expect(fd.status.lifecycleState).toBe('UPGRADING');
    advanceToSecond(cluster, 52);
    expect(cluster.twin.record.status[50]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(cluster.twin.record.parallelism[51]).toBe(12);
    expect(cluster.twin.record.status[51]).toBe(JOB_STATUS_CODE.RUNNING);

    await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { state: 'suspended' } } }, MERGE);
    advanceToSecond(cluster, 60);
    fd = (await h.get(`${FD}/twin-test`)).body;
    expect(fd.status.lifecycleState).toBe('SUSPENDED');
    expect(fd.status.jobStatus.state).toBe('FINISHED');
    expect(cluster.twin.record.throughput[59]).toBe(0);
    await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { state: 'running', parallelism: 7 } } }, MERGE);
    // Suspended at 52, resumed at 60: runs from max(52 + 10, 60 + 8) = 68.
    advanceToSecond(cluster, 69);
    fd = (await h.get(`${FD}/twin-test`)).body;
    expect(fd.status).toMatchObject({ lifecycleState: 'STABLE', jobStatus: { state: 'RUNNING' } });
    expect(cluster.twin.record.status[67]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(cluster.twin.record.status[68]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(cluster.twin.record.parallelism[68]).toBe(7);
  });
  it('an unchanged spec is no change; PUT replaces with the current resourceVersion only; after a REST stop the operator resubmits from that savepoint', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 10);
    const same = await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { parallelism: 10 } } }, MERGE);
    expect(same.body.metadata.generation).toBe(1);
    advanceToSecond(cluster, 12);
    expect(cluster.jobs).toHaveLength(1);
    const current = (await h.get(`${FD}/twin-test`)).body;
    const { metadata, ...rest } = current;
    expect((await h.send('PUT', `${FD}/twin-test`, { ...rest, metadata: { name: 'twin-test' } })).status).toBe(422);
    const put = await h.send('PUT', `${FD}/twin-test`, { ...current, spec: { ...current.spec, job: { ...current.spec.job, parallelism: 5 } } });
    expect(put.status).toBe(200);
    expect(put.body.metadata.generation).toBe(2);
    advanceToSecond(cluster, 23);
    expect(cluster.twin.record.parallelism[22]).toBe(5);

    const trigger = cluster.stopWithSavepoint(cluster.currentJob.id);
    advanceToSecond(cluster, 26);
    const location = cluster.savepointStatus(cluster.jobs[1]?.id as string, trigger).location;
    expect(cluster.jobState(cluster.currentJob)).toBe('FINISHED');
    await h.send('PATCH', `${FD}/twin-test`, { spec: { job: { parallelism: 6 } } }, MERGE);
    expect(cluster.currentJob.savepointPath).toBe(location);
    advanceToSecond(cluster, 35); // stopped at 23, resubmitted at 26: runs from max(23 + 10, 26 + 8) = 34
    expect(cluster.twin.record.status[33]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(cluster.twin.record.status[34]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(cluster.twin.record.parallelism[34]).toBe(6);
    expect((await h.get(`${FD}/twin-test`)).body.status).toMatchObject({ lifecycleState: 'STABLE', jobStatus: { state: 'RUNNING', jobId: cluster.currentJob.id } });
  });
});

describe('live twin Kubernetes API: TaskManager Deployment scale, Events, Leases', () => {
  const SCALE = '/apis/apps/v1/namespaces/flink/deployments/twin-test-taskmanager/scale';

  it('the scale subresource: replicas = parallelism, a change rescales in place (same job id), stale resourceVersions conflict', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 20);
    const scale = (await h.get(SCALE)).body;
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'twin-test-taskmanager', namespace: 'flink' }, spec: { replicas: 10 }, status: { replicas: 10, selector: 'app=twin-test,component=taskmanager' } });
    const jobId = cluster.currentJob.id;
    const stale = await h.send('PUT', SCALE, { ...scale, metadata: { ...scale.metadata, resourceVersion: '1' }, spec: { replicas: 12 } });
    expect(stale.status).toBe(409);
    const put = await h.send('PUT', SCALE, { ...scale, spec: { replicas: 12 } });
    expect(put.status).toBe(200);
    expect(put.body.spec.replicas).toBe(12);
    advanceToSecond(cluster, 31);
    expect(cluster.twin.record.status[29]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(cluster.twin.record.status[30]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(cluster.twin.record.parallelism[30]).toBe(12);
    expect(cluster.currentJob.id).toBe(jobId);
    const patched = await h.send('PATCH', SCALE, { spec: { replicas: 8 } }, MERGE);
    expect(patched.status).toBe(200);
    expect(patched.body.status.replicas).toBe(8);
    advanceToSecond(cluster, 42);
    expect(cluster.twin.record.parallelism[41]).toBe(8);
    const deployment = (await h.get('/apis/apps/v1/namespaces/flink/deployments/twin-test-taskmanager')).body;
    expect(deployment).toMatchObject({ kind: 'Deployment', spec: { replicas: 8 }, status: { replicas: 8, readyReplicas: 8 } });
    expect(deployment.metadata.generation).toBe(3);
    const invalid = await h.send('PATCH', SCALE, { spec: { replicas: -1 } }, MERGE);
    expect(invalid.status).toBe(422);
    expect((await h.get('/apis/apps/v1/namespaces/flink/deployments/nope/scale')).status).toBe(404);
  });

  it('Events: POST to core/v1 and events.k8s.io/v1, GET lists them; invalid ones get 422', async () => {
    const h = await open(makeCluster());
    const core = await h.send('POST', '/api/v1/namespaces/flink/events', {
      metadata: { generateName: 'twin-test.' },
      involvedObject: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: 'twin-test', namespace: 'flink' },
      reason: 'Rescaled', message: 'parallelism 10 → 12', type: 'Normal', source: { component: 'phoebe' },
    });
    expect(core.status).toBe(201);
    expect(core.body).toMatchObject({ kind: 'Event', apiVersion: 'v1', metadata: { namespace: 'flink', name: expect.stringMatching(/^twin-test\.[a-z0-9]{5}$/) } });
    expect(core.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const list = (await h.get('/api/v1/namespaces/flink/events')).body;
    expect(list.kind).toBe('EventList');
    expect(list.items.map((e: any) => e.reason)).toEqual(['Rescaled']);
    expect((await h.get('/api/v1/namespaces/other/events')).body.items).toEqual([]);
    expect((await h.send('POST', '/api/v1/namespaces/flink/events', { metadata: { name: 'x' }, reason: 'R' })).status).toBe(422);

    const v1 = await h.send('POST', '/apis/events.k8s.io/v1/namespaces/flink/events', {
      metadata: { name: 'phoebe-rescale-1' },
      eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'phoebe.io/autoscaler', reportingInstance: 'phoebe-0',
      action: 'Rescale', reason: 'Rescaled', note: 'to 12', type: 'Normal',
      regarding: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', name: 'twin-test', namespace: 'flink' },
    });
    expect(v1.status).toBe(201);
    expect(v1.body.apiVersion).toBe('events.k8s.io/v1');
    // One resource, two APIs: each lists both Events, converted.
    const v1List = (await h.get('/apis/events.k8s.io/v1/namespaces/flink/events')).body;
    expect(v1List).toMatchObject({ kind: 'EventList', apiVersion: 'events.k8s.io/v1' });
    expect(v1List.items.map((e: any) => [e.apiVersion, e.note, e.regarding.kind])).toEqual([
      ['events.k8s.io/v1', 'parallelism 10 → 12', 'FlinkDeployment'], ['events.k8s.io/v1', 'to 12', 'FlinkDeployment'],
    ]);
    expect(v1List.items[0].reportingController).toBe('phoebe');
    const coreList = (await h.get('/api/v1/namespaces/flink/events')).body;
    expect(coreList.items.map((e: any) => [e.apiVersion, e.message, e.reportingComponent])).toEqual([
      ['v1', 'parallelism 10 → 12', undefined], ['v1', 'to 12', 'phoebe.io/autoscaler'],
    ]);
    expect((await h.get('/api/v1/namespaces/flink/events/phoebe-rescale-1')).body.involvedObject.name).toBe('twin-test');
    expect((await h.send('POST', '/apis/events.k8s.io/v1/namespaces/flink/events', { metadata: { name: 'phoebe-rescale-1' }, reason: 'x' })).status).toBe(422);
    const dup = await h.send('POST', '/apis/events.k8s.io/v1/namespaces/flink/events', { ...v1.body, metadata: { name: 'phoebe-rescale-1' } });
    expect(dup.status).toBe(409);
  });

  it('Leases: GET 404 before, POST 201 then 409, PUT needs the current resourceVersion (409 on a stale one)', async () => {
    const h = await open(makeCluster());
    const base = '/apis/coordination.k8s.io/v1/namespaces/flink/leases';
    expect((await h.get(`${base}/phoebe-leader`)).status).toBe(404);
    const lease = { metadata: { name: 'phoebe-leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2024-01-01T00:00:00.000000Z', renewTime: '2024-01-01T00:00:00.000000Z', leaseTransitions: 0 } };
    const created = await h.send('POST', base, lease);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', spec: { holderIdentity: 'a' } });
    const conflict = await h.send('POST', base, lease);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409 });
    const rv = created.body.metadata.resourceVersion as string;
    const renewed = await h.send('PUT', `${base}/phoebe-leader`, { ...created.body, spec: { ...created.body.spec, renewTime: '2024-01-01T00:00:10.000000Z' } });
    expect(renewed.status).toBe(200);
    expect(renewed.body.metadata.resourceVersion).not.toBe(rv);
    const stolen = await h.send('PUT', `${base}/phoebe-leader`, { ...created.body, spec: { ...created.body.spec, holderIdentity: 'b' } });
    expect(stolen.status).toBe(409);
    expect(stolen.body.reason).toBe('Conflict');
    const blind = await h.send('PUT', `${base}/phoebe-leader`, { metadata: { name: 'phoebe-leader' }, spec: { holderIdentity: 'b' } });
    expect(blind.status).toBe(422);
    expect((await h.get(`${base}/phoebe-leader`)).body.spec.holderIdentity).toBe('a');
    expect((await h.send('PUT', `${base}/other`, { metadata: { name: 'other', resourceVersion: '5' } })).status).toBe(404);
    expect((await h.send('POST', base, { metadata: { name: 'bad' }, spec: { leaseDurationSeconds: 0 } })).status).toBe(422);
    expect((await h.get(base)).body.items).toHaveLength(1);
  });

  it('unknown Kubernetes paths answer 404 with a Status; watches resume from a resourceVersion and end with the server', async () => {
    const h = await open(makeCluster());
    const res = await h.get('/apis/batch/v1/namespaces/flink/jobs');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ kind: 'Status', code: 404 });
    const rv = (await h.get('/api/v1/namespaces/flink/events')).body.metadata.resourceVersion;
    await h.send('POST', '/api/v1/namespaces/flink/events', { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'p' } });
    const stream = await watch(`${h.url}/api/v1/namespaces/flink/events?watch=1&resourceVersion=${rv}`);
    const added = await stream.waitFor((e) => e.type === 'ADDED', 'replayed ADDED');
    expect(added.object.metadata.name).toBe('e1');
    await h.send('POST', '/api/v1/namespaces/flink/events', { metadata: { name: 'e2' }, involvedObject: { kind: 'Pod', name: 'p' } });
    await stream.waitFor((e) => e.object.metadata.name === 'e2', 'live ADDED');
    expect(h.cluster.kube.watcherCount).toBe(1);
    await h.close(); // closing again after the test does nothing
    expect(h.cluster.kube.watcherCount).toBe(0);
    stream.close();
  });
});
