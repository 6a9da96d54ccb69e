/**
 * A scripted Kubernetes API server on 127.0.0.1 for the actuators: one FlinkDeployment (with a
 * simulated operator that reconciles a changed spec step by step and notifies watchers), one
 * TaskManager Deployment's scale subresource, and core/v1 Events. Bodies follow the FlinkDeployment
 * CRD (flink.apache.org/v1beta1), autoscaling/v1 Scale and core/v1 Event.
 */
import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http.js';

export const NS = 'streaming';
export const FD_NAME = 'cars';
export const FD_UID = '6f1a3c52-1b9e-4a55-9d0e-3f2f0c4b7e11';
export const TM_NAME = 'cars-taskmanager';
export const TM_UID = '0b8a7e3c-2d44-4e0f-8a51-7c9e5d2f6a90';

type Json = Record<string, unknown>;

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Json = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch as Json)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface FakeKubeScript {
  /** progress: the operator upgrades and runs the job; never: it never reconciles; rollback: it rolls back. */
  operator?: 'progress' | 'never' | 'rollback';
  /** Delay between operator steps (ms). */
  stepMs?: number;
  /** The watch endpoint answers 500 instead of streaming. */
  watchBroken?: boolean;
  /** The events endpoint answers this status instead of 201. */
  eventsStatus?: number;
  /** The TaskManager Deployment never reaches the requested replicas. */
  scaleStuck?: boolean;
  initialParallelism?: number;
  upgradeMode?: 'savepoint' | 'last-state' | 'stateless';
  jobState?: 'running' | 'suspended';
  /** Initial flinkConfiguration (nested like the operator's examples). */
  flinkConfiguration?: Json;
  tmReplicas?: number;
  /** PATCHes are applied at once but answered after this many ms (a lost answer when above the client's timeout). */
  patchAnswerMs?: number;
}

function status(code: number, reason: string, message: string): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export class FakeKube {
  readonly http = new FakeHttpServer();
  fd: Json;
  scale: Json;
  readonly events: Json[] = [];
  private readonly watchers = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private resourceVersion = 1000;

  constructor(readonly script: FakeKubeScript = {}) {
    const p = script.initialParallelism ?? 2;
    const spec = {
      image: 'flink:2.2',
      flinkVersion: 'v2_2',
      flinkConfiguration: script.flinkConfiguration ?? { 'taskmanager.numberOfTaskSlots': 2, state: { 'savepoints.dir': 'file:///flink-data/savepoints' } },
      serviceAccount: 'flink',
      jobManager: { resource: { memory: '2048m', cpu: 1 } },
      taskManager: { resource: { memory: '2048m', cpu: 1 } },
      job: { jarURI: 'local:///opt/flink/examples/streaming/TopSpeedWindowing.jar', parallelism: p, upgradeMode: script.upgradeMode ?? 'savepoint', state: script.jobState ?? 'running' },
    };
    this.fd = {
      apiVersion: 'flink.apache.org/v1beta1',
      kind: 'FlinkDeployment',
      metadata: { name: FD_NAME, namespace: NS, uid: FD_UID, generation: 3, resourceVersion: String(this.resourceVersion), creationTimestamp: '2025-11-25T00:00:00Z' },
      spec,
      status: {
        lifecycleState: 'STABLE',
        jobManagerDeploymentStatus: 'READY',
        jobStatus: { jobId: 'a3f4c8a1b2c3d4e5f60718293a4b5c6d', jobName: 'CarTopSpeedWindowingExample', state: 'RUNNING', startTime: '1732500000000', updateTime: '1732500100000' },
        reconciliationStatus: { state: 'DEPLOYED', reconciliationTimestamp: 1732500000000, lastReconciledSpec: this.reconciled(spec, 3), lastStableSpec: this.reconciled(spec, 3) },
        clusterInfo: { 'flink-version': '2.2.0', 'total-cpu': '3.0', 'total-memory': '6442450944' },
        taskManager: { labelSelector: 'component=taskmanager,app=cars', replicas: 1 },
        observedGeneration: 3,
      },
    };
    const replicas = script.tmReplicas ?? 1;
    this.scale = {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: TM_NAME, namespace: NS, uid: TM_UID, resourceVersion: String(this.resourceVersion), creationTimestamp: '2025-11-25T00:00:00Z' },
      spec: { replicas },
      status: { replicas, selector: 'app=cars,component=taskmanager' },
    };
    this.routes();
  }

  private reconciled(spec: unknown, generation: number): string {
    return JSON.stringify({ spec, resource_metadata: { apiVersion: 'flink.apache.org/v1beta1', metadata: { generation }, firstDeployment: false } });
  }

  start(): Promise<string> {
    return this.http.start();
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const w of this.watchers) w.end();
    await this.http.close();
  }

  private bump(obj: Json): void {
    this.resourceVersion += 1;
    (obj.metadata as Json).resourceVersion = String(this.resourceVersion);
  }

  private notify(type: string): void {
    const line = `${JSON.stringify({ type, object: this.fd })}\n`;
    for (const w of this.watchers) w.write(line);
  }

  /** Applies a status change as the operator would, and tells the watchers. */
  setStatus(change: Json): void {
    this.fd.status = mergePatch(this.fd.status, change) as Json;
    this.bump(this.fd);
    this.notify('MODIFIED');
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private operate(generation: number): void {
    const mode = this.script.operator ?? 'progress';
    if (mode === 'never') return;
    const spec = this.fd.spec;
    const steps: Json[] =
      mode === 'rollback'
        ? [
            { lifecycleState: 'UPGRADING', reconciliationStatus: { state: 'UPGRADING', lastReconciledSpec: this.reconciled(spec, generation) } },
            { jobStatus: { state: 'FAILED' }, error: '{"type":"org.apache.flink.kubernetes.operator.exception.DeploymentFailedException","message":"Job failed to start"}' },
            { lifecycleState: 'ROLLED_BACK', reconciliationStatus: { state: 'ROLLED_BACK' }, jobStatus: { state: 'RUNNING' } },
          ]
        : [
            // The operator records the new spec as reconciled when the upgrade starts; the old job still runs.
            { lifecycleState: 'UPGRADING', reconciliationStatus: { state: 'UPGRADING', lastReconciledSpec: this.reconciled(spec, generation) } },
            { jobStatus: { state: 'FINISHED' }, jobManagerDeploymentStatus: 'DEPLOYING' },
            { lifecycleState: 'DEPLOYED', reconciliationStatus: { state: 'DEPLOYED' }, jobStatus: { state: 'RECONCILING', jobId: 'b4e5d9c2a1f0e3d2c1b0a9f8e7d6c5b4' }, jobManagerDeploymentStatus: 'READY' },
            { jobStatus: { state: 'CREATED' } },
            { jobStatus: { state: 'RUNNING' }, observedGeneration: generation },
            { lifecycleState: 'STABLE', reconciliationStatus: { lastStableSpec: this.reconciled(spec, generation) } },
          ];
    const stepMs = this.script.stepMs ?? 20;
    steps.forEach((step, i) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.setStatus(step);
      }, stepMs * (i + 1));
      this.timers.add(t);
    });
  }

  private routes(): void {
    const h = this.http;
    const fdPath = new RegExp(`^/apis/flink\\.apache\\.org/v1beta1/namespaces/([^/]+)/flinkdeployments/([^/]+)$`);
    const fdCollection = /^\/apis\/flink\.apache\.org\/v1beta1\/namespaces\/([^/]+)\/flinkdeployments$/;
    const found = (m: RegExpMatchArray, res: ServerResponse): boolean => {
      if (m[1] === NS && m[2] === FD_NAME) return true;
      sendJson(res, 404, status(404, 'NotFound', `flinkdeployments.flink.apache.org "${m[2]}" not found`));
      return false;
    };
    h.on('GET', fdPath, (_req, res, m) => {
      if (found(m, res)) sendJson(res, 200, this.fd);
    });
    h.on('PATCH', fdPath, (req, res, m) => {
      if (!found(m, res)) return;
      if (req.headers['content-type'] !== 'application/merge-patch+json') {
        sendJson(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
        return;
      }
      const before = JSON.stringify(this.fd.spec);
      this.fd = mergePatch(this.fd, req.json) as Json;
      const meta = this.fd.metadata as Json;
      if (JSON.stringify(this.fd.spec) !== before) meta.generation = (meta.generation as number) + 1;
      this.bump(this.fd);
      const answer = JSON.parse(JSON.stringify(this.fd)) as Json;
      if (this.script.patchAnswerMs) this.later(() => sendJson(res, 200, answer), this.script.patchAnswerMs);
      else sendJson(res, 200, answer);
      this.notify('MODIFIED');
      this.operate(meta.generation as number);
    });
    h.on('GET', fdCollection, (req, res, m) => {
      if (req.query.get('watch') !== 'true') {
        sendJson(res, 200, { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeploymentList', metadata: { resourceVersion: String(this.resourceVersion) }, items: m[1] === NS ? [this.fd] : [] });
        return;
      }
      if (this.script.watchBroken) {
        sendJson(res, 500, status(500, 'InternalError', 'watch is broken in this test'));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      if (req.query.get('fieldSelector') === `metadata.name=${FD_NAME}` && m[1] === NS) {
        res.write(`${JSON.stringify({ type: 'ADDED', object: this.fd })}\n`);
        this.watchers.add(res);
        res.on('close', () => this.watchers.delete(res));
      }
    });

    const scalePath = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/;
    const scaleFound = (m: RegExpMatchArray, res: ServerResponse): boolean => {
      if (m[1] === NS && m[2] === TM_NAME) return true;
      sendJson(res, 404, status(404, 'NotFound', `deployments.apps "${m[2]}" not found`));
      return false;
    };
    h.on('GET', scalePath, (_req, res, m) => {
      if (!scaleFound(m, res)) return;
      sendJson(res, 200, this.scale);
      // The Deployment controller converges one replica per look.
      const spec = (this.scale.spec as Json).replicas as number;
      const st = this.scale.status as Json;
      if (!this.script.scaleStuck && st.replicas !== spec) st.replicas = (st.replicas as number) + Math.sign(spec - (st.replicas as number));
    });
    h.on('PATCH', scalePath, (req, res, m) => {
      if (!scaleFound(m, res)) return;
      if (req.headers['content-type'] !== 'application/merge-patch+json') {
        sendJson(res, 415, status(415, 'UnsupportedMediaType', 'unsupported patch type'));
        return;
      }
      this.scale = mergePatch(this.scale, req.json) as Json;
      this.bump(this.scale);
      const answer = JSON.parse(JSON.stringify(this.scale)) as Json;
      if (this.script.patchAnswerMs) this.later(() => sendJson(res, 200, answer), this.script.patchAnswerMs);
      else sendJson(res, 200, answer);
    });

    h.on('POST', /^\/api\/v1\/namespaces\/([^/]+)\/events$/, (req: RecordedRequest, res) => {
      if (this.script.eventsStatus) {
        sendJson(res, this.script.eventsStatus, status(this.script.eventsStatus, 'Forbidden', 'events is forbidden: User "system:serviceaccount:streaming:phoebe" cannot create resource "events"'));
        return;
      }
      const body = req.json as Json;
      this.events.push(body);
      sendJson(res, 201, { ...body, metadata: { ...(body.metadata as Json), uid: 'e-uid', resourceVersion: String(++this.resourceVersion) } });
    });
  }
}
