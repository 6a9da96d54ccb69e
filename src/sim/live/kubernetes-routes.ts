import { Router, type NextFunction, type Request, type Response } from 'express';
import { CORE_EVENT, DEPLOYMENT, EVENTS_V1_EVENT, FLINK_DEPLOYMENT, LEASE, type LiveCluster } from './live-cluster.js';
import { KubeError, apiVersionOf, jsonPatch, mergePatch, type KubeObject, type KubeStore, type ResourceType, type StatusCause } from './kube-store.js';

/**
 * The Kubernetes API paths phoebe uses, answering as the API server does (JSON objects, List
 * kinds, meta/v1 Status on failure, newline-delimited watch events), so
 * @kubernetes/client-node works against them. A thin layer over LiveCluster and its KubeStore.
 */

/** Open watch streams, so the server can end them when it stops. */
export interface WatchRegistry {
  add(close: () => void): void;
  delete(close: () => void): void;
}

const DEFAULT_WATCH_SECONDS = 1800;

function param(req: Request, name: string): string {
  return String((req.params as Record<string, string | undefined>)[name] ?? '');
}

function contentType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function requireObject(body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new KubeError(400, 'BadRequest', 'the body of the request must be a JSON object');
  }
  return body as KubeObject;
}

function patchObject(current: KubeObject, req: Request, allowStrategic: boolean): KubeObject {
  const type = contentType(req);
  if (type === 'application/merge-patch+json' || (allowStrategic && type === 'application/strategic-merge-patch+json')) {
    return requireObject(mergePatch(current, requireObject(req.body)));
  }
  if (type === 'application/json-patch+json') return requireObject(jsonPatch(current, req.body));
  const accepted = allowStrategic
    ? 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json'
    : 'application/json-patch+json, application/merge-patch+json';
  throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format (${type || 'none'}) - accepted media types include: ${accepted}`);
}

/**
 * How a collection is shown over how it is stored. Events are one resource with two APIs:
 * both are stored as core/v1 Events and events.k8s.io/v1 converts on the way in and out, so an
 * Event written through either API is listed by both, as on a real cluster.
 */
interface View {
  type: ResourceType;
  stored: ResourceType;
  toStored(object: KubeObject): KubeObject;
  fromStored(object: KubeObject): KubeObject;
}

function identity(type: ResourceType): View {
  return { type, stored: type, toStored: (o) => o, fromStored: (o) => o };
}

function defined(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

const EVENTS_V1_VIEW: View = {
  type: EVENTS_V1_EVENT,
  stored: CORE_EVENT,
  toStored: (e) => defined({
    apiVersion: 'v1', kind: 'Event', metadata: e.metadata,
    involvedObject: e.regarding, reason: e.reason, message: e.note, type: e.type, eventTime: e.eventTime,
    action: e.action, reportingComponent: e.reportingController, reportingInstance: e.reportingInstance,
    related: e.related, series: e.series, source: e.deprecatedSource,
    firstTimestamp: e.deprecatedFirstTimestamp, lastTimestamp: e.deprecatedLastTimestamp, count: e.deprecatedCount,
  }),
  fromStored: (e) => {
    const source = e.source as { component?: string; host?: string } | undefined;
    return defined({
      apiVersion: apiVersionOf(EVENTS_V1_EVENT), kind: 'Event', metadata: e.metadata,
      eventTime: e.eventTime ?? null, reportingController: e.reportingComponent ?? source?.component,
      reportingInstance: e.reportingInstance ?? source?.host, action: e.action, reason: e.reason, regarding: e.involvedObject,
      related: e.related, note: e.message, type: e.type, series: e.series, deprecatedSource: e.source,
      deprecatedFirstTimestamp: e.firstTimestamp, deprecatedLastTimestamp: e.lastTimestamp, deprecatedCount: e.count,
    });
  },
};

function listOf(view: View, store: KubeStore, namespace: string): KubeObject {
  const { items, resourceVersion } = store.list(view.stored, namespace);
  return { kind: `${view.type.kind}List`, apiVersion: apiVersionOf(view.type), metadata: { resourceVersion }, items: items.map(view.fromStored) };
}

function isWatch(req: Request): boolean {
  const w = req.query.watch;
  return w === 'true' || w === '1';
}

function nameFromFieldSelector(req: Request): string | undefined {
  const selector = req.query.fieldSelector;
  if (typeof selector !== 'string') return undefined;
  const match = /(?:^|,)metadata\.name=([^,]+)/.exec(selector);
  return match ? match[1] : undefined;
}

function streamWatch(view: View, store: KubeStore, watches: WatchRegistry, req: Request, res: Response, namespace: string): void {
  const timeout = Number(req.query.timeoutSeconds ?? DEFAULT_WATCH_SECONDS);
  const seconds = Number.isFinite(timeout) && timeout > 0 ? Math.min(timeout, DEFAULT_WATCH_SECONDS) : DEFAULT_WATCH_SECONDS;
  const rv = typeof req.query.resourceVersion === 'string' ? req.query.resourceVersion : undefined;
  res.status(200);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.flushHeaders();
  let unsubscribe: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const close = (): void => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    watches.delete(close);
    if (!res.writableEnded) res.end();
  };
  watches.add(close);
  const name = nameFromFieldSelector(req);
  try {
    unsubscribe = store.watch(view.stored, { namespace, ...(name ? { name } : {}), ...(rv !== undefined ? { resourceVersion: rv } : {}) }, (event) => {
      const shown = event.type === 'ERROR' ? event : { type: event.type, object: view.fromStored(event.object) };
      if (!res.writableEnded) res.write(`${JSON.stringify(shown)}\n`);
      if (event.type === 'ERROR') close();
    });
  } catch (err) {
    const status = err instanceof KubeError ? err.toStatus() : new KubeError(500, 'InternalError', String(err)).toStatus();
    res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    close();
    return;
  }
  timer = setTimeout(close, seconds * 1000);
  req.on('close', close);
}

/** List (or watch), create, read, replace, patch and delete on a namespaced collection of stored objects. */
function plainCollection(router: Router, path: string, view: View, store: KubeStore, watches: WatchRegistry, validate: { create?: (o: KubeObject) => void; update?: (o: KubeObject) => void } = {}): void {
  const { stored } = view;
  router.get(path, (req, res) => {
    const ns = param(req, 'ns');
    if (isWatch(req)) streamWatch(view, store, watches, req, res, ns);
    else res.json(listOf(view, store, ns));
  });
  router.post(path, (req, res) => {
    const object = requireObject(req.body);
    validate.create?.(object);
    res.status(201).json(view.fromStored(store.create(stored, param(req, 'ns'), view.toStored(object))));
  });
  const item = `${path}/:name`;
  router.get(item, (req, res) => {
    res.json(view.fromStored(store.mustGet(stored, param(req, 'ns'), param(req, 'name'))));
  });
  router.put(item, (req, res) => {
    const object = requireObject(req.body);
    validate.update?.(object);
    res.json(view.fromStored(store.update(stored, param(req, 'ns'), param(req, 'name'), view.toStored(object))));
  });
  router.patch(item, (req, res) => {
    const ns = param(req, 'ns');
    const name = param(req, 'name');
    const merged = patchObject(view.fromStored(store.mustGet(stored, ns, name)), req, true);
    validate.update?.(merged);
    res.json(view.fromStored(store.update(stored, ns, name, view.toStored(merged))));
  });
  router.delete(item, (req, res) => {
    store.delete(stored, param(req, 'ns'), param(req, 'name'));
    res.json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: param(req, 'name'), group: view.type.group, kind: view.type.plural } });
  });
}

function invalid(type: ResourceType, object: KubeObject, causes: StatusCause[]): KubeError {
  const name = object.metadata?.name ?? object.metadata?.generateName ?? '';
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new KubeError(422, 'Invalid', `${type.kind}${type.group ? `.${type.group}` : ''} "${name}" is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`, {
    name, group: type.group, kind: type.kind, causes,
  });
}

/** core/v1 Event: needs an involvedObject, as the API server checks. */
function validateCoreEvent(event: KubeObject): void {
  const causes: StatusCause[] = [];
  const involved = event.involvedObject as { kind?: unknown; name?: unknown } | undefined;
  if (!involved || typeof involved !== 'object') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'involvedObject' });
  if (causes.length) throw invalid(CORE_EVENT, event, causes);
}

/** events.k8s.io/v1 Event: eventTime, reportingController, reportingInstance, action, reason, regarding are required. */
function validateEventsV1(event: KubeObject): void {
  const causes: StatusCause[] = [];
  for (const field of ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']) {
    const value = event[field];
    if (typeof value !== 'string' || value === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field });
  }
  if (event.regarding === undefined || typeof event.regarding !== 'object') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'regarding' });
  const type = event.type;
  if (type !== undefined && type !== 'Normal' && type !== 'Warning') {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(type)}: supported values: "Normal", "Warning"`, field: 'type' });
  }
  if (causes.length) throw invalid(EVENTS_V1_EVENT, event, causes);
}

function validateLease(lease: KubeObject): void {
  const spec = lease.spec as { leaseDurationSeconds?: unknown; leaseTransitions?: unknown } | undefined;
  const causes: StatusCause[] = [];
  const duration = spec?.leaseDurationSeconds;
  if (duration !== undefined && (typeof duration !== 'number' || !Number.isInteger(duration) || duration <= 0)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(duration)}: must be greater than 0`, field: 'spec.leaseDurationSeconds' });
  }
  const transitions = spec?.leaseTransitions;
  if (transitions !== undefined && (typeof transitions !== 'number' || !Number.isInteger(transitions) || transitions < 0)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(transitions)}: must be greater than or equal to 0`, field: 'spec.leaseTransitions' });
  }
  if (causes.length) throw invalid(LEASE, lease, causes);
}

export function kubernetesRouter(cluster: LiveCluster, watches: WatchRegistry): Router {
  const router = Router();
  const store = cluster.kube;

  router.get('/version', (_req, res) => {
    res.json({ major: '1', minor: '31', gitVersion: 'v1.31.0-phoebe-twin', platform: `${process.platform}/${process.arch}` });
  });

  // FlinkDeployment: the operator's custom resource; writes are validated against the CRD.
  const fdBase = `/apis/${FLINK_DEPLOYMENT.group}/${FLINK_DEPLOYMENT.version}/namespaces/:ns/${FLINK_DEPLOYMENT.plural}`;
  router.get(fdBase, (req, res) => {
    const ns = param(req, 'ns');
    if (isWatch(req)) streamWatch(identity(FLINK_DEPLOYMENT), store, watches, req, res, ns);
    else res.json(listOf(identity(FLINK_DEPLOYMENT), store, ns));
  });
  router.get(`${fdBase}/:name`, (req, res) => {
    res.json(cluster.flinkDeployment(param(req, 'ns'), param(req, 'name')));
  });
  router.patch(`${fdBase}/:name`, (req, res) => {
    res.json(cluster.patchFlinkDeployment(param(req, 'ns'), param(req, 'name'), contentType(req), req.body));
  });
  router.put(`${fdBase}/:name`, (req, res) => {
    res.json(cluster.replaceFlinkDeployment(param(req, 'ns'), param(req, 'name'), requireObject(req.body)));
  });

  // The TaskManager Deployment and its scale subresource (reactive mode: replicas = parallelism).
  const deployBase = '/apis/apps/v1/namespaces/:ns/deployments';
  router.get(deployBase, (req, res) => {
    const ns = param(req, 'ns');
    if (isWatch(req)) streamWatch(identity(DEPLOYMENT), store, watches, req, res, ns);
    else res.json(listOf(identity(DEPLOYMENT), store, ns));
  });
  router.get(`${deployBase}/:name`, (req, res) => {
    res.json(store.mustGet(DEPLOYMENT, param(req, 'ns'), param(req, 'name')));
  });
  router.get(`${deployBase}/:name/scale`, (req, res) => {
    res.json(cluster.taskManagerScale(param(req, 'ns'), param(req, 'name')));
  });
  router.put(`${deployBase}/:name/scale`, (req, res) => {
    res.json(cluster.updateTaskManagerScale(param(req, 'ns'), param(req, 'name'), requireObject(req.body)));
  });
  router.patch(`${deployBase}/:name/scale`, (req, res) => {
    const ns = param(req, 'ns');
    const name = param(req, 'name');
    const merged = patchObject(cluster.taskManagerScale(ns, name), req, true);
    res.json(cluster.updateTaskManagerScale(ns, name, merged));
  });

  plainCollection(router, '/api/v1/namespaces/:ns/events', identity(CORE_EVENT), store, watches, { create: validateCoreEvent, update: validateCoreEvent });
  plainCollection(router, '/apis/events.k8s.io/v1/namespaces/:ns/events', EVENTS_V1_VIEW, store, watches, { create: validateEventsV1 });
  plainCollection(router, '/apis/coordination.k8s.io/v1/namespaces/:ns/leases', identity(LEASE), store, watches, { create: validateLease, update: validateLease });

  return router;
}

/** Renders KubeError (and malformed JSON) as a meta/v1 Status; unknown errors are 500 InternalError. */
export function kubernetesErrorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  let error: KubeError;
  if (err instanceof KubeError) error = err;
  else if ((err as { type?: string }).type === 'entity.parse.failed') error = new KubeError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`);
  else error = new KubeError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  res.status(error.code).json(error.toStatus());
}

export function kubernetesNotFound(req: Request, res: Response): void {
  res.status(404).json(new KubeError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${req.path})`).toStatus());
}
