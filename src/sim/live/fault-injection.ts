import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ClusterFaultHooks, LiveCluster } from './live-cluster.js';

/**
 * TEST-ONLY fault injection for the live twin (`phoebe twin --faults`; never on by default). Faults
 * are armed with POST /__faults and observed with GET /__faults, from loopback addresses only:
 *
 *   curl -s -X POST localhost:8081/__faults -H 'Content-Type: application/json' \
 *        -d '{"faults":[{"fault":"unavailable","seconds":3,"after":"stop"}]}'
 *
 * Faults (each applies to `count` occurrences, default 1, unless said otherwise):
 *   stop-error       POST /jobs/{id}/stop is answered `status` (default 500) and not executed.
 *   run-error        POST /jars/{id}/run is answered `status` (default 500) and not executed.
 *   savepoint-fails  the next stop's savepoint fails after the savepoint time; the job keeps running.
 *   savepoint-hangs  the next stop's savepoint stays IN_PROGRESS for `seconds` wall seconds (default:
 *                    until the twin ends), then fails as expired; the job keeps running.
 *   job-fails        the next submission (at `parallelism`, when given) FAILS while initializing.
 *   unavailable      the Flink REST API is unreachable for `seconds` wall seconds (default 2): every
 *                    request's connection is dropped (`mode` drop, default) or answered 503 (`mode` 503).
 *                    Starts now, or once the next `after` request (stop | run) has been answered.
 *   slow             requests matching `on` (default any) are held `ms` (default 500) before they are
 *                    handled — for `count` requests (default: all) or `seconds` wall seconds.
 *   lose-answer      the next request matching `on` (stop | run) is executed, then its connection is
 *                    dropped instead of answered.
 * `{"faults": [], "replace": true}` disarms everything. GET /__faults also reports the requests
 * that could have cancelled a job (any DELETE, PATCH on /jobs, a cancel path, savepoints with
 * cancel-job), the jobs, and the twin's record accounting.
 */

export type FaultKind = 'stop-error' | 'run-error' | 'savepoint-fails' | 'savepoint-hangs' | 'job-fails' | 'unavailable' | 'slow' | 'lose-answer';
export type FaultRoute = 'stop' | 'run' | 'savepoint-status' | 'job' | 'overview' | 'any';

export interface FaultSpec {
  fault: FaultKind;
  count?: number;
  status?: number;
  seconds?: number;
  ms?: number;
  mode?: 'drop' | '503';
  after?: 'stop' | 'run';
  on?: FaultRoute;
  parallelism?: number;
}

interface ArmedFault {
  spec: FaultSpec;
  remaining: number;
  /** Wall ms after which it no longer applies (slow with seconds). */
  untilMs: number;
}

export interface LoggedRequest {
  atMs: number;
  method: string;
  path: string;
  route: FaultRoute | 'other';
  status?: number;
  /** What a fault did to it, if anything. */
  fault?: FaultKind;
}

const KINDS: ReadonlySet<string> = new Set<FaultKind>(['stop-error', 'run-error', 'savepoint-fails', 'savepoint-hangs', 'job-fails', 'unavailable', 'slow', 'lose-answer']);
const ROUTES: ReadonlySet<string> = new Set<FaultRoute>(['stop', 'run', 'savepoint-status', 'job', 'overview', 'any']);
const MAX_LOG = 20_000;

export class FaultSpecError extends Error {}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** The Flink REST paths (everything but /metrics, the Kubernetes API and /__faults). */
function isFlinkPath(path: string): boolean {
  return !(path === '/metrics' || path === '/__faults' || path === '/version' || path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/'));
}

export function routeOf(method: string, path: string): FaultRoute | 'other' {
  if (method === 'POST' && /^\/jobs\/[^/]+\/stop$/.test(path)) return 'stop';
  if (method === 'POST' && /^\/jars\/[^/]+\/run$/.test(path)) return 'run';
  if (method === 'GET' && /^\/jobs\/[^/]+\/savepoints\/[^/]+$/.test(path)) return 'savepoint-status';
  if (method === 'GET' && path === '/jobs/overview') return 'overview';
  if (method === 'GET' && /^\/jobs\/[0-9a-fA-F]{32}$/.test(path)) return 'job';
  return 'other';
}

/** Could this request cancel a job? (phoebe must never send one.) */
export function isCancelRequest(method: string, path: string, body: unknown): boolean {
  if (method === 'DELETE') return true;
  if (method === 'PATCH' && path.startsWith('/jobs')) return true;
  if (/cancel/i.test(path)) return true;
  if (method === 'POST' && /^\/jobs\/[^/]+\/savepoints$/.test(path)) {
    return !!body && typeof body === 'object' && (body as Record<string, unknown>)['cancel-job'] === true;
  }
  return false;
}

function checkSpec(raw: unknown): FaultSpec {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new FaultSpecError('each fault must be an object');
  const spec = raw as Record<string, unknown>;
  if (typeof spec.fault !== 'string' || !KINDS.has(spec.fault)) throw new FaultSpecError(`unknown fault ${JSON.stringify(spec.fault)}; one of ${[...KINDS].join(', ')}`);
  const positive = (key: string, integer = false): void => {
    const v = spec[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new FaultSpecError(`${key} must be a positive ${integer ? 'integer' : 'number'}`);
  };
  positive('count', true);
  positive('seconds');
  positive('ms');
  positive('parallelism', true);
  if (spec.status !== undefined && (typeof spec.status !== 'number' || !Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599)) throw new FaultSpecError('status must be an HTTP error status (400-599)');
  if (spec.mode !== undefined && spec.mode !== 'drop' && spec.mode !== '503') throw new FaultSpecError('mode must be "drop" or "503"');
  if (spec.after !== undefined && spec.after !== 'stop' && spec.after !== 'run') throw new FaultSpecError('after must be "stop" or "run"');
  if (spec.on !== undefined && (typeof spec.on !== 'string' || !ROUTES.has(spec.on))) throw new FaultSpecError(`on must be one of ${[...ROUTES].join(', ')}`);
  if (spec.fault === 'lose-answer' && spec.on !== 'stop' && spec.on !== 'run') throw new FaultSpecError('lose-answer needs on: "stop" or "run"');
  return spec as unknown as FaultSpec;
}

export class FaultInjector {
  private armed: ArmedFault[] = [];
  private readonly fired: { atMs: number; fault: FaultKind; detail: string }[] = [];
  private readonly log: LoggedRequest[] = [];
  private readonly cancels: LoggedRequest[] = [];
  private requestCount = 0;
  private readonly routeCounts: Record<string, number> = {};
  private unavailableUntilMs = 0;
  private unavailableMode: 'drop' | '503' = 'drop';

  constructor(private readonly cluster: LiveCluster, private readonly now: () => number = Date.now) {
    cluster.faultHooks = this.hooks();
  }

  /** Arms faults (appending, or replacing the armed ones). Throws FaultSpecError on a bad spec. */
  arm(rawFaults: unknown, replace = false): void {
    if (!Array.isArray(rawFaults)) throw new FaultSpecError('"faults" must be an array');
    const specs = rawFaults.map(checkSpec);
    if (replace) {
      this.armed = [];
      this.unavailableUntilMs = 0;
    }
    const now = this.now();
    for (const spec of specs) {
      if (spec.fault === 'unavailable' && spec.after === undefined) {
        this.startUnavailable(spec, now);
        continue;
      }
      const unlimited = spec.fault === 'slow' && spec.count === undefined;
      this.armed.push({
        spec,
        remaining: unlimited ? Number.POSITIVE_INFINITY : spec.count ?? 1,
        untilMs: spec.fault === 'slow' && spec.seconds !== undefined ? now + spec.seconds * 1000 : Number.POSITIVE_INFINITY,
      });
    }
  }

  /** Everything a test needs to judge a run. */
  state(): Record<string, unknown> {
    const now = this.now();
    const cluster = this.cluster;
    const jobs = cluster.jobs.map((j) => ({
      id: j.id,
      state: cluster.jobState(j),
      parallelism: cluster.jobParallelism(j),
      savepointPath: j.savepointPath ?? null,
      restoredFromLatestStop: cluster.restoredFromLatestStopSavepoint(j.id) ?? null,
      failure: j.failure ?? null,
    }));
    const active = jobs.filter((j) => !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state));
    return {
      armed: this.armed.map((a) => ({ ...a.spec, remaining: Number.isFinite(a.remaining) ? a.remaining : null })),
      unavailableForMs: Math.max(0, this.unavailableUntilMs - now),
      fired: this.fired,
      requests: this.requestCount,
      /** Flink REST requests per route (stop, run, savepoint-status, job, overview, other). */
      routeCounts: { ...this.routeCounts },
      cancelRequests: this.cancels,
      concurrentSubmissionsRefused: cluster.concurrentSubmissionsRefused,
      jobs,
      activeJobs: active.length,
      runningJobs: jobs.filter((j) => j.state === 'RUNNING').length,
      twin: { status: cluster.twin.status, parallelism: cluster.twin.parallelism, elapsedSeconds: cluster.elapsed },
      accounting: cluster.accounting(),
    };
  }

  /** The Flink REST requests seen so far (bounded log). */
  get requests(): readonly LoggedRequest[] {
    return this.log;
  }

  /** GET/POST /__faults (loopback only). Mount before the Flink REST router. */
  router(): Router {
    const router = Router();
    const loopbackOnly: RequestHandler = (req, res, next) => {
      if (!isLoopback(req.socket.remoteAddress)) {
        res.status(403).json({ errors: ['fault injection is served to loopback clients only'] });
        return;
      }
      next();
    };
    router.get('/__faults', loopbackOnly, (_req, res) => {
      res.json(this.state());
    });
    router.post('/__faults', loopbackOnly, (req, res) => {
      const body = (req.body ?? {}) as { faults?: unknown; replace?: unknown };
      try {
        this.arm(body.faults ?? [], body.replace === true);
      } catch (err) {
        if (!(err instanceof FaultSpecError)) throw err;
        res.status(400).json({ errors: [err.message] });
        return;
      }
      res.json(this.state());
    });
    return router;
  }

  /** Logs every Flink REST request and applies the HTTP-level faults. Mount before the Flink REST router. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const path = req.path;
      if (!isFlinkPath(path)) {
        next();
        return;
      }
      const now = this.now();
      const route = routeOf(req.method, path);
      const entry: LoggedRequest = { atMs: now, method: req.method, path, route };
      this.requestCount++;
      this.routeCounts[route] = (this.routeCounts[route] ?? 0) + 1;
      if (this.log.length < MAX_LOG) this.log.push(entry);
      if (isCancelRequest(req.method, path, req.body)) this.cancels.push(entry);
      res.once('finish', () => {
        entry.status = res.statusCode;
        this.afterAnswered(route, this.now());
      });

      if (now < this.unavailableUntilMs) {
        entry.fault = 'unavailable';
        if (this.unavailableMode === '503') res.status(503).json({ errors: ['Service Unavailable (fault injected by the live twin)'] });
        else req.socket.destroy();
        return;
      }
      for (const kind of ['stop-error', 'run-error'] as const) {
        if (route !== (kind === 'stop-error' ? 'stop' : 'run')) continue;
        const armed = this.take(kind, () => true);
        if (armed) {
          entry.fault = kind;
          const status = armed.spec.status ?? 500;
          this.fired.push({ atMs: now, fault: kind, detail: `${req.method} ${path} answered ${status}` });
          res.status(status).json({ errors: ['Internal server error.', `<Exception on server side:\norg.apache.flink.runtime.rest.handler.RestHandlerException: fault injected by the live twin (${kind})\n\tat phoebe.twin(faults)\n\nEnd of exception on server side>`] });
          return;
        }
      }
      const lose = this.take('lose-answer', (a) => a.spec.on === route);
      if (lose) {
        entry.fault = 'lose-answer';
        this.fired.push({ atMs: now, fault: 'lose-answer', detail: `${req.method} ${path} executed, answer dropped` });
        const socket = req.socket;
        res.end = ((..._args: unknown[]) => {
          socket.destroy();
          return res;
        }) as Response['end'];
      }
      const slow = this.take('slow', (a) => (a.spec.on ?? 'any') === 'any' || a.spec.on === route, now);
      if (slow) {
        entry.fault = entry.fault ?? 'slow';
        setTimeout(next, slow.spec.ms ?? 500);
        return;
      }
      next();
    };
  }

  private afterAnswered(route: FaultRoute | 'other', now: number): void {
    if (route !== 'stop' && route !== 'run') return;
    const armed = this.take('unavailable', (a) => a.spec.after === route);
    if (armed) this.startUnavailable(armed.spec, now);
  }

  private startUnavailable(spec: FaultSpec, now: number): void {
    const seconds = spec.seconds ?? 2;
    this.unavailableUntilMs = Math.max(this.unavailableUntilMs, now + seconds * 1000);
    this.unavailableMode = spec.mode ?? 'drop';
    this.fired.push({ atMs: now, fault: 'unavailable', detail: `Flink REST ${this.unavailableMode === 'drop' ? 'drops connections' : 'answers 503'} for ${seconds} s` });
  }

  /** Consumes one occurrence of the first armed fault of this kind that matches. */
  private take(kind: FaultKind, matches: (a: ArmedFault) => boolean, now = this.now()): ArmedFault | undefined {
    const armed = this.armed.find((a) => a.spec.fault === kind && a.remaining > 0 && now < a.untilMs && matches(a));
    if (!armed) return undefined;
    armed.remaining--;
    if (armed.remaining <= 0) this.armed = this.armed.filter((a) => a !== armed);
    return armed;
  }

  private hooks(): ClusterFaultHooks {
    return {
      takeStopFault: () => {
        const now = this.now();
        const fail = this.take('savepoint-fails', () => true, now);
        if (fail) {
          this.fired.push({ atMs: now, fault: 'savepoint-fails', detail: 'the stop\'s savepoint fails; the job keeps running' });
          return { kind: 'fail', reason: 'org.apache.flink.runtime.checkpoint.CheckpointException: Failure to finalize checkpoint (fault injected by the live twin).' };
        }
        const hang = this.take('savepoint-hangs', () => true, now);
        if (hang) {
          const wall = hang.spec.seconds;
          const seconds = wall === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.ceil(wall * this.cluster.speed));
          this.fired.push({ atMs: now, fault: 'savepoint-hangs', detail: `the stop's savepoint stays IN_PROGRESS ${wall === undefined ? 'until the twin ends' : `for ${wall} s`}` });
          return { kind: 'hang', seconds, reason: 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing (fault injected by the live twin).' };
        }
        return undefined;
      },
      takeSubmitFault: (parallelism: number) => {
        const now = this.now();
        const armed = this.take('job-fails', (a) => a.spec.parallelism === undefined || a.spec.parallelism === parallelism, now);
        if (!armed) return undefined;
        this.fired.push({ atMs: now, fault: 'job-fails', detail: `the submission at ${parallelism} fails while initializing` });
        return `org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy; NoResourceAvailableException: Could not acquire the minimum required resources for parallelism ${parallelism} (fault injected by the live twin).`;
      },
    };
  }
}
