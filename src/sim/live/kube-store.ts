import { IdSource } from './ids.js';

/**
 * A small in-memory stand-in for the Kubernetes API server's storage: objects per resource
 * type, one cluster-wide resourceVersion counter, optimistic concurrency, generation for
 * spec changes, and watch streams that replay from a resourceVersion. No HTTP here; the
 * express router in kubernetes-routes.ts is a thin layer over it.
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** metadata.generation is kept and bumped when `spec` changes. */
  hasGeneration: boolean;
  /** A PUT without metadata.resourceVersion is refused (leases, custom resources), as the API server's strategies do. */
  requireResourceVersion?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

/** A failed API call, rendered as a meta/v1 Status object with the same HTTP code. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] },
  ) {
    super(message);
  }

  toStatus(): KubeObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** `deployments.apps`, `events` … as the API server names a resource in messages. */
function qualified(type: ResourceType): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

export function notFound(type: ResourceType, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${qualified(type)} "${name}" not found`, { name, group: type.group, kind: type.plural });
}

/** Kubernetes renders timestamps as RFC 3339 with second precision. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

interface Watcher {
  key: string;
  namespace: string | undefined;
  name: string | undefined;
  send: (event: WatchEvent) => void;
}

/** The oldest resourceVersion a watch may resume from; older ones get 410 Gone, as from etcd compaction. */
const HISTORY_LIMIT = 5000;

export class KubeStore {
  private resourceVersion = 1000;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private readonly history: { rv: number; key: string; event: WatchEvent }[] = [];
  private readonly ids: IdSource;
  private nameSuffix = 0;

  constructor(private readonly nowMs: () => number, idNamespace: string) {
    this.ids = new IdSource(`${idNamespace}/kube`);
  }

  get currentResourceVersion(): string {
    return String(this.resourceVersion);
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const found = this.bucket(type).get(`${namespace}/${name}`);
    return found ? clone(found) : undefined;
  }

  mustGet(type: ResourceType, namespace: string, name: string): KubeObject {
    const found = this.get(type, namespace, name);
    if (!found) throw notFound(type, name);
    return found;
  }

  list(type: ResourceType, namespace?: string): { items: KubeObject[]; resourceVersion: string } {
    const items: KubeObject[] = [];
    for (const object of this.bucket(type).values()) {
      if (namespace === undefined || object.metadata?.namespace === namespace) items.push(clone(object));
    }
    items.sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion));
    return { items, resourceVersion: this.currentResourceVersion };
  }

  /** POST: 409 AlreadyExists when the name is taken; generateName gets a suffix. */
  create(type: ResourceType, namespace: string, input: KubeObject): KubeObject {
    const object = clone(input);
    const metadata: ObjectMeta = { ...(object.metadata ?? {}) };
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw new KubeError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (!metadata.name) {
      if (!metadata.generateName) {
        throw new KubeError(422, 'Invalid', `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, {
          kind: type.kind, group: type.group, causes: [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }],
        });
      }
      metadata.name = `${metadata.generateName}${this.suffix()}`;
    }
    const name = metadata.name;
    const bucket = this.bucket(type);
    if (bucket.has(`${namespace}/${name}`)) {
      throw new KubeError(409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`, { name, group: type.group, kind: type.plural });
    }
    delete metadata.resourceVersion;
    metadata.namespace = namespace;
    metadata.uid = this.ids.uid('uid');
    metadata.creationTimestamp = rfc3339(this.nowMs());
    if (type.hasGeneration) metadata.generation = 1;
    else delete metadata.generation;
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    object.metadata = metadata;
    return this.commit(type, `${namespace}/${name}`, object, 'ADDED');
  }

  /**
   * PUT semantics: replaces the object. A resourceVersion in the input must match (409
   * Conflict otherwise, the optimistic concurrency every controller relies on); without one the
   * update is unconditional. Immutable metadata is kept; generation is bumped when spec changed.
   */
  update(type: ResourceType, namespace: string, name: string, input: KubeObject): KubeObject {
    const key = `${namespace}/${name}`;
    const current = this.bucket(type).get(key);
    if (!current) throw notFound(type, name);
    const object = clone(input);
    const metadata: ObjectMeta = { ...(object.metadata ?? {}) };
    if (metadata.name !== undefined && metadata.name !== name) {
      throw new KubeError(400, 'BadRequest', `the name of the object (${metadata.name}) does not match the name on the URL (${name})`);
    }
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw new KubeError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    const currentMeta = current.metadata ?? {};
    if (type.requireResourceVersion && (metadata.resourceVersion === undefined || metadata.resourceVersion === '')) {
      throw new KubeError(422, 'Invalid', `${type.kind}${type.group ? `.${type.group}` : ''} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`, {
        name, group: type.group, kind: type.kind,
        causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update', field: 'metadata.resourceVersion' }],
      });
    }
    if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== '' && metadata.resourceVersion !== currentMeta.resourceVersion) {
      throw new KubeError(409, 'Conflict',
        `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: type.group, kind: type.plural });
    }
    metadata.name = name;
    metadata.namespace = namespace;
    metadata.uid = currentMeta.uid;
    metadata.creationTimestamp = currentMeta.creationTimestamp;
    if (type.hasGeneration) {
      const changed = JSON.stringify(object.spec ?? null) !== JSON.stringify(current.spec ?? null);
      metadata.generation = (currentMeta.generation ?? 1) + (changed ? 1 : 0);
    } else {
      delete metadata.generation;
    }
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    object.metadata = metadata;
    const before = JSON.stringify({ ...current, metadata: { ...currentMeta, resourceVersion: undefined } });
    const after = JSON.stringify({ ...object, metadata: { ...metadata, resourceVersion: undefined } });
    // A no-op update keeps the resourceVersion and sends no watch event, like the API server.
    if (before === after) return clone(current);
    return this.commit(type, key, object, 'MODIFIED');
  }

  delete(type: ResourceType, namespace: string, name: string): KubeObject {
    const key = `${namespace}/${name}`;
    const current = this.bucket(type).get(key);
    if (!current) throw notFound(type, name);
    this.bucket(type).delete(key);
    this.resourceVersion++;
    const object = clone(current);
    object.metadata = { ...(object.metadata ?? {}), resourceVersion: String(this.resourceVersion) };
    this.publish(type, { type: 'DELETED', object });
    return clone(object);
  }

  /**
   * Subscribes to changes of one resource type (in one namespace, optionally one name).
   * `resourceVersion` unset or "0": synthetic ADDED events for what exists, then changes;
   * otherwise every change after that version, or 410 Gone when it is older than the history.
   */
  watch(type: ResourceType, options: { namespace?: string; name?: string; resourceVersion?: string }, send: (event: WatchEvent) => void): () => void {
    const key = this.typeKey(type);
    const matches = (object: KubeObject): boolean =>
      (options.namespace === undefined || object.metadata?.namespace === options.namespace) &&
      (options.name === undefined || object.metadata?.name === options.name);
    const rv = options.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      for (const object of this.list(type, options.namespace).items) if (matches(object)) send({ type: 'ADDED', object });
    } else {
      const since = Number(rv);
      if (!Number.isInteger(since)) throw new KubeError(400, 'BadRequest', `invalid resourceVersion "${rv}"`);
      const oldest = this.history[0]?.rv ?? this.resourceVersion + 1;
      if (since < oldest - 1 && since < this.resourceVersion) {
        send({ type: 'ERROR', object: new KubeError(410, 'Expired', `too old resource version: ${since} (${oldest - 1})`).toStatus() });
        return () => undefined;
      }
      for (const entry of this.history) {
        if (entry.key === key && entry.rv > since && matches(entry.event.object)) send(clone(entry.event));
      }
    }
    const watcher: Watcher = {
      key,
      namespace: options.namespace,
      name: options.name,
      send: (event) => { if (matches(event.object)) send(event); },
    };
    this.watchers.add(watcher);
    return () => { this.watchers.delete(watcher); };
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  private commit(type: ResourceType, key: string, object: KubeObject, eventType: WatchEventType): KubeObject {
    this.resourceVersion++;
    (object.metadata as ObjectMeta).resourceVersion = String(this.resourceVersion);
    this.bucket(type).set(key, object);
    this.publish(type, { type: eventType, object: clone(object) });
    return clone(object);
  }

  private publish(type: ResourceType, event: WatchEvent): void {
    const key = this.typeKey(type);
    this.history.push({ rv: this.resourceVersion, key, event });
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    for (const watcher of this.watchers) {
      if (watcher.key === key) watcher.send(clone(event));
    }
  }

  private suffix(): string {
    // Five characters from Kubernetes' name-suffix alphabet (no vowels), deterministic.
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let n = ++this.nameSuffix * 7919 + 104729;
    let out = '';
    for (let i = 0; i < 5; i++) {
      out += alphabet[n % alphabet.length];
      n = Math.floor(n / alphabet.length) + i * 31;
    }
    return out;
  }

  private typeKey(type: ResourceType): string {
    return `${type.group}/${type.version}/${type.plural}`;
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    const key = this.typeKey(type);
    let bucket = this.objects.get(key);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(key, bucket);
    }
    return bucket;
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test); 422 on a bad operation. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new KubeError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of operations as JsonPatchOp[]) {
    if (raw === null || typeof raw !== 'object' || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new KubeError(400, 'BadRequest', 'every JSON patch operation needs "op" and "path"');
    }
    const { op, path } = raw;
    switch (op) {
      case 'add': doc = pointerSet(doc, path, clone(raw.value), 'add'); break;
      case 'replace': pointerGet(doc, path); doc = pointerSet(doc, path, clone(raw.value), 'replace'); break;
      case 'remove': doc = pointerRemove(doc, path); break;
      case 'move': {
        const value = pointerGet(doc, raw.from ?? '');
        doc = pointerRemove(doc, raw.from ?? '');
        doc = pointerSet(doc, path, value, 'add');
        break;
      }
      case 'copy': doc = pointerSet(doc, path, clone(pointerGet(doc, raw.from ?? '')), 'add'); break;
      case 'test':
        if (JSON.stringify(pointerGet(doc, path)) !== JSON.stringify(raw.value)) {
          throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: test operation failed at ${path}`);
        }
        break;
      default: throw new KubeError(400, 'BadRequest', `unknown JSON patch operation "${op}"`);
    }
  }
  return doc;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new KubeError(422, 'Invalid', `invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerGet(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const token of tokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (node !== null && typeof node === 'object') node = (node as Record<string, unknown>)[token];
    else node = undefined;
    if (node === undefined) throw new KubeError(422, 'Invalid', `the server rejected our request due to an error in our request: path ${pointer} does not exist`);
  }
  return node;
}

function parentOf(doc: unknown, pointer: string): { parent: unknown; last: string } {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) throw new KubeError(422, 'Invalid', 'cannot change the document root with a JSON patch');
  const parentPointer = path.length === 0 ? '' : `/${path.map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
  return { parent: pointerGet(doc, parentPointer), last };
}

function pointerSet(doc: unknown, pointer: string, value: unknown, mode: 'add' | 'replace'): unknown {
  if (pointer === '') return value;
  const { parent, last } = parentOf(doc, pointer);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new KubeError(422, 'Invalid', `array index out of range at ${pointer}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (parent !== null && typeof parent === 'object') {
    (parent as Record<string, unknown>)[last] = value;
  } else {
    throw new KubeError(422, 'Invalid', `cannot set ${pointer}: its parent is not an object`);
  }
  return doc;
}

function pointerRemove(doc: unknown, pointer: string): unknown {
  pointerGet(doc, pointer);
  const { parent, last } = parentOf(doc, pointer);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, unknown>)[last];
  return doc;
}
