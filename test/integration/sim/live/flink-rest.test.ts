import { beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATUS_CODE } from '../../../../src/observe/signals.js';
import { advanceToSecond, harnessPerTest, makeCluster, type Harness } from '../../../support/live-cluster-harness.js';
import { FlinkOpenApi } from './openapi.js';

let api: FlinkOpenApi;
beforeAll(() => {
  api = new FlinkOpenApi();
});

const open = harnessPerTest();

/** GET a path and check the body against the spec's response schema for `specPath`. */
async function getValid(h: Harness, path: string, specPath: string): Promise<any> {
  const res = await h.get(path);
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(api.checkResponse('get', specPath, '200', res.body), path).toEqual([]);
  return res.body;
}

async function sendValid(h: Harness, method: 'post' | 'put', path: string, specPath: string, status: number, body: unknown): Promise<any> {
  expect(api.checkRequest(method, specPath, body), `request to ${specPath}`).toEqual([]);
  const res = await h.send(method.toUpperCase(), path, body);
  expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
  expect(api.checkResponse(method, specPath, String(status), res.body), path).toEqual([]);
  return res.body;
}

async function stateOf(h: Harness, jobId: string): Promise<string> {
  return (await getValid(h, `/jobs/${jobId}/status`, '/jobs/{jobid}/status')).status;
}

async function savepoint(h: Harness, jobId: string, trigger: string): Promise<any> {
  return getValid(h, `/jobs/${jobId}/savepoints/${trigger}`, '/jobs/{jobid}/savepoints/{triggerid}');
}

describe('live twin Flink REST API', () => {
  it('answers every endpoint with bodies valid against the OpenAPI spec', async () => {
    const h = await open(makeCluster({ scheduler: 'adaptive' }));
    advanceToSecond(h.cluster, 30);
    const overview = await getValid(h, '/overview', '/overview');
    expect(overview).toMatchObject({ 'jobs-running': 1, taskmanagers: 10, 'slots-total': 10, 'slots-available': 0 });
    const config = await getValid(h, '/config', '/config');
    expect(config['flink-version']).toMatch(/^1\./);
    const jmConfig = await getValid(h, '/jobmanager/config', '/jobmanager/config');
    expect(jmConfig).toContainEqual({ key: 'jobmanager.scheduler', value: 'adaptive' });
    const jobs = await getValid(h, '/jobs/overview', '/jobs/overview');
    expect(jobs.jobs).toHaveLength(1);
    const jobId: string = jobs.jobs[0].jid;
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(jobs.jobs[0]).toMatchObject({ state: 'RUNNING', name: 'twin-test', 'end-time': -1, duration: 30_000 });
    await getValid(h, '/jobs', '/jobs');
    const details = await getValid(h, `/jobs/${jobId}`, '/jobs/{jobid}');
    expect(details).toMatchObject({ jid: jobId, state: 'RUNNING', 'job-type': 'STREAMING', schedulerType: 'Adaptive' });
    expect(details.vertices).toHaveLength(1);
    expect(details.vertices[0]).toMatchObject({ name: 'Source: events -> Process', parallelism: 10, status: 'RUNNING', maxParallelism: 24 });
    expect(details.vertices[0].metrics['write-records']).toBe(30 * 6000);
    expect(await stateOf(h, jobId)).toBe('RUNNING');
    const jars = await getValid(h, '/jars', '/jars');
    expect(jars.files).toHaveLength(1);
    expect(jars.address).toBe(h.url);
    const requirements = await getValid(h, `/jobs/${jobId}/resource-requirements`, '/jobs/{jobid}/resource-requirements');
    expect(requirements).toEqual({ [details.vertices[0].id]: { parallelism: { lowerBound: 1, upperBound: 10 } } });

    const plain = await sendValid(h, 'post', `/jobs/${jobId}/savepoints`, '/jobs/{jobid}/savepoints', 202, { 'cancel-job': false });
    expect((await savepoint(h, jobId, plain['request-id'])).status.id).toBe('IN_PROGRESS');
    advanceToSecond(h.cluster, 32);
    const done = await savepoint(h, jobId, plain['request-id']);
    expect(done).toEqual({ status: { id: 'COMPLETED' }, operation: { location: expect.stringMatching(/^file:\/flink-data\/savepoints\/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$/) } });
    expect(await stateOf(h, jobId)).toBe('RUNNING'); // a plain savepoint leaves the job running

    const stop = await sendValid(h, 'post', `/jobs/${jobId}/stop`, '/jobs/{jobid}/stop', 202, { drain: false, targetDirectory: 'file:/tmp/sp' });
    advanceToSecond(h.cluster, 34);
    const stopped = await savepoint(h, jobId, stop['request-id']);
    expect(stopped.operation.location).toMatch(/^file:\/tmp\/sp\/savepoint-/);
    expect(await stateOf(h, jobId)).toBe('FINISHED');
    const run = await sendValid(h, 'post', `/jars/${jars.files[0].id}/run`, '/jars/{jarid}/run', 200, { parallelism: 12, savepointPath: stopped.operation.location });
    expect(run.jobid).not.toBe(jobId);
    await sendValid(h, 'put', `/jobs/${run.jobid}/resource-requirements`, '/jobs/{jobid}/resource-requirements', 200,
      { [details.vertices[0].id]: { parallelism: { lowerBound: 1, upperBound: 12 } } });
    const both = await getValid(h, '/jobs/overview', '/jobs/overview');
    expect(both.jobs.map((j: { jid: string; state: string }) => [j.jid, j.state])).toEqual([[run.jobid, 'INITIALIZING'], [jobId, 'FINISHED']]);
    await getValid(h, `/jobs/${jobId}`, '/jobs/{jobid}');
    await getValid(h, `/jobs/${run.jobid}`, '/jobs/{jobid}');
    await getValid(h, '/overview', '/overview');
  });

  it('stop-with-savepoint → jar run: the job is down for exactly the rescale downtime from the stop and runs at the new parallelism', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 100);
    const jobId = cluster.currentJob.id;
    const trigger = (await sendValid(h, 'post', `/jobs/${jobId}/stop`, '/jobs/{jobid}/stop', 202, {}))['request-id'];
    // The savepoint takes 2 s (simulated); meanwhile the job is still RUNNING, then FINISHED.
    expect((await savepoint(h, jobId, trigger)).status.id).toBe('IN_PROGRESS');
    expect(await stateOf(h, jobId)).toBe('RUNNING');
    advanceToSecond(cluster, 101);
    expect((await savepoint(h, jobId, trigger)).status.id).toBe('IN_PROGRESS');
    advanceToSecond(cluster, 102);
    const result = await savepoint(h, jobId, trigger);
    expect(result.status.id).toBe('COMPLETED');
    expect(await stateOf(h, jobId)).toBe('FINISHED');
    // While FINISHED, nothing runs: the lag grows by the arrivals.
    advanceToSecond(cluster, 102);
    expect(cluster.twin.record.lag[101]).toBe(2 * 6000);

    const jar = (await h.get('/jars')).body.files[0].id as string;
    const run = await sendValid(h, 'post', `/jars/${jar}/run`, '/jars/{jarid}/run', 200, { parallelism: 14, savepointPath: result.operation.location, allowNonRestoredState: false });
    const newId: string = run.jobid;
    expect(newId).toMatch(/^[0-9a-f]{32}$/);
    expect(newId).not.toBe(jobId);
    expect(await stateOf(h, newId)).toBe('INITIALIZING');
    advanceToSecond(cluster, 110);
    expect(await stateOf(h, newId)).toBe('INITIALIZING');
    advanceToSecond(cluster, 111);
    expect(await stateOf(h, newId)).toBe('RUNNING');
    const details = (await h.get(`/jobs/${newId}`)).body;
    expect(details.vertices[0].parallelism).toBe(14);

    const record = cluster.twin.record;
    for (let s = 100; s < 110; s++) {
      expect(record.status[s], `second ${s}`).toBe(JOB_STATUS_CODE.RESCALING);
      expect(record.throughput[s]).toBe(0);
    }
    expect(record.status[110]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(record.parallelism[110]).toBe(14);
    expect(record.lag[109]).toBe(10 * 6000); // no rollback, 10 s of arrivals
    expect(record.rolledBack.slice(95, 120).every((v) => v === 0)).toBe(true);
    expect(cluster.twin.rescalesCompleted).toBe(1);
    // uptime counts from the second the new job runs.
    advanceToSecond(cluster, 115);
    expect(cluster.uptimeMs(cluster.currentJob)).toBe(5000);
  });

  it('a late resubmission still takes the downtime minus the savepoint time from the submission', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 200);
    const jobId = cluster.currentJob.id;
    const trigger = (await h.send('POST', `/jobs/${jobId}/stop`, {})).body['request-id'];
    advanceToSecond(cluster, 215); // stop + D = 210 has passed
    const location = (await savepoint(h, jobId, trigger)).operation.location;
    const run = (await h.send('POST', `/jars/${cluster.jarId}/run`, { savepointPath: location })).body;
    advanceToSecond(cluster, 222);
    expect(await stateOf(h, run.jobid)).toBe('INITIALIZING');
    advanceToSecond(cluster, 224);
    expect(await stateOf(h, run.jobid)).toBe('RUNNING');
    expect(cluster.twin.record.status[222]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(cluster.twin.record.status[223]).toBe(JOB_STATUS_CODE.RUNNING); // 215 + (10 − 2)
    expect(cluster.twin.record.parallelism[223]).toBe(10); // no parallelism given: the previous one
  });

  it('in-place rescale through resource requirements (adaptive scheduler): same job id, down for the rescale downtime', async () => {
    const h = await open(makeCluster({ scheduler: 'adaptive', overrides: { failures: [100] } }));
    const cluster = h.cluster;
    advanceToSecond(cluster, 50);
    const jobId = cluster.currentJob.id;
    const vertex = cluster.vertexId;
    await sendValid(h, 'put', `/jobs/${jobId}/resource-requirements`, '/jobs/{jobid}/resource-requirements', 200,
      { [vertex]: { parallelism: { lowerBound: 1, upperBound: 15 } } });
    const requirements = await getValid(h, `/jobs/${jobId}/resource-requirements`, '/jobs/{jobid}/resource-requirements');
    expect(requirements[vertex].parallelism.upperBound).toBe(15);
    advanceToSecond(cluster, 51);
    expect(await stateOf(h, jobId)).toBe('RESTARTING');
    advanceToSecond(cluster, 60);
    expect(await stateOf(h, jobId)).toBe('RESTARTING');
    advanceToSecond(cluster, 61);
    expect(await stateOf(h, jobId)).toBe('RUNNING');
    expect(cluster.currentJob.id).toBe(jobId);
    expect((await h.get(`/jobs/${jobId}`)).body.vertices[0].parallelism).toBe(15);
    const record = cluster.twin.record;
    expect(record.status[49]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(record.status[50]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(record.status[59]).toBe(JOB_STATUS_CODE.RESCALING);
    expect(record.status[60]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(record.parallelism[60]).toBe(15);

    // New requirements while the job restarts after a failure apply to that restart.
    advanceToSecond(cluster, 101);
    expect(await stateOf(h, jobId)).toBe('RESTARTING');
    const put = await h.send('PUT', `/jobs/${jobId}/resource-requirements`, { [vertex]: { parallelism: { lowerBound: 1, upperBound: 12 } } });
    expect(put.status).toBe(200);
    advanceToSecond(cluster, 131);
    expect(record.status[129]).toBe(JOB_STATUS_CODE.RESTARTING);
    expect(record.status[130]).toBe(JOB_STATUS_CODE.RUNNING);
    expect(record.parallelism[130]).toBe(12);
    expect(cluster.restartsOf(cluster.currentJob)).toBe(1);
  });

  it('as Flink 1.20 (flinkVersion), GET /jobs/:jobid has no schedulerType and is still valid against the spec', async () => {
    const h = await open(makeCluster({ scheduler: 'adaptive', flinkVersion: '1.20' }));
    advanceToSecond(h.cluster, 5);
    const details = await getValid(h, `/jobs/${h.cluster.currentJob.id}`, '/jobs/{jobid}');
    expect(details).toMatchObject({ state: 'RUNNING' });
    expect(details).not.toHaveProperty('schedulerType');
  });

  it('refuses resource requirements under the default scheduler, as Flink does', async () => {
    const h = await open(makeCluster());
    const jobId = h.cluster.currentJob.id;
    const get = await h.get(`/jobs/${jobId}/resource-requirements`);
    expect(get.status).toBe(500);
    expect(get.body.errors[0]).toMatch(/AdaptiveScheduler/);
    const config = (await h.get('/jobmanager/config')).body as { key: string; value: string }[];
    expect(config.find((e) => e.key === 'jobmanager.scheduler')?.value).toBe('default');
  });

  it('answers errors as Flink does: 404 for an unknown job, 400 for a malformed id, {errors: [...]} bodies', async () => {
    const h = await open(makeCluster({ scheduler: 'adaptive' }));
    const unknown = 'ffffffffffffffffffffffffffffffff';
    for (const path of [`/jobs/${unknown}`, `/jobs/${unknown}/status`, `/jobs/${unknown}/resource-requirements`, `/jobs/${unknown}/savepoints/${unknown}`]) {
      const res = await h.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body).toEqual({ errors: [expect.any(String)] });
    }
    for (const path of [`/jobs/${unknown}/stop`, `/jobs/${unknown}/savepoints`]) {
      const res = await h.send('POST', path, {});
      expect(res.status, path).toBe(404);
      expect(res.body.errors).toHaveLength(1);
    }
    expect((await h.get('/jobs/not-a-job-id')).status).toBe(400);
    const jobId = h.cluster.currentJob.id;
    expect((await h.get(`/jobs/${jobId}/savepoints/${unknown}`)).status).toBe(404);
    expect((await h.get('/no/such/path')).body).toEqual({ errors: ['Not found: /no/such/path'] });
    const badJson = await fetch(`${h.url}/jobs/${jobId}/stop`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).errors).toHaveLength(1);
    const wrongType = await h.send('POST', `/jobs/${jobId}/stop`, { targetDirectory: 5 });
    expect(wrongType.status).toBe(400);
    // The twin runs one job at a time; unknown jars and out-of-range parallelism are refused.
    const busy = await h.send('POST', `/jars/${h.cluster.jarId}/run`, { parallelism: 4 });
    expect(busy.status).toBe(409);
    expect((await h.send('POST', '/jars/nope.jar/run', {})).status).toBe(400);
    const range = await h.send('PUT', `/jobs/${jobId}/resource-requirements`, { [h.cluster.vertexId]: { parallelism: { lowerBound: 1, upperBound: 99 } } });
    expect(range.status).toBe(400);
    const vertex = await h.send('PUT', `/jobs/${jobId}/resource-requirements`, { [unknown]: { parallelism: { lowerBound: 1, upperBound: 4 } } });
    expect(vertex.status).toBe(400);
  });

  it('a stop while the job is down is accepted and fails like Flink\'s ("Not all required tasks are currently running")', async () => {
    const h = await open(makeCluster({ overrides: { failures: [40] } }));
    const cluster = h.cluster;
    advanceToSecond(cluster, 45);
    const jobId = cluster.currentJob.id;
    expect(await stateOf(h, jobId)).toBe('RESTARTING');
    const trigger = (await sendValid(h, 'post', `/jobs/${jobId}/stop`, '/jobs/{jobid}/stop', 202, {}))['request-id'];
    const result = await savepoint(h, jobId, trigger);
    expect(result.status.id).toBe('COMPLETED');
    expect(result.operation['failure-cause']['stack-trace']).toMatch(/Not all required tasks are currently running/);
    expect(result.operation.location).toBeUndefined();
    advanceToSecond(cluster, 71);
    expect(await stateOf(h, jobId)).toBe('RUNNING'); // the failed stop changed nothing
    // A repeated trigger id is the same operation.
    const again = (await h.send('POST', `/jobs/${jobId}/stop`, { triggerId: trigger })).body['request-id'];
    expect(again).toBe(trigger);
    expect((await savepoint(h, jobId, trigger)).operation['failure-cause']).toBeDefined();
  });

  it('scenario failures while no job runs are skipped; a failure while the resubmitted job restores restarts it with the restart downtime', async () => {
    const h = await open(makeCluster({ overrides: { failures: [105, 130] } }));
    const cluster = h.cluster;
    advanceToSecond(cluster, 100);
    const first = cluster.currentJob.id;
    const trigger = (await h.send('POST', `/jobs/${first}/stop`, {})).body['request-id'];
    advanceToSecond(cluster, 120);
    expect(cluster.twin.failuresSkipped).toBe(1);
    expect(cluster.twin.record.numRestarts[119]).toBe(0);
    const location = (await savepoint(h, first, trigger)).operation.location;
    const run = (await h.send('POST', `/jars/${cluster.jarId}/run`, { parallelism: 8, savepointPath: location })).body;
    // RUNNING would be at max(110, 120 + 8) = 128; then the failure at 130 restarts it (30 s).
    advanceToSecond(cluster, 131);
    expect(await stateOf(h, run.jobid)).toBe('RESTARTING');
    expect(cluster.restartsOf(cluster.currentJob)).toBe(1);
    advanceToSecond(cluster, 161);
    expect(await stateOf(h, run.jobid)).toBe('RUNNING');
    expect(cluster.twin.record.parallelism[160]).toBe(8);
  });

  it('a savepoint path it never completed makes the submitted job FAIL; a cancel-job savepoint ends CANCELED', async () => {
    const h = await open(makeCluster());
    const cluster = h.cluster;
    advanceToSecond(cluster, 10);
    const first = cluster.currentJob.id;
    const cancel = await sendValid(h, 'post', `/jobs/${first}/savepoints`, '/jobs/{jobid}/savepoints', 202, { 'cancel-job': true });
    advanceToSecond(cluster, 12);
    expect(await stateOf(h, first)).toBe('CANCELED');
    const bad = await h.send('POST', `/jars/${cluster.jarId}/run`, { savepointPath: 'file:/nowhere/savepoint-000000-000000000000' });
    expect(bad.status).toBe(200);
    expect(await stateOf(h, bad.body.jobid)).toBe('FAILED');
    const location = (await savepoint(h, first, cancel['request-id'])).operation.location;
    const good = await h.send('POST', `/jars/${cluster.jarId}/run?parallelism=6&savepointPath=${encodeURIComponent(location)}`);
    expect(good.status).toBe(200);
    advanceToSecond(cluster, 21);
    expect(await stateOf(h, good.body.jobid)).toBe('RUNNING');
    expect(cluster.twin.record.parallelism[20]).toBe(6);
    const overview = (await h.get('/overview')).body;
    expect(overview).toMatchObject({ 'jobs-running': 1, 'jobs-cancelled': 1, 'jobs-failed': 1 });
  });
});
