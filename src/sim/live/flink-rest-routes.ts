import { Router, type NextFunction, type Request, type Response } from 'express';
import {
  FLINK_REVISION, FLINK_VERSION, FlinkRestError, JAR_ENTRY_CLASS, JAR_NAME, JOB_VERTEX_NAME, PROCESS_OPERATOR_NAME,
  executionState, type FlinkJobState, type LiveCluster, type LiveJob,
} from './live-cluster.js';

/**
 * The Flink REST endpoints phoebe uses, at their usual paths, with response bodies shaped by
 * the Flink REST API's OpenAPI spec (v1). Errors are {"errors": [message]} like Flink's.
 * A thin layer: every decision is LiveCluster's.
 */

const EXECUTION_STATES = ['CREATED', 'SCHEDULED', 'DEPLOYING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED', 'RECONCILING', 'INITIALIZING'];

function taskCounts(state: string, parallelism: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of EXECUTION_STATES) counts[s] = 0;
  counts[state] = parallelism;
  return counts;
}

/** JobDetails' `tasks`: lower-case execution states plus total and pending. */
function overviewTasks(state: string, parallelism: number): Record<string, number> {
  const counts: Record<string, number> = { total: parallelism, pending: 0 };
  for (const s of EXECUTION_STATES) counts[s.toLowerCase()] = s === state ? parallelism : 0;
  return counts;
}

function times(cluster: LiveCluster, job: LiveJob): { start: number; end: number; duration: number; now: number } {
  const now = Math.round(cluster.wallOf(cluster.elapsed));
  const start = Math.round(cluster.wallOf(job.submittedSecond));
  const end = job.endSecond === undefined ? -1 : Math.round(cluster.wallOf(job.endSecond));
  return { start, end, duration: (end === -1 ? now : end) - start, now };
}

function jobOverview(cluster: LiveCluster, job: LiveJob): Record<string, unknown> {
  const state = cluster.jobState(job);
  const t = times(cluster, job);
  const p = cluster.jobParallelism(job);
  return {
    jid: job.id,
    name: job.name,
    state,
    'start-time': t.start,
    'end-time': t.end,
    duration: t.duration,
    'last-modification': Math.round(cluster.wallOf(job.lastModifiedSecond)),
    tasks: overviewTasks(executionState(state), p),
    schedulerType: cluster.scheduler === 'adaptive' ? 'Adaptive' : 'Default',
    jobType: 'STREAMING',
  };
}

/** GET /jobs/:jobid. */
export function jobDetails(cluster: LiveCluster, job: LiveJob): Record<string, unknown> {
  const state = cluster.jobState(job);
  const t = times(cluster, job);
  const p = cluster.jobParallelism(job);
  const taskState = executionState(state);
  const timestamps: Record<string, number> = {};
  const allStates: FlinkJobState[] = ['INITIALIZING', 'CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING', 'SUSPENDED', 'RECONCILING'];
  for (const s of allStates) timestamps[s] = Math.round(job.stateTimestamps[s] ?? 0);
  const processed = Math.floor(job.processed);
  const maxParallelism = cluster.scenario.twin.maxParallelism;
  return {
    jid: job.id,
    name: job.name,
    isStoppable: false,
    state,
    'job-type': 'STREAMING',
    'start-time': t.start,
    'end-time': t.end,
    duration: t.duration,
    maxParallelism: -1,
    now: t.now,
    timestamps,
    vertices: [{
      id: cluster.vertexId,
      name: JOB_VERTEX_NAME,
      maxParallelism,
      parallelism: p,
      status: taskState,
      'start-time': t.start,
      'end-time': t.end,
      duration: t.duration,
      tasks: taskCounts(taskState, p),
      metrics: {
        'read-bytes': 0, 'read-bytes-complete': true, 'write-bytes': 0, 'write-bytes-complete': true,
        'read-records': 0, 'read-records-complete': true, 'write-records': processed, 'write-records-complete': true,
        'accumulated-backpressured-time': 0, 'accumulated-idle-time': 0, 'accumulated-busy-time': 0,
      },
    }],
    'status-counts': taskCounts(taskState, 1),
    plan: {
      jid: job.id,
      name: job.name,
      type: 'STREAMING',
      nodes: [{
        id: cluster.vertexId,
        parallelism: p,
        operator: '',
        operator_strategy: '',
        description: `${JOB_VERTEX_NAME.replace(' -> ', '<br/>')} (${PROCESS_OPERATOR_NAME})`,
        optimizer_properties: {},
      }],
    },
    // Flink 2.x names the job's scheduler here; 1.20 does not.
    ...(cluster.flinkVersion === '1.20' ? {} : { schedulerType: cluster.scheduler === 'adaptive' ? 'Adaptive' : 'Default' }),
  };
}

function failureCause(message: string): Record<string, string> {
  const className = message.split(':')[0] ?? 'java.lang.Exception';
  return {
    class: className,
    'stack-trace': `${message}\n\tat phoebe.twin(live twin)`,
    'serialized-throwable': Buffer.from(message).toString('base64'),
  };
}

function optionalString(value: unknown, field: string, format: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FlinkRestError(400, `Request did not match expected format ${format}: ${field} must be a string.`);
  return value;
}

function optionalInteger(value: unknown, field: string, format: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new FlinkRestError(400, `Request did not match expected format ${format}: ${field} must be an integer.`);
  return n;
}

function bodyObject(req: Request, format: string): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body))) return (body ?? {}) as Record<string, unknown>;
  throw new FlinkRestError(400, `Request did not match expected format ${format}.`);
}

export function flinkRestRouter(cluster: LiveCluster, options: { address: () => string }): Router {
  const router = Router();

  router.get('/overview', (_req, res) => {
    const jobs = cluster.jobs.map((j) => cluster.jobState(j));
    const slots = cluster.jobParallelism(cluster.currentJob);
    const used = cluster.tasksRunning() ? slots : 0;
    res.json({
      taskmanagers: slots,
      'slots-total': slots,
      'slots-available': slots - used,
      'slots-free-and-blocked': 0,
      'taskmanagers-blocked': 0,
      'jobs-running': jobs.filter((s) => !['FINISHED', 'CANCELED', 'FAILED'].includes(s)).length,
      'jobs-finished': jobs.filter((s) => s === 'FINISHED').length,
      'jobs-cancelled': jobs.filter((s) => s === 'CANCELED').length,
      'jobs-failed': jobs.filter((s) => s === 'FAILED').length,
      'flink-version': FLINK_VERSION,
      'flink-commit': FLINK_REVISION,
    });
  });

  router.get('/config', (_req, res) => {
    res.json({
      'refresh-interval': 3000,
      'timezone-name': 'Coordinated Universal Time',
      'timezone-offset': 0,
      'flink-version': FLINK_VERSION,
      'flink-revision': FLINK_REVISION,
      features: { 'web-submit': true, 'web-cancel': true, 'web-rescale': false, 'web-history': false },
    });
  });

  router.get('/jobmanager/config', (_req, res) => {
    const twin = cluster.scenario.twin;
    const entries: Record<string, string> = {
      'jobmanager.scheduler': cluster.scheduler,
      'taskmanager.numberOfTaskSlots': '1',
      'parallelism.default': String(twin.initialParallelism),
      'pipeline.max-parallelism': String(twin.maxParallelism),
      'execution.checkpointing.interval': `${Math.round((twin.checkpointIntervalSeconds * 1000) / cluster.speed)} ms`,
      'state.savepoints.dir': cluster.savepointDirectory,
      'rest.address': options.address(),
      'web.submit.enable': 'true',
      ...(cluster.reactive ? { 'scheduler-mode': 'reactive' } : {}),
    };
    res.json(Object.entries(entries).map(([key, value]) => ({ key, value })));
  });

  router.get('/jobs/overview', (_req, res) => {
    res.json({ jobs: [...cluster.jobs].reverse().map((j) => jobOverview(cluster, j)) });
  });

  router.get('/jobs', (_req, res) => {
    res.json({ jobs: cluster.jobs.map((j) => ({ id: j.id, status: cluster.jobState(j) })) });
  });

  router.get('/jobs/:jobid', (req, res) => {
    res.json(jobDetails(cluster, cluster.job(req.params.jobid)));
  });

  router.get('/jobs/:jobid/status', (req, res) => {
    res.json({ status: cluster.jobState(cluster.job(req.params.jobid)) });
  });

  router.post('/jobs/:jobid/stop', (req, res) => {
    const format = 'StopWithSavepointRequestBody';
    const body = bodyObject(req, format);
    const triggerId = optionalString(body.triggerId, 'triggerId', format);
    const targetDirectory = optionalString(body.targetDirectory, 'targetDirectory', format);
    const id = cluster.stopWithSavepoint(req.params.jobid, { ...(triggerId ? { triggerId } : {}), ...(targetDirectory ? { targetDirectory } : {}) });
    res.status(202).json({ 'request-id': id });
  });

  router.post('/jobs/:jobid/savepoints', (req, res) => {
    const format = 'SavepointTriggerRequestBody';
    const body = bodyObject(req, format);
    const triggerId = optionalString(body.triggerId, 'triggerId', format);
    const targetDirectory = optionalString(body['target-directory'], 'target-directory', format);
    const cancel = body['cancel-job'];
    if (cancel !== undefined && typeof cancel !== 'boolean') throw new FlinkRestError(400, `Request did not match expected format ${format}: cancel-job must be a boolean.`);
    const opts = { ...(triggerId ? { triggerId } : {}), ...(targetDirectory ? { targetDirectory } : {}) };
    const id = cancel === true
      ? cluster.stopWithSavepoint(req.params.jobid, { ...opts, terminal: 'CANCELED' })
      : cluster.triggerSavepoint(req.params.jobid, opts);
    res.status(202).json({ 'request-id': id });
  });

  router.get('/jobs/:jobid/savepoints/:triggerid', (req, res) => {
    const status = cluster.savepointStatus(req.params.jobid, req.params.triggerid);
    if (status.status === 'IN_PROGRESS') res.json({ status: { id: 'IN_PROGRESS' } });
    else if (status.failure !== undefined) res.json({ status: { id: 'COMPLETED' }, operation: { 'failure-cause': failureCause(status.failure) } });
    else res.json({ status: { id: 'COMPLETED' }, operation: { location: status.location } });
  });

  router.get('/jars', (_req, res) => {
    res.json({
      address: options.address(),
      files: [{
        id: cluster.jarId,
        name: JAR_NAME,
        uploaded: cluster.startWallMs,
        entry: [{ name: JAR_ENTRY_CLASS }],
      }],
    });
  });

  router.post('/jars/:jarid/run', (req, res) => {
    const format = 'JarRunRequestBody';
    const body = bodyObject(req, format);
    const query = req.query as Record<string, unknown>;
    const parallelism = optionalInteger(body.parallelism, 'parallelism', format) ?? optionalInteger(query.parallelism, 'parallelism', format);
    const savepointPath = optionalString(body.savepointPath, 'savepointPath', format) ?? optionalString(query.savepointPath, 'savepointPath', format);
    const jobId = optionalString(body.jobId, 'jobId', format);
    const job = cluster.runJar(req.params.jarid, {
      ...(parallelism !== undefined ? { parallelism } : {}),
      ...(savepointPath !== undefined ? { savepointPath } : {}),
      ...(jobId !== undefined ? { jobId } : {}),
    });
    res.json({ jobid: job.id });
  });

  router.get('/jobs/:jobid/resource-requirements', (req, res) => {
    res.json(cluster.resourceRequirements(req.params.jobid));
  });

  router.put('/jobs/:jobid/resource-requirements', (req, res) => {
    cluster.updateResourceRequirements(req.params.jobid, req.body);
    res.json({});
  });

  return router;
}

/** Renders FlinkRestError (and malformed JSON) as Flink does; anything else is a 500. */
export function flinkErrorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  if (err instanceof FlinkRestError) {
    res.status(err.status).json({ errors: [err.message] });
    return;
  }
  const status = (err as { status?: number; type?: string }).status;
  if (status === 400 || (err as { type?: string }).type === 'entity.parse.failed') {
    res.status(400).json({ errors: ['Bad request received. Request body is not valid JSON.'] });
    return;
  }
  res.status(500).json({ errors: ['Internal server error.', err instanceof Error ? err.message : String(err)] });
}

/** Unknown paths outside the Kubernetes API: Flink's 404. */
export function flinkNotFound(req: Request, res: Response): void {
  res.status(404).json({ errors: [`Not found: ${req.path}`] });
}
