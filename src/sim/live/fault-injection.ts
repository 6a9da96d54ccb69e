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
 *   slow             requests matching `on` (default any: the Kubernetes API's too) are held `ms`
 *                    (default 500) before they are handled — for `count` requests (default: all) or `seconds` wall seconds.
 *   lose-answer      the next request matching `on` (stop | run | fd-patch | scale-patch) is executed,
 *                    then its connection is dropped instead of answered.
 *   lose-request     the next request matching `on` (stop | run) is dropped before it is executed (no answer).
 *   in-place-stuck   the next PUT of resource requirements is accepted, but the job does not rescale
 *                    (not enough slots).
 *   operator-stalls  the Kubernetes operator reconciles no new FlinkDeployment spec for `seconds` wall
 *                    seconds (default: until the twin ends).
 *   operator-rolls-back  the operator's next upgrade fails and it rolls back: the new spec is recorded
 *                    as reconciled with state ROLLED_BACK and an error; the job keeps running as before.
 *   scale-stuck      the next change of the TaskManager Deployment's replicas is stored, but no
 *                    TaskManager comes or goes (status.replicas stays).
 *   kube-error       the next Kubernetes request matching `on` (fd-watch | fd-patch | scale-patch |
 *                    events) is answered `status` (default 500) as a Status and not executed.
 * stop-error, run-error and unavailable (mode 503) answer `message` when given (e.g. a server error
 * that quotes a credential, to check that phoebe never repeats it).
 * `{"faults": [], "replace": true}` disarms everything. GET /__faults also reports the requests
 * that could have cancelled a job (any DELETE, PATCH on /jobs, a cancel path, savepoints with
 * cancel-job), the jobs, and the twin's record accounting.
 */

export type FaultKind =
  | 'stop-error' | 'run-error' | 'savepoint-fails' | 'savepoint-hangs' | 'job-fails' | 'unavailable' | 'slow' | 'lose-answer'
  | 'lose-request' | 'in-place-stuck' | 'operator-stalls' | 'operator-rolls-back' | 'scale-stuck' | 'kube-error';
export type FaultRoute = 'stop' | 'run' | 'savepoint-status' | 'job' | 'overview' | 'any' | KubeRoute;
/** The Kubernetes requests a fault can aim at. */
export type KubeRoute = 'fd-watch' | 'fd-patch' | 'scale-patch' | 'events';

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
  message?: string;
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

const KINDS: ReadonlySet<string> = new Set<FaultKind>([
  'stop-error', 'run-error', 'savepoint-fails', 'savepoint-hangs', 'job-fails', 'unavailable', 'slow', 'lose-answer',
  'lose-request', 'in-place-stuck', 'operator-stalls', 'operator-rolls-back', 'scale-stuck', 'kube-error',
]);
const KUBE_ROUTES: ReadonlySet<string> = new Set<KubeRoute>(['fd-watch', 'fd-patch', 'scale-patch', 'events']);
const ROUTES: ReadonlySet<string> = new Set<FaultRoute>(['stop', 'run', 'savepoint-status', 'job', 'overview', 'any', ...(KUBE_ROUTES as Set<KubeRoute>)]);
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

/** The Kubernetes request a fault can aim at, or 'other'. */
export function kubeRouteOf(method: string, path: string, watch: boolean): KubeRoute | 'other' {
  if (method === 'PATCH' && /^\/apis\/flink\.apache\.org\/v1beta1\/namespaces\/[^/]+\/flinkdeployments\/[^/]+$/.test(path)) return 'fd-patch';
  if (method === 'GET' && watch && /^\/apis\/flink\.apache\.org\/v1beta1\/namespaces\/[^/]+\/flinkdeployments$/.test(path)) return 'fd-watch';
  if (method === 'PATCH' && /^\/apis\/apps\/v1\/namespaces\/[^/]+\/deployments\/[^/]+\/scale$/.test(path)) return 'scale-patch';
  if (method === 'POST' && /^\/(api\/v1|apis\/events\.k8s\.io\/v1)\/namespaces\/[^/]+\/events$/.test(path)) return 'events';
  return 'other';
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
  if (spec.message !== undefined && typeof spec.message !== 'string') throw new FaultSpecError('message must be a string');
  const on = (kinds: readonly string[]): void => {
    if (typeof spec.on !== 'string' || !kinds.includes(spec.on)) throw new FaultSpecError(`${String(spec.fault)} needs on: ${kinds.map((k) => `"${k}"`).join(', ')}`);
  };
  if (spec.fault === 'lose-answer') on(['stop', 'run', 'fd-patch', 'scale-patch']);
  if (spec.fault === 'lose-request') on(['stop', 'run']);
  if (spec.fault === 'kube-error') on([...KUBE_ROUTES]);
  return spec as unknown as FaultSpec;
}

export class FaultInjector {
  private armed: ArmedFault[] = [];
  private readonly fired: { atMs: number; fault: FaultKind; detail: string }[] = [];
  private readonly log: LoggedRequest[] = [];
  private readonly cancels: LoggedRequest[] = [];
  private requestCount = 0;
  private readonly routeCounts: Record<string, number> = {};
  /** Requests a slow fault holds back and has not yet passed on to their handler. */
  private held = 0;
  private unavailableUntilMs = 0;
  private unavailableMode: 'drop' | '503' = 'drop';
  private unavailableMessage: string | undefined;
  /** operator-stalls: wall ms until which the operator reconciles nothing. */
  private operatorStalledUntilMs = 0;

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
      this.operatorStalledUntilMs = 0;
    }
    const now = this.now();
    for (const spec of specs) {
      if (spec.fault === 'unavailable' && spec.after === undefined) {
        this.startUnavailable(spec, now);
        continue;
      }
      if (spec.fault === 'operator-stalls') {
        this.operatorStalledUntilMs = spec.seconds === undefined ? Number.POSITIVE_INFINITY : Math.max(this.operatorStalledUntilMs, now + spec.seconds * 1000);
        this.fired.push({ atMs: now, fault: 'operator-stalls', detail: `the operator reconciles nothing ${spec.seconds === undefined ? 'until the twin ends' : `for ${spec.seconds} s`}` });
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
      /** Requests still held by a slow fault: a test waits for 0 (all executed) instead of guessing a delay. */
      heldRequests: this.held,
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
        this.kubernetesFaults(req, res, next);
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
        if (this.unavailableMode === '503') res.status(503).json({ errors: [this.unavailableMessage ?? 'Service Unavailable (fault injected by the live twin)'] });
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
          const message = armed.spec.message ?? `org.apache.flink.runtime.rest.handler.RestHandlerException: fault injected by the live twin (${kind})`;
          res.status(status).json({ errors: ['Internal server error.', `<Exception on server side:\n${message}\n\tat phoebe.twin(faults)\n\nEnd of exception on server side>`] });
          return;
        }
      }
      if (this.take('lose-request', (a) => a.spec.on === route)) {
        entry.fault = 'lose-request';
        this.fired.push({ atMs: now, fault: 'lose-request', detail: `${req.method} ${path} dropped before it was executed` });
        req.socket.destroy();
        return;
      }
      if (this.take('lose-answer', (a) => a.spec.on === route)) {
        entry.fault = 'lose-answer';
        this.loseAnswer(req, res, now);
      }
      const slow = this.take('slow', (a) => (a.spec.on ?? 'any') === 'any' || a.spec.on === route, now);
      if (slow) {
        entry.fault = entry.fault ?? 'slow';
        this.holdBack(next, slow.spec.ms ?? 500);
        return;
      }
      next();
    };
  }

  /** Hands the request on after `ms`; the handlers are synchronous, so once `held` is back down it was executed. */
  private holdBack(next: NextFunction, ms: number): void {
    this.held++;
    setTimeout(() => {
      this.held--;
      next();
    }, ms);
  }

  /** The request is executed; its answer never arrives (the connection is dropped instead). */
  private loseAnswer(req: Request, res: Response, now: number): void {
    this.fired.push({ atMs: now, fault: 'lose-answer', detail: `${req.method} ${req.path} executed, answer dropped` });
    const socket = req.socket;
    res.end = ((..._args: unknown[]) => {
      socket.destroy();
      return res;
    }) as Response['end'];
  }

  /** Faults on the Kubernetes API (not logged with the Flink REST requests). */
  private kubernetesFaults(req: Request, res: Response, next: NextFunction): void {
    const now = this.now();
    if (req.path !== '/metrics') {
      const slow = this.take('slow', (a) => (a.spec.on ?? 'any') === 'any', now);
      if (slow) {
        this.holdBack(next, slow.spec.ms ?? 500);
        return;
      }
    }
    const route = kubeRouteOf(req.method, req.path, req.query.watch === 'true' || req.query.watch === '1');
    if (route === 'other') {
      next();
      return;
    }
    const error = this.take('kube-error', (a) => a.spec.on === route, now);
    if (error) {
      const status = error.spec.status ?? 500;
      const message = error.spec.message ?? `fault injected by the live twin (kube-error on ${route})`;
      this.fired.push({ atMs: now, fault: 'kube-error', detail: `${req.method} ${req.path} answered ${status}` });
      res.status(status).json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: status === 403 ? 'Forbidden' : 'InternalError', code: status });
      return;
    }
    if (this.take('lose-answer', (a) => a.spec.on === route, now)) this.loseAnswer(req, res, now);
    next();
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
    this.unavailableMessage = spec.message;
    this.fired.push({ atMs: now, fault: 'unavailable', detail: `Flink REST ${this.unavailableMode === 'drop' ? 'drops connections' : 'answers 503'} for ${seconds} s` });
  }

  /** Consumes one armed fault of this kind, if any, and records that it fired. */
  private takeFired(kind: FaultKind, detail: string): boolean {
    const now = this.now();
    if (!this.take(kind, () => true, now)) return false;
    this.fired.push({ atMs: now, fault: kind, detail });
    return true;
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
      takeInPlaceFault: () => this.takeFired('in-place-stuck', 'the new resource requirements are accepted, the job does not rescale'),
      takeScaleFault: () => this.takeFired('scale-stuck', 'the replicas are stored, no TaskManager comes or goes'),
      operatorFault: () => {
        if (this.now() < this.operatorStalledUntilMs) return { kind: 'stall' };
        const rollBack = this.takeFired('operator-rolls-back', 'the upgrade fails; the operator rolls back');
        return rollBack ? { kind: 'roll-back', error: '{"type":"org.apache.flink.kubernetes.operator.exception.DeploymentFailedException","message":"Job failed to start (fault injected by the live twin)"}' } : undefined;
      },
    };
  }
}
