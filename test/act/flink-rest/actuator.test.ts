/**
 * The flink-rest actuator against the live twin on fake time (test/support/live-twin.ts): the
 * twin's JobManager answers as Flink's would, its fault injector plays savepoints that fail or
 * take long, refused or lost requests and jobs that fail; every request is recorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FlinkRestActuator, interpretSavepoint, jobParallelism, type FlinkRestActuatorOptions } from '../../../src/act/flink-rest/actuator.js';
import type { RescaleEventInput, RescaleEventSink } from '../../../src/act/kubernetes/events.js';
import { JAR_ENTRY_CLASS, JAR_NAME } from '../../../src/sim/live/live-cluster.js';
import { LiveTwin, SAVEPOINT_DIR, unusedPort, type TwinOptions } from '../../support/live-twin.js';
import { RecordingLogger } from '../../support/recording-logger.js';

class RecordingSink implements RescaleEventSink {
  readonly events: RescaleEventInput[] = [];
  async recordRescale(input: RescaleEventInput): Promise<void> {
    this.events.push(input);
  }
}

const open: LiveTwin[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

async function setup(twinOptions: TwinOptions = {}, options: Partial<FlinkRestActuatorOptions> = {}) {
  const twin = await LiveTwin.start(twinOptions);
  open.push(twin);
  const initialJobId = twin.cluster.currentJob.id;
  const sink = new RecordingSink();
  const logger = new RecordingLogger();
  const actuator = new FlinkRestActuator({
    restUrl: twin.url,
    jobId: initialJobId,
    jarId: twin.cluster.jarId,
    entryClass: JAR_ENTRY_CLASS,
    programArgs: ['--input', 'cars.csv'],
    savepointDirectory: SAVEPOINT_DIR,
    requestTimeoutMs: 2_000,
    savepointTimeoutMs: 60_000,
    runningTimeoutMs: 60_000,
    events: { sink, target: { apiVersion: 'v1', kind: 'ConfigMap', name: 'cars-job', namespace: 'flink' } },
    logger,
    clock: twin.clock,
    ...options,
  });
  return { twin, actuator, sink, logger, initialJobId };
}

function expectNoCancel(twin: LiveTwin): void {
  expect(twin.cancelRequests()).toEqual([]);
  expect(twin.requests.some((r) => r.method === 'DELETE')).toBe(false);
}

describe('FlinkRestActuator: stop-with-savepoint and resubmit (default scheduler)', () => {
  it('stops with a savepoint, polls IN_PROGRESS → COMPLETED, resubmits at p and waits for RUNNING at p', async () => {
    const { twin, actuator, sink, initialJobId } = await setup({ parallelism: 2 });
    expect(await actuator.currentParallelism()).toBe(2);

    const result = await actuator.rescale({ parallelism: 4, reason: 'forecast peak above capacity at 2' });

    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(4);
    // Seconds on the actuator's clock: the new job runs 10 s after the stop, seen at the next 2 s poll.
    expect(result.seconds).toBe(12);
    expect(result.detail).toContain(SAVEPOINT_DIR);
    expect(twin.sequence()).toEqual([
      'GET /jobs/{id}',
      'GET /jobmanager/config',
      'GET /jars',
      'POST /jobs/{id}/stop',
      'GET /jobs/{id}/savepoints/{id}',
      'GET /jobs/{id}', // the old job has terminated
      'GET /jobs/overview', // and no other job of that name was started meanwhile
      `POST /jars/${twin.cluster.jarId}/run`,
      'GET /jobs/{id}',
    ]);

    const [stop] = twin.find('POST', /\/stop$/);
    expect(stop!.path).toBe(`/jobs/${initialJobId}/stop`);
    expect(stop!.headers['content-type']).toBe('application/json');
    expect(stop!.json).toEqual({ drain: false, targetDirectory: SAVEPOINT_DIR, triggerId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    // IN_PROGRESS at the stop, COMPLETED one poll (2 s) later: the savepoint takes 2 s.
    expect(twin.find('GET', /\/savepoints\//)).toHaveLength(2);

    const [run] = twin.find('POST', /\/run$/);
    const location = (run!.json as { savepointPath: string }).savepointPath;
    expect(location.startsWith(`${SAVEPOINT_DIR}/savepoint-`)).toBe(true);
    expect(run!.json).toEqual({
      jobId: expect.stringMatching(/^[0-9a-f]{32}$/),
      savepointPath: location,
      parallelism: 4,
      allowNonRestoredState: false,
      entryClass: JAR_ENTRY_CLASS,
      programArgsList: ['--input', 'cars.csv'],
    });

    // The job id changed and is tracked.
    expect(actuator.jobId).not.toBe(initialJobId);
    expect(actuator.jobId).toBe((run!.json as { jobId: string }).jobId);
    expect(twin.cluster.currentJob.id).toBe(actuator.jobId);
    expect(twin.cluster.jobState(twin.cluster.currentJob)).toBe('RUNNING');
    expect(twin.cluster.restoredFromLatestStopSavepoint(actuator.jobId!)).toBe(true);
    expect(await actuator.currentParallelism()).toBe(4);
    expectNoCancel(twin);

    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ mode: 'flink-rest', from: 2, result: { outcome: 'completed' }, target: { kind: 'ConfigMap', name: 'cars-job' } });
  });

  it('finds the jar by file name and the job by name', async () => {
    const { twin, actuator } = await setup({}, { jobId: undefined, jobName: 'cars', jarId: undefined, jarName: JAR_NAME });
    expect(actuator.jobId).toBeUndefined();
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(twin.find('POST', /\/run$/).map((r) => r.path)).toEqual([`/jars/${twin.cluster.jarId}/run`]);
    // Once to find the job by name, once before the resubmission (no other job of that name runs).
    expect(twin.find('GET', /^\/jobs\/overview$/)).toHaveLength(2);
    expectNoCancel(twin);
  });

  it('a failed savepoint leaves the job running and submits nothing', async () => {
    const { twin, actuator, sink, initialJobId } = await setup();
    twin.arm({ fault: 'savepoint-fails' });
    const result = await actuator.rescale({ parallelism: 5, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.parallelism).toBe(2);
    expect(result.detail).toContain('savepoint failed');
    expect(result.detail).toContain('Failure to finalize checkpoint');
    expect(result.detail).toContain('is RUNNING');
    expect(twin.find('POST', /\/run$/)).toHaveLength(0);
    expect(actuator.jobId).toBe(initialJobId);
    expect(twin.cluster.jobState(twin.cluster.currentJob)).toBe('RUNNING');
    expect(actuator.pendingStop).toBeUndefined();
    expectNoCancel(twin);
    expect(sink.events[0]?.result.outcome).toBe('failed');
  });

  it('a savepoint that does not complete in time fails without cancelling; the next rescale resumes from it', async () => {
    // The savepoint takes 10 s; the actuator waits 4 s for it.
    const { twin, actuator, initialJobId } = await setup({ savepointSeconds: 10, rescaleDowntimeSeconds: 20 }, { savepointTimeoutMs: 4_000 });
    const startedAt = twin.clock.now();
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.seconds).toBe(4);
    expect(result.detail).toMatch(/savepoint not completed within 4 s/);
    expect(result.detail).toContain('is RUNNING');
    // The journal dates the stop by the actuator's clock.
    expect(actuator.pendingStop).toMatchObject({ jobId: initialJobId, from: 2, sinceMs: startedAt });
    expect(twin.find('POST', /\/run$/)).toHaveLength(0);
    expectNoCancel(twin);

    // While the stop is still in progress, a second rescale does not trigger another one.
    const again = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(again.outcome).toBe('failed');
    expect(again.detail).toContain('still in progress');
    expect(twin.find('POST', /\/stop$/)).toHaveLength(1);

    // The stop completes meanwhile: the job is stopped; the next rescale resubmits from that savepoint.
    const resumed = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(resumed.outcome).toBe('completed');
    expect(resumed.parallelism).toBe(6);
    expect(twin.find('POST', /\/stop$/)).toHaveLength(1);
    expect(twin.find('POST', /\/run$/)).toHaveLength(1);
    expect(actuator.pendingStop).toBeUndefined();
    expect(actuator.jobId).not.toBe(initialJobId);
    expect(twin.cluster.restoredFromLatestStopSavepoint(actuator.jobId!)).toBe(true);
    expectNoCancel(twin);
  });

  it('a rejected submission is restored at the old parallelism from the same savepoint, and the server error\'s credential is not repeated', async () => {
    const { twin, actuator, sink } = await setup();
    twin.arm({
      fault: 'run-error',
      message: 'org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Could not allocate the required slot within slot request timeout. Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
    });
    const result = await actuator.rescale({ parallelism: 8, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.parallelism).toBe(2);
    expect(result.detail).toContain('resubmission at 8 failed');
    expect(result.detail).toContain('ProgramInvocationException');
    expect(result.detail).toContain('restored from savepoint');
    expect(result.detail).not.toMatch(/eyJ|c2lnbmF0dXJl/);
    const runs = twin.find('POST', /\/run$/).map((r) => (r.json as { parallelism: number; savepointPath: string }));
    expect(runs.map((r) => r.parallelism)).toEqual([8, 2]);
    expect(runs[0]!.savepointPath).toBe(runs[1]!.savepointPath);
    expect(twin.cluster.currentJob.id).toBe(actuator.jobId);
    expect(twin.cluster.jobState(twin.cluster.currentJob)).toBe('RUNNING');
    expect(await actuator.currentParallelism()).toBe(2);
    expectNoCancel(twin);
    expect(sink.events[0]?.result.outcome).toBe('failed');
  });

  it('when resubmission and restore both fail, it says the job is not running and where the savepoint is', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'run-error', count: 2 });
    const result = await actuator.rescale({ parallelism: 8, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('NOT running');
    expect(result.detail).toContain(`savepoint ${SAVEPOINT_DIR}/savepoint-`);
    expectNoCancel(twin);
  });

  it('without restore, a rejected submission reports the stopped job and its savepoint', async () => {
    const { twin, actuator } = await setup({}, { restoreOnSubmitFailure: false });
    twin.arm({ fault: 'run-error' });
    const result = await actuator.rescale({ parallelism: 8, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/stopped with savepoint .*resubmission at 8 failed.*NOT running/);
    expect(twin.find('POST', /\/run$/)).toHaveLength(1);
  });

  it('a stop whose answer is lost is followed through its own trigger id', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'lose-answer', on: 'stop' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const stops = twin.find('POST', /\/stop$/);
    expect(stops).toHaveLength(1);
    const triggerId = (stops[0]!.json as { triggerId: string }).triggerId;
    expect(twin.find('GET', /\/savepoints\//).every((r) => r.path.endsWith(triggerId))).toBe(true);
    expectNoCancel(twin);
  });

  it('a stop that was lost on the way is sent once more with the same trigger id', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'lose-request', on: 'stop' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const stops = twin.find('POST', /\/stop$/).map((r) => (r.json as { triggerId: string }).triggerId);
    expect(stops).toHaveLength(2);
    expect(stops[0]).toBe(stops[1]);
    expectNoCancel(twin);
  });

  it('a submission whose answer is lost is found by the job id phoebe chose', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'lose-answer', on: 'run' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const runs = twin.find('POST', /\/run$/);
    expect(runs).toHaveLength(1);
    expect(actuator.jobId).toBe((runs[0]!.json as { jobId: string }).jobId);
    expect(twin.cluster.jobs).toHaveLength(2);
  });

  it('a submission that was lost on the way is sent once more with the same job id', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'lose-request', on: 'run' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('completed');
    const ids = twin.find('POST', /\/run$/).map((r) => (r.json as { jobId: string }).jobId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(twin.cluster.jobs).toHaveLength(2);
    expect(twin.cluster.currentJob.id).toBe(actuator.jobId);
  });

  it('an unconfirmed submission is tracked and nothing more is submitted (the job must not run twice)', async () => {
    const { twin, actuator } = await setup();
    twin.arm({ fault: 'lose-request', on: 'run', count: 5 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/unanswered \(.+\) and not confirmed; tracking job id [0-9a-f]{32}/);
    // Sent twice with one id (the second after Flink said it did not know the job); no restore under another id.
    const ids = twin.find('POST', /\/run$/).map((r) => (r.json as { jobId: string }).jobId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
    expect(actuator.jobId).toBe(ids[0]);
    expect(twin.cluster.jobs).toHaveLength(1);
    expectNoCancel(twin);
  });

  it('a resubmitted job that fails, and its restore too, is reported, with its id tracked', async () => {
    const { twin, actuator, initialJobId } = await setup();
    twin.arm({ fault: 'job-fails', count: 2 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/as job [0-9a-f]{32}, but it ended \(job FAILED/);
    expect(actuator.jobId).not.toBe(initialJobId);
    expectNoCancel(twin);
  });

  it('a resubmitted job that does not reach RUNNING in time fails, bounded', async () => {
    // The new job runs 10 s after the stop; the actuator waits 5 s for it.
    const { actuator } = await setup({}, { runningTimeoutMs: 5_000 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/not running at 3 within 5 s/);
    // The next attempt waits for it: the job comes up at 3.
    const next = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(next).toMatchObject({ outcome: 'completed', parallelism: 3 });
  });

  it('never stops a job whose jar cannot be found', async () => {
    const { twin, actuator } = await setup({}, { jarId: 'missing.jar' });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('missing.jar');
    expect(result.detail).toContain('left running');
    expect(twin.find('POST', /\/stop$/)).toHaveLength(0);
  });

  it('does nothing for a job that is not RUNNING', async () => {
    const { twin, actuator } = await setup({ failuresAtSeconds: [1] });
    await twin.clock.advance(3_000); // the job failed at 1 s and restarts for 30 s
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('RESTARTING');
    expect(twin.find('POST', /./)).toHaveLength(0);
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('skips when the job already runs at p, and records no event', async () => {
    const { twin, actuator, sink } = await setup({ parallelism: 4 });
    const result = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('skipped');
    expect(twin.find('POST', /./)).toHaveLength(0);
    expect(sink.events).toHaveLength(0);
  });

  it('rejects an invalid parallelism without calling Flink', async () => {
    const { twin, actuator } = await setup();
    const result = await actuator.rescale({ parallelism: 0, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(twin.requests).toHaveLength(0);
  });

  it('refuses a second rescale while one is running', async () => {
    const { actuator } = await setup();
    const first = actuator.rescale({ parallelism: 3, reason: 'r' });
    const second = await actuator.rescale({ parallelism: 4, reason: 'r' });
    expect(second.outcome).toBe('failed');
    expect(second.detail).toContain('in progress');
    expect((await first).outcome).toBe('completed');
  });
});

describe('FlinkRestActuator: adaptive scheduler, in place', () => {
  it('PUTs resource requirements with upper bound p for every vertex and waits until they run at p', async () => {
    const { twin, actuator, sink, initialJobId } = await setup({ scheduler: 'adaptive' });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(6);
    expect(result.detail).toContain('in place');
    expect(twin.sequence()).toEqual(['GET /jobs/{id}', 'GET /jobmanager/config', 'GET /jobs/{id}/resource-requirements', 'PUT /jobs/{id}/resource-requirements', 'GET /jobs/{id}']);
    const [put] = twin.find('PUT', /resource-requirements$/);
    expect(put!.headers['content-type']).toBe('application/json');
    expect(put!.json).toEqual({ [twin.cluster.vertexId]: { parallelism: { lowerBound: 1, upperBound: 6 } } });
    expect(twin.find('POST', /./)).toHaveLength(0);
    expect(actuator.jobId).toBe(initialJobId);
    expectNoCancel(twin);
    expect(sink.events[0]).toMatchObject({ from: 2, result: { outcome: 'completed', parallelism: 6 } });

    // The scheduler setting is read once.
    await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(twin.find('GET', /^\/jobmanager\/config$/)).toHaveLength(1);
  });

  it('caps the upper bound at the vertex max parallelism', async () => {
    const { twin, actuator } = await setup({ scheduler: 'adaptive', maxParallelism: 4 });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('completed');
    expect(result.parallelism).toBe(4);
    expect(result.detail).toContain('capped');
    const [put] = twin.find('PUT', /resource-requirements$/);
    expect(Object.values(put!.json as Record<string, { parallelism: { upperBound: number } }>).map((r) => r.parallelism.upperBound)).toEqual([4]);
  });

  it('fails, bounded, when the vertices do not reach p (not enough slots), without stopping the job', async () => {
    const { twin, actuator } = await setup({ scheduler: 'adaptive' }, { runningTimeoutMs: 30_000 });
    twin.arm({ fault: 'in-place-stuck' });
    const result = await actuator.rescale({ parallelism: 6, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.seconds).toBe(30);
    expect(result.detail).toMatch(/upper bound set to 6.*vertex parallelism \[2\]/);
    expect(twin.find('POST', /./)).toHaveLength(0);
    expectNoCancel(twin);
  });

  it('inPlace "never" uses the savepoint path on an adaptive cluster', async () => {
    const { twin, actuator } = await setup({ scheduler: 'adaptive' }, { inPlace: 'never' });
    expect((await actuator.rescale({ parallelism: 3, reason: 'r' })).outcome).toBe('completed');
    expect(twin.find('PUT', /./)).toHaveLength(0);
    expect(twin.find('GET', /^\/jobmanager\/config$/)).toHaveLength(0);
  });

  it('refuses reactive mode and points to the taskmanager-deployment actuator', async () => {
    const { twin, actuator } = await setup({ scheduler: 'adaptive', reactive: true });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('taskmanager-deployment');
    expect(twin.find('PUT', /./)).toHaveLength(0);
    expect(twin.find('POST', /./)).toHaveLength(0);
  });
});

describe('FlinkRestActuator: unreachable or slow REST endpoint', () => {
  it('REST unreachable: outcome failed with a plain reason, and currentParallelism is undefined', async () => {
    const port = await unusedPort();
    const actuator = new FlinkRestActuator({ restUrl: `http://127.0.0.1:${port}`, jobId: 'a'.repeat(32), jarId: 'j.jar', requestTimeoutMs: 1_000, logger: new RecordingLogger() });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('connection refused');
    expect(await actuator.currentParallelism()).toBeUndefined();
  });

  it('every request has a timeout', async () => {
    // A request timeout is the one thing measured in real time (AbortSignal.timeout): kept short.
    const { twin, actuator } = await setup({}, { requestTimeoutMs: 100 });
    twin.arm({ fault: 'slow', ms: 1_000 });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toBe('request timed out');
  });

  it('credentials in the URL become Basic auth and never appear in details or logs', async () => {
    const { twin, logger } = await setup();
    twin.arm({ fault: 'unavailable', mode: '503', seconds: 60, message: 'Service temporarily unavailable due to an ongoing leader election. Please refresh. token=s3cr3t-token-value' });
    const actuator = new FlinkRestActuator({
      restUrl: twin.url.replace('http://', 'http://phoebe:hunter2-password@'),
      restHeaders: { 'X-Api-Key': 'proxy-key-123456' },
      jobId: twin.cluster.currentJob.id,
      jarId: twin.cluster.jarId,
      logger,
      clock: twin.clock,
    });
    const result = await actuator.rescale({ parallelism: 3, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain('HTTP 503');
    expect(twin.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('phoebe:hunter2-password').toString('base64')}`);
    expect(twin.requests[0]!.headers['x-api-key']).toBe('proxy-key-123456');
    const everything = `${result.detail}\n${logger.lines.join('\n')}`;
    for (const secret of ['hunter2', 'proxy-key-123456', 's3cr3t-token-value', Buffer.from('phoebe:hunter2-password').toString('base64')]) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('FlinkRestActuator: keepRecovering', () => {
  it('resumes an unfinished rescale on its clock, and stops when told', async () => {
    const { twin, actuator } = await setup({ savepointSeconds: 10, rescaleDowntimeSeconds: 20 }, { savepointTimeoutMs: 4_000 });
    expect((await actuator.rescale({ parallelism: 5, reason: 'r' })).outcome).toBe('failed');
    expect(actuator.hasUnfinishedRescale).toBe(true);
    const stop = actuator.keepRecovering(30_000);
    await expect.poll(() => actuator.hasUnfinishedRescale, { timeout: 5_000 }).toBe(false);
    stop();
    expect(actuator.lastRescale).toMatchObject({ phase: 'done', resultParallelism: 5 });
    expect(twin.cluster.jobParallelism(twin.cluster.currentJob)).toBe(5);
  });
});

describe('flink-rest helpers', () => {
  it('jobParallelism is the widest vertex apart from the sources; a job of sources, its widest source', () => {
    expect(jobParallelism({ vertices: [] })).toBeUndefined();
    expect(jobParallelism({ vertices: [{ id: 'a', parallelism: 1 }, { id: 'b', parallelism: 4 }] })).toBe(4);
    // A source pinned to 12 partitions above a keyed vertex at 3 (it read 12 before).
    expect(jobParallelism({ vertices: [{ id: 'a', name: 'Source: input', parallelism: 12 }, { id: 'b', name: 'cost -> output: Writer', parallelism: 3 }] })).toBe(3);
    expect(jobParallelism({ vertices: [{ id: 'a', name: '[vertex-0]Source: input', parallelism: 12 }, { id: 'b', name: '[vertex-1]cost', parallelism: 3 }] })).toBe(3);
    expect(jobParallelism({ vertices: [{ id: 'a', name: 'Source: events -> Process', parallelism: 5 }] })).toBe(5);
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
