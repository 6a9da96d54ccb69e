/**
 * A typed client for the part of the Flink JobManager REST API (v1, config/specs/flink-rest-v1.yml)
 * that rescaling needs. Names and shapes follow the spec's components/schemas.
 *
 * Deliberately absent: job cancellation (`PATCH /jobs/{jobid}`, `/jobs/{jobid}/yarn-cancel`), triggering a
 * savepoint with cancel-job, deleting jars, and any DELETE at all. A job is only ever stopped through
 * stop-with-savepoint. The request method is typed as GET | POST | PUT so none can be added by accident.
 */
import { randomBytes } from 'node:crypto';
import { HttpStatusError, redact } from '../errors.js';

// ---- schemas (subset of components/schemas, same names) -------------------------------------------

/** JobID, JobVertexID, TriggerId: 32 lowercase hex characters. */
export type JobID = string;
export type JobVertexID = string;
export type TriggerId = string;

export type JobStatus =
  | 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED'
  | 'FINISHED' | 'RESTARTING' | 'SUSPENDED' | 'RECONCILING';

export type ExecutionState =
  | 'CREATED' | 'SCHEDULED' | 'DEPLOYING' | 'RUNNING' | 'FINISHED' | 'CANCELING' | 'CANCELED'
  | 'FAILED' | 'RECONCILING' | 'INITIALIZING';

export type SchedulerType = 'Default' | 'Adaptive' | 'AdaptiveBatch';

export type SavepointFormatType = 'CANONICAL' | 'NATIVE';

export interface JobDetailsVertexInfo {
  id: JobVertexID;
  name?: string;
  maxParallelism?: number;
  parallelism: number;
  status?: ExecutionState;
  'start-time'?: number;
  'end-time'?: number;
  duration?: number;
  tasks?: Record<string, number>;
  slotSharingGroupId?: string;
}

export interface JobDetailsInfo {
  jid: JobID;
  name?: string;
  state: JobStatus;
  isStoppable?: boolean;
  'job-type'?: string;
  schedulerType?: SchedulerType;
  maxParallelism?: number;
  'start-time'?: number;
  'end-time'?: number;
  duration?: number;
  now?: number;
  timestamps?: Record<string, number>;
  vertices: JobDetailsVertexInfo[];
  'status-counts'?: Record<string, number>;
}

/** One entry of MultipleJobsDetails (`GET /jobs/overview`). */
export interface JobDetails {
  jid: JobID;
  name?: string;
  state: JobStatus;
  'start-time'?: number;
  'end-time'?: number;
  'last-modification'?: number;
}

export interface MultipleJobsDetails {
  jobs: JobDetails[];
}

export interface StopWithSavepointRequestBody {
  drain?: boolean;
  formatType?: SavepointFormatType;
  targetDirectory?: string;
  triggerId?: TriggerId;
}

export interface TriggerResponse {
  'request-id': TriggerId;
}

/** SerializedThrowable as Flink sends it (the spec lists only serialized-throwable; class and stack-trace come along). */
export interface SerializedThrowable {
  class?: string;
  'stack-trace'?: string;
  'serialized-throwable'?: string;
}

export interface SavepointInfo {
  location?: string;
  'failure-cause'?: SerializedThrowable;
}

/** QueueStatus.id is IN_PROGRESS or COMPLETED in the spec; FAILED is tolerated from other servers. */
export interface QueueStatus {
  id: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | string;
}

export interface AsynchronousOperationResult {
  status: QueueStatus;
  operation?: SavepointInfo | null;
}

export interface JarEntryInfo {
  name?: string;
  description?: string | null;
}

export interface JarFileInfo {
  id: string;
  name?: string;
  uploaded?: number;
  entry?: JarEntryInfo[];
}

export interface JarListInfo {
  address?: string;
  files: JarFileInfo[];
}

export interface JarRunRequestBody {
  allowNonRestoredState?: boolean;
  claimMode?: string;
  entryClass?: string;
  flinkConfiguration?: Record<string, string>;
  jobId?: JobID;
  parallelism?: number;
  programArgsList?: string[];
  savepointPath?: string;
}

export interface JarRunResponseBody {
  jobid: JobID;
}

export interface Parallelism {
  lowerBound: number;
  upperBound: number;
}

export interface JobVertexResourceRequirements {
  parallelism: Parallelism;
}

/** JobResourceRequirementsBody: vertex id → requirements. */
export type JobResourceRequirementsBody = Record<JobVertexID, JobVertexResourceRequirements>;

export interface ConfigurationInfoEntry {
  key: string;
  value: string;
}

// ---- client -----------------------------------------------------------------------------------------

const HEX32 = /^[0-9a-f]{32}$/;

export function isHex32(id: unknown): id is string {
  return typeof id === 'string' && HEX32.test(id);
}

/** A fresh id in Flink's form (a trigger id or job id phoebe chooses, so a lost request can be looked up). */
export function newHex32(): string {
  return randomBytes(16).toString('hex');
}

export interface FlinkRestClientOptions {
  /** JobManager REST endpoint, e.g. http://my-job-rest.flink:8081 (user:password@ in the URL becomes Basic auth). */
  baseUrl: string;
  /** Per-request timeout (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** Extra headers for every request (e.g. a proxy's Authorization). Never logged. */
  headers?: Record<string, string>;
}

type Method = 'GET' | 'POST' | 'PUT';

export class FlinkRestClient {
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: FlinkRestClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Flink REST URL must be http(s), got ${url.protocol}`);
    this.headers = { Accept: 'application/json', ...(options.headers ?? {}) };
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      this.headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    url.search = '';
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.base = url;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  /** The endpoint without credentials, for logs. */
  get endpoint(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  /** `GET /jobs/{jobid}` */
  async getJob(jobId: JobID): Promise<JobDetailsInfo> {
    const job = await this.request<JobDetailsInfo>('GET', `jobs/${checkId(jobId, 'job id')}`);
    if (!job || typeof job !== 'object' || typeof job.state !== 'string') throw new Error('GET /jobs/{jobid}: response has no state');
    return { ...job, vertices: Array.isArray(job.vertices) ? job.vertices : [] };
  }

  /** `GET /jobs/overview` */
  async getJobsOverview(): Promise<MultipleJobsDetails> {
    const body = await this.request<MultipleJobsDetails>('GET', 'jobs/overview');
    return { jobs: Array.isArray(body?.jobs) ? body.jobs : [] };
  }

  /** `POST /jobs/{jobid}/stop` — stop-with-savepoint; the job keeps running if the savepoint fails. */
  async stopWithSavepoint(jobId: JobID, body: StopWithSavepointRequestBody): Promise<TriggerResponse> {
    const res = await this.request<TriggerResponse>('POST', `jobs/${checkId(jobId, 'job id')}/stop`, body);
    if (!isHex32(res?.['request-id'])) throw new Error('POST /jobs/{jobid}/stop: response has no request-id');
    return res;
  }

  /** `GET /jobs/{jobid}/savepoints/{triggerid}` */
  async getSavepointStatus(jobId: JobID, triggerId: TriggerId): Promise<AsynchronousOperationResult> {
    const res = await this.request<AsynchronousOperationResult>('GET', `jobs/${checkId(jobId, 'job id')}/savepoints/${checkId(triggerId, 'trigger id')}`);
    if (!res || typeof res.status?.id !== 'string') throw new Error('GET /jobs/{jobid}/savepoints/{triggerid}: response has no status.id');
    return res;
  }

  /** `GET /jars` */
  async listJars(): Promise<JarListInfo> {
    const res = await this.request<JarListInfo>('GET', 'jars');
    return { ...res, files: Array.isArray(res?.files) ? res.files : [] };
  }

  /** `POST /jars/{jarid}/run` */
  async runJar(jarId: string, body: JarRunRequestBody): Promise<JarRunResponseBody> {
    const res = await this.request<JarRunResponseBody>('POST', `jars/${encodeURIComponent(jarId)}/run`, body);
    if (!isHex32(res?.jobid)) throw new Error('POST /jars/{jarid}/run: response has no jobid');
    return res;
  }

  /** `GET /jobs/{jobid}/resource-requirements` */
  async getResourceRequirements(jobId: JobID): Promise<JobResourceRequirementsBody> {
    const res = await this.request<JobResourceRequirementsBody>('GET', `jobs/${checkId(jobId, 'job id')}/resource-requirements`);
    if (!res || typeof res !== 'object') throw new Error('GET /jobs/{jobid}/resource-requirements: not an object');
    return res;
  }

  /** `PUT /jobs/{jobid}/resource-requirements` (adaptive scheduler: rescales in place). */
  async putResourceRequirements(jobId: JobID, body: JobResourceRequirementsBody): Promise<void> {
    await this.request<unknown>('PUT', `jobs/${checkId(jobId, 'job id')}/resource-requirements`, body);
  }

  /** `GET /jobmanager/config` */
  async getClusterConfig(): Promise<ConfigurationInfoEntry[]> {
    const res = await this.request<ConfigurationInfoEntry[]>('GET', 'jobmanager/config');
    return Array.isArray(res) ? res : [];
  }

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'error',
    });
    const text = await response.text();
    const shownPath = `/${path}`;
    if (!response.ok) throw new HttpStatusError(method, templatePath(shownPath), response.status, flinkErrorReason(text));
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${method} ${templatePath(shownPath)}: response is not JSON`);
    }
  }
}

function checkId(id: string, what: string): string {
  if (!isHex32(id)) throw new Error(`invalid ${what} (expected 32 hex characters)`);
  return id;
}

/** /jobs/<hex>/savepoints/<hex> → /jobs/{id}/savepoints/{id}: shorter messages, stable for tests. */
function templatePath(path: string): string {
  return path.replace(/[0-9a-f]{32}/g, '{id}');
}

/**
 * Flink answers errors as {"errors": ["Internal server error.", "<Exception on server side:\n…"]};
 * the first line of the first two entries is enough (stack traces stay out of details).
 */
function flinkErrorReason(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      const lines = parsed.errors.slice(0, 2).map(firstMeaningfulLine).filter((l) => l !== '');
      return redact(lines.join('; '), 240);
    }
  } catch {
    // not JSON
  }
  return redact(text.split('\n')[0] ?? '', 120);
}

/** The first line of an error entry that is not Flink's wrapper ("<Exception on server side:") or a stack frame. */
function firstMeaningfulLine(entry: unknown): string {
  for (const raw of String(entry).split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('<Exception on server side') || line.startsWith('at ') || line.startsWith('End of exception')) continue;
    return line;
  }
  return '';
}
