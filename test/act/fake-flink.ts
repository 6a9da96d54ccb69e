/**
 * A scripted Flink JobManager REST endpoint on 127.0.0.1 that replays responses shaped like
 * /work/shared/specs/flink-rest-v1.yml (JobDetailsInfo, TriggerResponse, AsynchronousOperationResult,
 * JarListInfo, JarRunResponseBody, JobResourceRequirementsBody, ConfigurationInfoEntry[]).
 * Only the endpoints phoebe may use are served; anything else is answered 404 and recorded, so a
 * test can assert no cancel request was ever made.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson } from './fake-http.js';

export const hex32 = (): string => randomBytes(16).toString('hex');

export interface FakeVertex {
  id: string;
  name: string;
  maxParallelism: number;
  parallelism: number;
  status: string;
}

interface FakeJob {
  jid: string;
  name: string;
  state: string;
  vertices: FakeVertex[];
  /** GETs left before the job (or its vertices) reach RUNNING. */
  startPolls: number;
  /** In-place target per vertex; applied after `inPlacePolls` GETs. */
  inPlaceTarget?: Map<string, number>;
  inPlacePolls: number;
  requirements: Map<string, { lowerBound: number; upperBound: number }>;
  startTime: number;
}

export interface FakeFlinkScript {
  scheduler?: 'default' | 'adaptive';
  schedulerMode?: 'reactive';
  jobName?: string;
  parallelism?: number;
  /** Vertex max parallelism (default 128). */
  maxParallelism?: number;
  /** Status polls answered IN_PROGRESS before the outcome. */
  savepointInProgressPolls?: number;
  /**
   * complete: COMPLETED with location (the job becomes FINISHED);
   * fail: COMPLETED with failure-cause (spec shape); fail-status: status.id FAILED;
   * hang: IN_PROGRESS forever.
   */
  savepoint?: 'complete' | 'fail' | 'fail-status' | 'hang';
  /** ok; fail: every run fails; fail-first: the first run fails, later ones succeed; no-jobid: 200 without jobid. */
  submit?: 'ok' | 'fail' | 'fail-first' | 'no-jobid';
  /** GETs of a new job before it is RUNNING with all vertices RUNNING. */
  startPolls?: number;
  /** The new job fails instead of running. */
  newJobFails?: boolean;
  /** GETs after a resource-requirements PUT before vertices run at the new bound. */
  inPlacePolls?: number;
  /** Vertices never reach the in-place target (not enough slots). */
  inPlaceStuck?: boolean;
  jars?: Array<{ id: string; name: string; uploaded: number }>;
  /**
   * Lost answers: 'slow' registers the request and answers after `slowMs`; 'lost-once' drops the
   * first request entirely (nothing registered, no answer).
   */
  stopAnswer?: 'ok' | 'slow' | 'lost-once';
  runAnswer?: 'ok' | 'slow' | 'lost-once' | 'lost-always';
  slowMs?: number;
}

export const SAVEPOINT_DIR = 's3://flink-data/savepoints';

export class FakeFlink {
  readonly http = new FakeHttpServer();
  readonly jobs = new Map<string, FakeJob>();
  readonly initialJobId: string;
  private readonly triggers = new Map<string, { jid: string; polls: number; outcome: string; location: string }>();
  private runs = 0;
  private stopsSeen = 0;
  private runsSeen = 0;

  constructor(readonly script: FakeFlinkScript = {}) {
    const p = script.parallelism ?? 2;
    const max = script.maxParallelism ?? 128;
    this.initialJobId = hex32();
    const vertices: FakeVertex[] = [
      { id: 'cbc357ccb763df2852fee8c4fc7d55f2', name: 'Source: Custom Source -> Timestamps/Watermarks', maxParallelism: max, parallelism: p, status: 'RUNNING' },
      { id: '90bea66de1c231edf33913ecd54406c1', name: 'Window(GlobalWindows(), DeltaTrigger, TimeEvictor, ComparableAggregator, PassThroughWindowFunction) -> Sink: Print to Std. Out', maxParallelism: max, parallelism: p, status: 'RUNNING' },
    ];
    this.jobs.set(this.initialJobId, this.newJob(this.initialJobId, vertices, 0));
    this.routes();
  }

  start(): Promise<string> {
    return this.http.start();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private newJob(jid: string, vertices: FakeVertex[], startPolls: number): FakeJob {
    return {
      jid,
      name: this.script.jobName ?? 'CarTopSpeedWindowingExample',
      state: startPolls > 0 ? 'INITIALIZING' : 'RUNNING',
      vertices,
      startPolls,
      inPlacePolls: 0,
      requirements: new Map(vertices.map((v) => [v.id, { lowerBound: 1, upperBound: v.parallelism }])),
      startTime: Date.now(),
    };
  }

  /** JobDetailsInfo as Flink sends it. */
  private details(job: FakeJob): unknown {
    const now = Date.now();
    const counts = (status: string, n: number) => ({
      CREATED: status === 'CREATED' ? n : 0, SCHEDULED: 0, DEPLOYING: status === 'DEPLOYING' ? n : 0,
      RUNNING: status === 'RUNNING' ? n : 0, FINISHED: status === 'FINISHED' ? n : 0, CANCELING: 0, CANCELED: 0,
      FAILED: status === 'FAILED' ? n : 0, RECONCILING: 0, INITIALIZING: 0,
    });
    return {
      jid: job.jid,
      name: job.name,
      isStoppable: false,
      state: job.state,
      'job-type': 'STREAMING',
      'start-time': job.startTime,
      'end-time': -1,
      duration: now - job.startTime,
      maxParallelism: -1,
      now,
      timestamps: { CREATED: job.startTime, INITIALIZING: job.startTime, RUNNING: job.startTime + 5 },
      vertices: job.vertices.map((v) => ({
        id: v.id,
        slotSharingGroupId: 'a9cbe6bd3ca3b4fd1b0e5a8f1ea94ea1',
        name: v.name,
        maxParallelism: v.maxParallelism,
        parallelism: v.parallelism,
        status: v.status,
        'start-time': job.startTime,
        'end-time': -1,
        duration: now - job.startTime,
        tasks: counts(v.status, v.parallelism),
        metrics: { 'read-bytes': 0, 'read-bytes-complete': true, 'write-bytes': 0, 'write-bytes-complete': true, 'read-records': 0, 'read-records-complete': true, 'write-records': 0, 'write-records-complete': true, 'accumulated-backpressured-time': 0, 'accumulated-idle-time': 0, 'accumulated-busy-time': 'NaN' },
      })),
      'status-counts': counts('RUNNING', job.vertices.length),
      plan: { jid: job.jid, name: job.name, type: 'STREAMING', nodes: [] },
    };
  }

  private advance(job: FakeJob): void {
    if (job.startPolls > 0) {
      job.startPolls -= 1;
      if (job.startPolls === 0) {
        if (this.script.newJobFails) {
          job.state = 'FAILED';
          for (const v of job.vertices) v.status = 'FAILED';
        } else {
          job.state = 'RUNNING';
          for (const v of job.vertices) v.status = 'RUNNING';
        }
      } else {
        job.state = 'RUNNING';
        for (const v of job.vertices) v.status = 'DEPLOYING';
      }
    }
    if (job.inPlaceTarget && !this.script.inPlaceStuck) {
      if (job.inPlacePolls > 0) job.inPlacePolls -= 1;
      if (job.inPlacePolls === 0) {
        for (const v of job.vertices) v.parallelism = job.inPlaceTarget.get(v.id) ?? v.parallelism;
        job.inPlaceTarget = undefined;
      }
    }
  }

  private notFound(res: ServerResponse, jid: string): void {
    sendJson(res, 404, { errors: [`Job ${jid} not found`] });
  }

  private routes(): void {
    const h = this.http;
    h.on('GET', /^\/jobmanager\/config$/, (_req, res) => {
      const entries = [
        { key: 'jobmanager.rpc.address', value: 'cars-jobmanager' },
        { key: 'rest.port', value: '8081' },
        { key: 'taskmanager.numberOfTaskSlots', value: '2' },
        { key: 'state.savepoints.dir', value: SAVEPOINT_DIR },
        { key: 'jobmanager.scheduler', value: this.script.scheduler ?? 'default' },
      ];
      if (this.script.schedulerMode) entries.push({ key: 'scheduler-mode', value: this.script.schedulerMode });
      sendJson(res, 200, entries);
    });
    h.on('GET', /^\/jobs\/overview$/, (_req, res) => {
      sendJson(res, 200, {
        jobs: [...this.jobs.values()].map((j) => ({
          jid: j.jid, name: j.name, state: j.state, 'start-time': j.startTime, 'end-time': -1, duration: Date.now() - j.startTime,
          'last-modification': j.startTime, tasks: { total: 4, created: 0, scheduled: 0, deploying: 0, running: 4, finished: 0, canceling: 0, canceled: 0, failed: 0, reconciling: 0, initializing: 0, pending: 0 },
        })),
      });
    });
    h.on('GET', /^\/jobs\/([0-9a-f]{32})$/, (_req, res, m) => {
      const job = this.jobs.get(m[1]!);
      if (!job) return this.notFound(res, m[1]!);
      const body = this.details(job);
      this.advance(job);
      sendJson(res, 200, body);
    });
    h.on('POST', /^\/jobs\/([0-9a-f]{32})\/stop$/, (req, res, m) => {
      const job = this.jobs.get(m[1]!);
      if (!job) return this.notFound(res, m[1]!);
      this.stopsSeen += 1;
      if (this.script.stopAnswer === 'lost-once' && this.stopsSeen === 1) return; // dropped: no trigger, no answer
      const requested = (req.json as { triggerId?: string } | undefined)?.triggerId;
      const triggerId = requested ?? hex32();
      const answer = () => sendJson(res, 202, { 'request-id': triggerId });
      if (this.triggers.has(triggerId)) return answer(); // Flink de-duplicates a repeated trigger id
      this.triggers.set(triggerId, {
        jid: job.jid,
        polls: this.script.savepointInProgressPolls ?? 2,
        outcome: this.script.savepoint ?? 'complete',
        location: `${SAVEPOINT_DIR}/savepoint-${job.jid.slice(0, 6)}-${triggerId.slice(0, 12)}`,
      });
      if (this.script.stopAnswer === 'slow') setTimeout(answer, this.script.slowMs ?? 500);
      else answer();
    });
    h.on('GET', /^\/jobs\/([0-9a-f]{32})\/savepoints\/([0-9a-f]{32})$/, (_req, res, m) => {
      const trigger = this.triggers.get(m[2]!);
      if (!trigger || trigger.jid !== m[1]) {
        sendJson(res, 404, { errors: ['There is no savepoint operation with triggerId=' + m[2] + ' for job ' + m[1] + '.'] });
        return;
      }
      if (trigger.outcome === 'hang' || trigger.polls > 0) {
        trigger.polls -= 1;
        sendJson(res, 200, { status: { id: 'IN_PROGRESS' }, operation: null });
        return;
      }
      if (trigger.outcome === 'complete') {
        const job = this.jobs.get(trigger.jid);
        if (job) {
          job.state = 'FINISHED';
          for (const v of job.vertices) v.status = 'FINISHED';
        }
        sendJson(res, 200, { status: { id: 'COMPLETED' }, operation: { location: trigger.location } });
        return;
      }
      const failureCause = {
        class: 'java.util.concurrent.CompletionException',
        'stack-trace': 'java.util.concurrent.CompletionException: org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspended.\n\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(Unknown Source)\n',
        'serialized-throwable': 'rO0ABXNyAChqYXZhLnV0aWwuY29uY3VycmVudC5Db21wbGV0aW9uRXhjZXB0aW9u',
      };
      if (trigger.outcome === 'fail-status') sendJson(res, 200, { status: { id: 'FAILED' }, operation: { 'failure-cause': failureCause } });
      else sendJson(res, 200, { status: { id: 'COMPLETED' }, operation: { 'failure-cause': failureCause } });
    });
    h.on('GET', /^\/jars$/, (_req, res) => {
      const jars = this.script.jars ?? [{ id: 'd9d2ab36-6c4c-4bd7-8d3c-6b1bf5c0f3a1_TopSpeedWindowing.jar', name: 'TopSpeedWindowing.jar', uploaded: 1732500000000 }];
      sendJson(res, 200, {
        address: 'http://cars-jobmanager:8081',
        files: jars.map((j) => ({ ...j, entry: [{ name: 'org.apache.flink.streaming.examples.windowing.TopSpeedWindowing', description: null }] })),
      });
    });
    h.on('POST', /^\/jars\/([^/]+)\/run$/, (req, res, m) => {
      const jarId = decodeURIComponent(m[1]!);
      const jars = this.script.jars ?? [{ id: 'd9d2ab36-6c4c-4bd7-8d3c-6b1bf5c0f3a1_TopSpeedWindowing.jar', name: 'TopSpeedWindowing.jar', uploaded: 0 }];
      if (!jars.some((j) => j.id === jarId)) {
        sendJson(res, 400, { errors: [`Jar file /tmp/flink-web-upload/${jarId} does not exist`] });
        return;
      }
      this.runsSeen += 1;
      if ((this.script.runAnswer === 'lost-once' && this.runsSeen === 1) || this.script.runAnswer === 'lost-always') return; // dropped: nothing submitted, no answer
      const requestedId = (req.json as { jobId?: string } | undefined)?.jobId;
      if (requestedId && this.jobs.has(requestedId)) {
        sendJson(res, 400, { errors: [`org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.`] });
        return;
      }
      this.runs += 1;
      const submit = this.script.submit ?? 'ok';
      if (submit === 'fail' || (submit === 'fail-first' && this.runs === 1)) {
        sendJson(res, 500, {
          errors: [
            'Internal server error.',
            '<Exception on server side:\norg.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Could not allocate the required slot within slot request timeout. Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ\n\tat org.apache.flink.client.program.PackagedProgram.callMainMethod(PackagedProgram.java:372)\n\nEnd of exception on server side>',
          ],
        });
        return;
      }
      if (submit === 'no-jobid') {
        sendJson(res, 200, {});
        return;
      }
      const body = (req.json ?? {}) as { parallelism?: number };
      const p = body.parallelism ?? 1;
      const jid = requestedId ?? hex32();
      const template = this.jobs.get(this.initialJobId)!;
      const vertices = template.vertices.map((v) => ({ ...v, parallelism: Math.min(p, v.maxParallelism), status: 'CREATED' }));
      this.jobs.set(jid, this.newJob(jid, vertices, this.script.startPolls ?? 2));
      if (this.script.runAnswer === 'slow') setTimeout(() => sendJson(res, 200, { jobid: jid }), this.script.slowMs ?? 500);
      else sendJson(res, 200, { jobid: jid });
    });
    h.on('GET', /^\/jobs\/([0-9a-f]{32})\/resource-requirements$/, (_req, res, m) => {
      const job = this.jobs.get(m[1]!);
      if (!job) return this.notFound(res, m[1]!);
      sendJson(res, 200, Object.fromEntries([...job.requirements].map(([id, b]) => [id, { parallelism: b }])));
    });
    h.on('PUT', /^\/jobs\/([0-9a-f]{32})\/resource-requirements$/, (req, res, m) => {
      const job = this.jobs.get(m[1]!);
      if (!job) return this.notFound(res, m[1]!);
      const body = req.json as Record<string, { parallelism: { lowerBound: number; upperBound: number } }>;
      for (const [id, r] of Object.entries(body)) {
        if (!job.requirements.has(id)) {
          sendJson(res, 400, { errors: [`Unknown vertex ${id}`] });
          return;
        }
        job.requirements.set(id, r.parallelism);
      }
      job.inPlaceTarget = new Map(Object.entries(body).map(([id, r]) => [id, r.parallelism.upperBound]));
      job.inPlacePolls = this.script.inPlacePolls ?? 2;
      sendJson(res, 200, {});
    });
  }
}
