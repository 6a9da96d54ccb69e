import { afterEach, describe, expect, it } from 'vitest';
import { FlinkRestActuator, interpretSavepoint, jobParallelism, type FlinkRestActuatorOptions } from '../../../src/act/flink-rest/actuator.js';
import type { RescaleEventInput, RescaleEventSink } from '../../../src/act/kubernetes/events.js';
import { FakeFlink, SAVEPOINT_DIR, type FakeFlinkScript } from '../fake-flink.js';
import { FakeHttpServer, isCancelRequest, unusedPort } from '../fake-http.js';
import { RecordingLogger } from '../recording-logger.js';

const JAR_ID = 'd9d2ab36-6c4c-4bd7-8d3c-6b1bf5c0f3a1_TopSpeedWindowing.jar';
const ENTRY = 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing';

class RecordingSink implements RescaleEventSink {
  readonly events: RescaleEventInput[] = [];
  async recordRescale(input: RescaleEventInput): Promise<void> {
    this.events.push(input);
  }
}


const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function setup(script: FakeFlinkScript = {}, options: Partial<FlinkRestActuatorOptions> = {}) {
  const flink = new FakeFlink(script);
  open.push(flink);
  const url = await flink.start();
  const sink = new RecordingSink();
  const logger = new RecordingLogger();
  const actuator = new FlinkRestActuator({
    restUrl: url,
    jobId: flink.initialJobId,
    jarId: JAR_ID,
    entryClass: ENTRY,
    programArgs: ['--input', 'cars.csv'],
    savepointDirectory: SAVEPOINT_DIR,
    requestTimeoutMs: 2_000,
    savepointTimeoutMs: 2_000,
    runningTimeoutMs: 2_000,
    pollIntervalMs: 5,
    events: { sink, target: { apiVersion: 'v1', kind: 'ConfigMap', name: 'cars-job', namespace: 'flink' } },
    logger,
    ...options,
  });
  return { flink, actuator, sink, logger, url };
}

function expectNoCancel(http: FakeHttpServer): void {
  expect(http.requests.filter(isCancelRequest)).toEqual([]);
  expect(http.requests.some((r) => r.method === 'PATCH' || r.method === 'DELETE')).toBe(false);
}

function sequence(http: FakeHttpServer): string[] {
  const seen: string[] = [];
  for (const r of http.requests) {
    const line = `${r.method} ${r.path.replace(/[0-9a-f]{32}/g, '{id}')}`;
    if (seen[seen.length - 1] !== line) seen.push(line);
  }
  return seen;
}

describe('FlinkRestActuator: stop-with-savepoint and resubmit (default scheduler)', () => {
  it('stops with a savepoint, polls IN_PROGRESS → COMPLETED, resubmits at p and waits for RUNNING at p', async () => {
    const { flink, actuator, sink } = await setup({ parallelism: 2, savepointInProgressPolls: 2, startPolls: 3 });
    expect(await actuator.currentParallelism()).toBe(2);

    const result = await actuator.rescale({ parallelism: 4, reason: 'forecast peak above capacity at 2' });

    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(4);
    expect(result.seconds).toBeGreaterThanOrEqual(0);
    expect(result.detail).toContain(SAVEPOINT_DIR);
    expect(sequence(flink.http)).toEqual([
      'GET /jobs/{id}',
      'GET /jobmanager/config',
      'GET /jars',
      'POST /jobs/{id}/stop',
      'GET /jobs/{id}/savepoints/{id}',
      'GET /jobs/{id}', // the old job has terminated
      'GET /jobs/overview', // and no other job of that name was started meanwhile
      `POST /jars/${JAR_ID}/run`,
      'GET /jobs/{id}',
    ]);

    const [stop] = flink.http.find('POST', /\/stop$/);
    expect(stop!.path).toBe(`/jobs/${flink.initialJobId}/stop`);
    expect(stop!.headers['content-type']).toBe('application/json');
    expect(stop!.json).toEqual({ drain: false, targetDirectory: SAVEPOINT_DIR, triggerId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(flink.http.find('GET', /\/savepoints\//)).toHaveLength(3);

    const [run] = flink.http.find('POST', /\/run$/);
    const location = (run!.json as { savepointPath: string }).savepointPath;
    expect(location.startsWith(`${SAVEPOINT_DIR}/savepoint-`)).toBe(true);
    expect(run!.json).toEqual({
      jobId: expect.stringMatching(/^[0-9a-f]{32}$/),
      savepointPath: location,
      parallelism: 4,
      allowNonRestoredState: false,
      entryClass: ENTRY,
      programArgsList: ['--input', 'cars.csv'],
    });

    // The job id changed and is tracked.
    expect(actuator.jobId).not.toBe(flink.initialJobId);
    expect(actuator.jobId).toBe((run!.json as { jobId: string }).jobId);
    expect(flink.jobs.get(actuator.jobId!)?.state).toBe('RUNNING');
    expect(await actuator.currentParallelism()).toBe(4);
    expectNoCancel(flink.http);

    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ mode: 'flink-rest', from: 2, result: { outcome: 'completed' }, target: { kind: 'ConfigMap', name: 'cars-job' } });
  });

  it('finds the jar by file name (newest upload) and the job by name', async () => {
    const jars = [
      { id: 'old_TopSpeedWindowing.jar', name: 'TopSpeedWindowing.jar', uploaded: 1000 },
      { id: 'new_TopSpeedWindowing.jar', name: 'TopSpeedWindowing.jar', uploaded: 2000 },
      { id: 'x_Other.jar', name: 'Other.jar', uploaded: 3000 },
    ];
    const { flink, actuator } = await setup({ jars }, { jobId: undefined, jobName: 'CarTopSpeedWindowingExample', jarId: undefined, jarName: 'TopSpeedWindowing.jar' });
    expect(actuator.jobId).toBeUndefined();
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(flink.http.find('POST', /\/run$/).map((r) => r.path)).toEqual(['/jars/new_TopSpeedWindowing.jar/run']);
    // Once to find the job by name, once before the resubmission (no other job of that name runs).
    expect(flink.http.find('GET', /^\/jobs\/overview$/)).toHaveLength(2);
    expectNoCancel(flink.http);
  });

  it('a failed savepoint (COMPLETED with failure-cause) leaves the job running and submits nothing', async () => {
    const { flink, actuator, sink } = await setup({ savepoint: 'fail', savepointInProgressPolls: 1 });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.parallelism).toBe(2);
    expect(result.detail).toContain('savepoint failed');
    expect(result.detail).toContain('Checkpoint Coordinator is suspended');
    expect(result.detail).toContain('is RUNNING');
    expect(flink.http.find('POST', /\/run$/)).toHaveLength(0);
    expect(actuator.jobId).toBe(flink.initialJobId);
    expect(flink.jobs.get(flink.initialJobId)!.state).toBe('RUNNING');
    expect(actuator.pendingStop).toBeUndefined();
    expectNoCancel(flink.http);
    expect(sink.events[0]?.result.outcome).toBe('failed');
  });

  it('a savepoint with status FAILED is a failure too', async () => {
    const { flink, actuator } = await setup({ savepoint: 'fail-status' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('savepoint failed');
    expect(flink.http.find('POST', /\/run$/)).toHaveLength(0);
    expectNoCancel(flink.http);
  });

  it('a savepoint that does not complete in time fails without cancelling; the next rescale resumes from it', async () => {
    const { flink, actuator } = await setup({ savepoint: 'hang' }, { savepointTimeoutMs: 150 });
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/savepoint not completed within 0\.2 s/);
    expect(result.detail).toContain('is RUNNING');
    expect(actuator.pendingStop?.jobId).toBe(flink.initialJobId);
    expect(flink.http.find('POST', /\/run$/)).toHaveLength(0);
    expectNoCancel(flink.http);

    // While the stop is still in progress, a second rescale does not trigger another one.
    const again = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(again.outcome).toBe('failed');
    expect(again.detail).toContain('still in progress');
    expect(flink.http.find('POST', /\/stop$/)).toHaveLength(1);

    // The stop completes later: the job is stopped; the next rescale resubmits from that savepoint.
    flink.script.savepoint = 'complete';
    for (const t of (flink as unknown as { triggers: Map<string, { outcome: string; polls: number }> }).triggers.values()) {
      t.outcome = 'complete';
      t.polls = 0;
    }
    const resumed = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(resumed.outcome).toBe('completed');
    expect(resumed.parallelism).toBe(6);
    expect(flink.http.find('POST', /\/stop$/)).toHaveLength(1);
    expect(flink.http.find('POST', /\/run$/)).toHaveLength(1);
    expect(actuator.pendingStop).toBeUndefined();
    expect(actuator.jobId).not.toBe(flink.initialJobId);
    expectNoCancel(flink.http);
  });

  it('a rejected submission is restored at the old parallelism from the same savepoint', async () => {
    const { flink, actuator, sink } = await setup({ submit: 'fail-first' });
    const result = await actuator.rescale({ parallelism: 8, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.parallelism).toBe(2);
    expect(result.detail).toContain('resubmission at 8 failed');
    expect(result.detail).toContain('ProgramInvocationException');
    expect(result.detail).toContain('restored from savepoint');
    expect(result.detail).not.toMatch(/eyJ|c2lnbmF0dXJl/); // the server's error had a bearer token in it
    const runs = flink.http.find('POST', /\/run$/).map((r) => (r.json as { parallelism: number; savepointPath: string }));
    expect(runs.map((r) => r.parallelism)).toEqual([8, 2]);
    expect(runs[0]!.savepointPath).toBe(runs[1]!.savepointPath);
    expect(flink.jobs.get(actuator.jobId!)?.state).toBe('RUNNING');
    expect(await actuator.currentParallelism()).toBe(2);
    expectNoCancel(flink.http);
    expect(sink.events[0]?.result.outcome).toBe('failed');
  });

  it('when resubmission and restore both fail, it says the job is not running and where the savepoint is', async () => {
    const { flink, actuator } = await setup({ submit: 'fail' });
    const result = await actuator.rescale({ parallelism: 8, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('NOT running');
    expect(result.detail).toContain(`savepoint ${SAVEPOINT_DIR}/savepoint-`);
    expect(result.detail).not.toMatch(/eyJ/);
    expectNoCancel(flink.http);
  });

  it('without restore, a rejected submission reports the stopped job and its savepoint', async () => {
    const { flink, actuator } = await setup({ submit: 'fail' }, { restoreOnSubmitFailure: false });
    const result = await actuator.rescale({ parallelism: 8, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/stopped with savepoint .*resubmission at 8 failed.*NOT running/);
    expect(flink.http.find('POST', /\/run$/)).toHaveLength(1);
  });

  it('a submission answered without a jobid is a failure', async () => {
    const { actuator } = await setup({ submit: 'no-jobid' }, { restoreOnSubmitFailure: false });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('no jobid');
  });

  it('a stop whose answer is late is followed through its own trigger id', async () => {
    const { flink, actuator } = await setup({ stopAnswer: 'slow', slowMs: 1_500 }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const stops = flink.http.find('POST', /\/stop$/);
    expect(stops).toHaveLength(1);
    const triggerId = (stops[0]!.json as { triggerId: string }).triggerId;
    expect(flink.http.find('GET', /\/savepoints\//).every((r) => r.path.endsWith(triggerId))).toBe(true);
    expectNoCancel(flink.http);
  });

  it('a stop that was lost is sent once more with the same trigger id', async () => {
    const { flink, actuator } = await setup({ stopAnswer: 'lost-once' }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const stops = flink.http.find('POST', /\/stop$/).map((r) => (r.json as { triggerId: string }).triggerId);
    expect(stops).toHaveLength(2);
    expect(stops[0]).toBe(stops[1]);
    expectNoCancel(flink.http);
  });

  it('a submission whose answer is late is found by the job id phoebe chose', async () => {
    const { flink, actuator } = await setup({ runAnswer: 'slow', slowMs: 1_500 }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const runs = flink.http.find('POST', /\/run$/);
    expect(runs).toHaveLength(1);
    expect(actuator.jobId).toBe((runs[0]!.json as { jobId: string }).jobId);
    expect(flink.jobs.size).toBe(2);
  });

  it('a submission that was lost is sent once more with the same job id', async () => {
    const { flink, actuator } = await setup({ runAnswer: 'lost-once' }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const ids = flink.http.find('POST', /\/run$/).map((r) => (r.json as { jobId: string }).jobId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(flink.jobs.size).toBe(2);
  });

  it('an unconfirmed submission is tracked and nothing more is submitted (the job must not run twice)', async () => {
    const { flink, actuator } = await setup({ runAnswer: 'lost-always' }, { requestTimeoutMs: 500 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/unanswered \(request timed out\) and not confirmed; tracking job id [0-9a-f]{32}/);
    const ids = flink.http.find('POST', /\/run$/).map((r) => (r.json as { jobId: string }).jobId);
    expect(new Set(ids).size).toBe(1); // no restore under another id
    expect(actuator.jobId).toBe(ids[0]);
    expectNoCancel(flink.http);
  });

  it('a resubmitted job that fails is reported, with its id tracked', async () => {
    const { flink, actuator } = await setup({ newJobFails: true });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/as job [0-9a-f]{32}, but it ended \(job FAILED/);
    expect(actuator.jobId).not.toBe(flink.initialJobId);
    expectNoCancel(flink.http);
  });

  it('a resubmitted job that does not reach RUNNING in time fails, bounded', async () => {
    const { actuator } = await setup({ startPolls: 10_000 }, { runningTimeoutMs: 120 });
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/not running at 3 within 0\.1 s/);
  });

  it('never stops a job whose jar cannot be found', async () => {
    const { flink, actuator } = await setup({}, { jarId: 'missing.jar' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('missing.jar');
    expect(result.detail).toContain('left running');
    expect(flink.http.find('POST', /\/stop$/)).toHaveLength(0);
  });

  it('does nothing for a job that is not RUNNING', async () => {
    const { flink, actuator } = await setup();
    flink.jobs.get(flink.initialJobId)!.state = 'RESTARTING';
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('RESTARTING');
    expect(flink.http.find('POST', /./)).toHaveLength(0);
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('skips when the job already runs at p, and records no event', async () => {
    const { flink, actuator, sink } = await setup({ parallelism: 4 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('skipped');
    expect(flink.http.find('POST', /./)).toHaveLength(0);
    expect(sink.events).toHaveLength(0);
  });

  it('rejects an invalid parallelism without calling Flink', async () => {
    const { flink, actuator } = await setup();
    const result = await actuator.rescale({ parallelism: 0, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(flink.http.requests).toHaveLength(0);
  });

  it('refuses a second rescale while one is running', async () => {
    const { actuator } = await setup({ savepointInProgressPolls: 20 });
    const first = actuator.rescale({ parallelism: 3, reason: 'r' });
    const second = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(second.outcome).toBe('failed');
    expect(second.detail).toContain('in progress');
    expect((await first).outcome).toBe('completed');
  });
});

describe('FlinkRestActuator: adaptive scheduler, in place', () => {
  it('PUTs resource requirements with upper bound p for every vertex and waits until they run at p', async () => {
    const { flink, actuator, sink } = await setup({ scheduler: 'adaptive', inPlacePolls: 3 });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(6);
    expect(result.detail).toContain('in place');
    expect(sequence(flink.http)).toEqual(['GET /jobs/{id}', 'GET /jobmanager/config', 'GET /jobs/{id}/resource-requirements', 'PUT /jobs/{id}/resource-requirements', 'GET /jobs/{id}']);
    const [put] = flink.http.find('PUT', /resource-requirements$/);
    expect(put!.headers['content-type']).toBe('application/json');
    expect(put!.json).toEqual({
      cbc357ccb763df2852fee8c4fc7d55f2: { parallelism: { lowerBound: 1, upperBound: 6 } },
      '90bea66de1c231edf33913ecd54406c1': { parallelism: { lowerBound: 1, upperBound: 6 } },
    });
    expect(flink.http.find('POST', /./)).toHaveLength(0);
    expect(actuator.jobId).toBe(flink.initialJobId);
    expectNoCancel(flink.http);
    expect(sink.events[0]).toMatchObject({ from: 2, result: { outcome: 'completed', parallelism: 6 } });

    // The scheduler setting is read once.
    await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(flink.http.find('GET', /^\/jobmanager\/config$/)).toHaveLength(1);
  });

  it('caps the upper bound at a vertex max parallelism', async () => {
    const { flink, actuator } = await setup({ scheduler: 'adaptive', maxParallelism: 4 });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(4);
    expect(result.detail).toContain('capped');
    const [put] = flink.http.find('PUT', /resource-requirements$/);
    expect(Object.values(put!.json as Record<string, { parallelism: { upperBound: number } }>).map((r) => r.parallelism.upperBound)).toEqual([4, 4]);
  });

  it('fails, bounded, when the vertices do not reach p (not enough slots), without stopping the job', async () => {
    const { flink, actuator } = await setup({ scheduler: 'adaptive', inPlaceStuck: true }, { runningTimeoutMs: 100 });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/upper bound set to 6.*vertex parallelism \[2,2\]/);
    expect(flink.http.find('POST', /./)).toHaveLength(0);
    expectNoCancel(flink.http);
  });

  it('inPlace "never" uses the savepoint path on an adaptive cluster', async () => {
    const { flink, actuator } = await setup({ scheduler: 'adaptive' }, { inPlace: 'never' });
    expect((await actuator.rescale({ parallelism: 3, reason: 'r' })).outcome).toBe('completed');
    expect(flink.http.find('PUT', /./)).toHaveLength(0);
    expect(flink.http.find('GET', /^\/jobmanager\/config$/)).toHaveLength(0);
  });

  it('refuses reactive mode and points to the taskmanager-deployment actuator', async () => {
    const { flink, actuator } = await setup({ scheduler: 'adaptive', schedulerMode: 'reactive' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('taskmanager-deployment');
    expect(flink.http.find('PUT', /./)).toHaveLength(0);
    expect(flink.http.find('POST', /./)).toHaveLength(0);
  });
});

describe('FlinkRestActuator: unreachable or slow REST endpoint', () => {
  it('REST unreachable: outcome failed with a plain reason, and currentParallelism is undefined', async () => {
    const port = await unusedPort();
    const actuator = new FlinkRestActuator({ restUrl: `http://127.0.0.1:${port}`, jobId: 'a'.repeat(32), jarId: JAR_ID, requestTimeoutMs: 1_000, logger: new RecordingLogger() });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('connection refused');
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('every request has a timeout', async () => {
    const http = new FakeHttpServer();
    open.push(http);
    http.on('GET', /./, () => undefined); // never answers
    const url = await http.start();
    const actuator = new FlinkRestActuator({ restUrl: url, jobId: 'b'.repeat(32), jarId: JAR_ID, requestTimeoutMs: 150, logger: new RecordingLogger() });
    const started = Date.now();
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toBe('request timed out');
  });

  it('credentials in the URL become Basic auth and never appear in details or logs', async () => {
    const http = new FakeHttpServer();
    open.push(http);
    http.on('GET', /./, (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh. token=s3cr3t-token-value'] }));
    });
    const url = await http.start();
    const logger = new RecordingLogger();
    const actuator = new FlinkRestActuator({
      restUrl: url.replace('http://', 'http://phoebe:hunter2-password@'),
      restHeaders: { 'X-Api-Key': 'proxy-key-123456' },
      jobId: 'c'.repeat(32),
      jarId: JAR_ID,
      logger,
    });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('HTTP 503');
    expect(http.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('phoebe:hunter2-password').toString('base64')}`);
    expect(http.requests[0]!.headers['x-api-key']).toBe('proxy-key-123456');
    const everything = `${result.detail}\n${logger.lines.join('\n')}`;
    for (const secret of ['hunter2', 'proxy-key-123456', 's3cr3t-token-value', Buffer.from('phoebe:hunter2-password').toString('base64')]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('flink-rest helpers', () => {
  it('jobParallelism is the largest vertex parallelism', () => {
    expect(jobParallelism({ vertices: [] })).toBeUndefined();
    expect(jobParallelism({ vertices: [{ id: 'a', parallelism: 1 }, { id: 'b', parallelism: 4 }] })).toBe(4);
  });

  it('interpretSavepoint follows AsynchronousOperationResult', () => {
    expect(interpretSavepoint({ status: { id: 'IN_PROGRESS' }, operation: null })).toEqual({ kind: 'in-progress' });
    expect(interpretSavepoint({ status: { id: 'COMPLETED' }, operation: { location: 's3://x/sp-1' } })).toEqual({ kind: 'completed', location: 's3://x/sp-1' });
    expect(interpretSavepoint({ status: { id: 'COMPLETED' }, operation: { 'failure-cause': { class: 'java.lang.Exception' } } })).toEqual({ kind: 'failed', reason: 'java.lang.Exception' });
    expect(interpretSavepoint({ status: { id: 'COMPLETED' }, operation: {} }).kind).toBe('failed');
    expect(interpretSavepoint({ status: { id: 'FAILED' } }).kind).toBe('failed');
  });

  it('constructor rejects incomplete options', () => {
    expect(() => new FlinkRestActuator({ restUrl: 'http://127.0.0.1:1', jarId: 'j' })).toThrow(/jobId or jobName/);
    expect(() => new FlinkRestActuator({ restUrl: 'http://127.0.0.1:1', jobId: 'nothex', jarId: 'j' })).toThrow(/32 hex/);
    expect(() => new FlinkRestActuator({ restUrl: 'http://127.0.0.1:1', jobId: 'a'.repeat(32) })).toThrow(/jarId or jarName/);
    expect(() => new FlinkRestActuator({ restUrl: 'http://127.0.0.1:1', jobId: 'a'.repeat(32), inPlace: 'always' })).not.toThrow();
  });
});
