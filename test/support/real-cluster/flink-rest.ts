import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * The few Flink REST calls the real-cluster test makes (paths as in Flink's REST API v1), each
 * bounded by a timeout; the waits poll with a deadline.
 */

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function call<T>(method: string, url: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status}: ${text.slice(0, 2000)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** POST /jars/upload (multipart, field `jarfile`); returns the jar id for /jars/:id/run. */
export async function uploadJar(restUrl: string, jarPath: string): Promise<string> {
  const form = new FormData();
  form.append('jarfile', new Blob([readFileSync(jarPath)], { type: 'application/x-java-archive' }), basename(jarPath));
  const response = await fetch(`${restUrl}/jars/upload`, { method: 'POST', body: form, signal: AbortSignal.timeout(60_000) });
  const body = await response.json() as { filename?: string; status?: string; errors?: string[] };
  if (!response.ok || body.status !== 'success' || !body.filename) throw new Error(`jar upload failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  return basename(body.filename);
}

export interface RunJarRequest {
  programArgsList: string[];
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  entryClass?: string;
}

/** POST /jars/:id/run; returns the job id. */
export async function runJar(restUrl: string, jarId: string, request: RunJarRequest): Promise<string> {
  const body = await call<{ jobid?: string }>('POST', `${restUrl}/jars/${encodeURIComponent(jarId)}/run`, request, 120_000);
  if (!body.jobid) throw new Error(`run returned no job id: ${JSON.stringify(body)}`);
  return body.jobid;
}

export interface JobVertex {
  id: string;
  name: string;
  parallelism: number;
  status: string;
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  /** 1.20 and 2.x report the scheduler in use (e.g. `Default`, `Adaptive`). */
  schedulerType?: string;
  vertices: JobVertex[];
  [key: string]: unknown;
}

export function getJob(restUrl: string, jobId: string): Promise<JobDetails> {
  return call<JobDetails>('GET', `${restUrl}/jobs/${jobId}`);
}

/** Waits until the job is RUNNING and so is every subtask of every vertex (at `parallelism`, if given). */
export async function waitForJobRunning(restUrl: string, jobId: string, timeoutMs: number, parallelism?: (v: JobVertex) => boolean): Promise<JobDetails> {
  const deadline = Date.now() + timeoutMs;
  let last: JobDetails | undefined;
  for (;;) {
    try {
      last = await getJob(restUrl, jobId);
      const allRunning = last.state === 'RUNNING' && last.vertices.length > 0 && last.vertices.every((v) => v.status === 'RUNNING' && (!parallelism || parallelism(v)));
      if (allRunning) return last;
      if (['FAILED', 'CANCELED', 'FINISHED'].includes(last.state)) throw new Error(`job ${jobId} is ${last.state}`);
    } catch (err) {
      if (/is (FAILED|CANCELED|FINISHED)/.test((err as Error).message)) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} not running within ${timeoutMs} ms: ${JSON.stringify(last && { state: last.state, vertices: last.vertices.map((v) => [v.name, v.status, v.parallelism]) })}`);
    }
    await sleep(250);
  }
}

export interface CheckpointCounts {
  completed: number;
  failed: number;
  in_progress: number;
  total: number;
  restored: number;
}

export async function checkpointCounts(restUrl: string, jobId: string): Promise<CheckpointCounts> {
  const body = await call<{ counts: CheckpointCounts }>('GET', `${restUrl}/jobs/${jobId}/checkpoints`);
  return body.counts;
}

/** Waits for `more` checkpoints to complete after now. */
export async function waitForCheckpoints(restUrl: string, jobId: string, more: number, timeoutMs: number): Promise<CheckpointCounts> {
  const start = (await checkpointCounts(restUrl, jobId)).completed;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await checkpointCounts(restUrl, jobId);
    if (counts.completed >= start + more) return counts;
    if (Date.now() > deadline) throw new Error(`fewer than ${more} checkpoints completed within ${timeoutMs} ms: ${JSON.stringify(counts)}`);
    await sleep(250);
  }
}

/**
 * Stop-with-savepoint (POST /jobs/:id/stop, drain=false), polled until the savepoint completes;
 * returns its location.
 */
export async function stopWithSavepoint(restUrl: string, jobId: string, targetDirectory: string, timeoutMs: number): Promise<string> {
  const { 'request-id': triggerId } = await call<{ 'request-id': string }>('POST', `${restUrl}/jobs/${jobId}/stop`, { targetDirectory, drain: false });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await call<{ status: { id: string }; operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string } } }>(
      'GET', `${restUrl}/jobs/${jobId}/savepoints/${triggerId}`);
    if (status.status.id === 'COMPLETED') {
      const location = status.operation?.location;
      if (!location) throw new Error(`stop-with-savepoint failed: ${status.operation?.['failure-cause']?.['stack-trace']?.slice(0, 3000) ?? JSON.stringify(status)}`);
      return location;
    }
    if (Date.now() > deadline) throw new Error(`stop-with-savepoint not complete within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Waits until the job reaches a terminal state (after a stop). */
export async function waitForJobState(restUrl: string, jobId: string, states: readonly string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { state } = await getJob(restUrl, jobId);
    if (states.includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${state} after ${timeoutMs} ms`);
    await sleep(250);
  }
}

export type ResourceRequirements = Record<string, { parallelism: { lowerBound: number; upperBound: number } }>;

/** GET /jobs/:id/resource-requirements (adaptive scheduler). */
export function getResourceRequirements(restUrl: string, jobId: string): Promise<ResourceRequirements> {
  return call<ResourceRequirements>('GET', `${restUrl}/jobs/${jobId}/resource-requirements`);
}

/** PUT /jobs/:id/resource-requirements (adaptive scheduler only). */
export async function putResourceRequirements(restUrl: string, jobId: string, requirements: ResourceRequirements): Promise<void> {
  await call<unknown>('PUT', `${restUrl}/jobs/${jobId}/resource-requirements`, requirements);
}
