/**
 * `flink-deployment`: rescales a job managed by the Flink Kubernetes Operator by merge-patching its
 * FlinkDeployment (flink.apache.org/v1beta1):
 *   spec.job.parallelism = p, and when configured per vertex also
 *   spec.flinkConfiguration["pipeline.jobvertex-parallelism-overrides"] = "vertex:p,…".
 * The operator performs the upgrade its spec.job.upgradeMode prescribes (savepoint or last-state;
 * stateless is refused unless allowed, as it would restart the job without state). phoebe then waits —
 * a watch on the collection with fieldSelector metadata.name=<name>, plus a periodic GET that also
 * serves as the fallback when the watch fails — until status.jobStatus.state is RUNNING and
 * status.reconciliationStatus.lastReconciledSpec shows the new parallelism (bounded by a timeout).
 */
import { PatchStrategy } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Actuator, RescaleRequest, RescaleResult } from '../actuator.js';
import { describeError, isHttpAnswer, redact } from '../errors.js';
import { callOptions, type KubeClients } from './client.js';
import { eventsOn, RescaleGuard, type RescaleSeen } from '../guarded-rescale.js';
import type { RescaleEventSink } from './events.js';
import { stderrLogger, type ActLogger } from '../logger.js';
import { Deadline } from '../timing.js';

export const FLINK_GROUP = 'flink.apache.org';
export const FLINK_VERSION = 'v1beta1';
export const FLINK_PLURAL = 'flinkdeployments';
export const VERTEX_OVERRIDES_KEY = 'pipeline.jobvertex-parallelism-overrides';

export interface FlinkDeploymentActuatorOptions {
  kube: Pick<KubeClients, 'customObjects' | 'watch'>;
  namespace: string;
  /** metadata.name of the FlinkDeployment. */
  name: string;
  /**
   * Also write pipeline.jobvertex-parallelism-overrides: every listed vertex (32-hex JobVertexID) at
   * the new parallelism, `pinned` vertices at their fixed parallelism.
   */
  perVertex?: { vertexIds: string[]; pinned?: Record<string, number> };
  /** Allow rescaling when spec.job.upgradeMode is stateless (the job restarts without state). Default false. */
  allowStatelessUpgrade?: boolean;
  /** Per-request timeout (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** How long the operator may take to run the job at the new parallelism (ms). Default 900 000. */
  readyTimeoutMs?: number;
  /** Interval of the status GET that runs alongside the watch (ms). Default 10 000. */
  pollIntervalMs?: number;
  /** Watch the object (default true); false polls only. */
  useWatch?: boolean;
  /** fieldManager of the patch. Default "phoebe". */
  fieldManager?: string;
  /** Record a Kubernetes Event on the FlinkDeployment for every rescale. */
  events?: RescaleEventSink;
  logger?: ActLogger;
  /** Time for the status polls and the timeout. Default: the system clock. */
  clock?: Clock;
}

/** The fields of a FlinkDeployment this actuator reads (see the CRD). */
export interface FlinkDeploymentObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number; resourceVersion?: string };
  spec?: {
    job?: { parallelism?: number; state?: string; upgradeMode?: string };
    flinkConfiguration?: Record<string, unknown>;
  };
  status?: {
    lifecycleState?: string;
    error?: string;
    jobStatus?: { state?: string; jobId?: string };
    reconciliationStatus?: { lastReconciledSpec?: string; lastStableSpec?: string; state?: string };
  };
}

interface ReconciledSpec {
  spec: NonNullable<FlinkDeploymentObject['spec']>;
  /** metadata.generation the operator reconciled (newer operators record it). */
  generation: number | undefined;
}

/**
 * lastReconciledSpec is a JSON string: {"spec": {...}, "resource_metadata": {"metadata": {"generation": n}, …}}
 * in current operators, the bare spec in old ones.
 */
export function parseReconciledSpec(text: string | undefined): ReconciledSpec | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (!parsed || typeof parsed !== 'object') return undefined;
    if ('resource_metadata' in parsed || ('spec' in parsed && typeof parsed.spec === 'object')) {
      const meta = parsed.resource_metadata as { metadata?: { generation?: unknown } } | undefined;
      const generation = typeof meta?.metadata?.generation === 'number' ? meta.metadata.generation : undefined;
      return { spec: (parsed.spec ?? {}) as ReconciledSpec['spec'], generation };
    }
    return { spec: parsed as ReconciledSpec['spec'], generation: undefined };
  } catch {
    return undefined;
  }
}

/** A flinkConfiguration value by its dotted key, whether the map is flat or nested YAML. */
export function configValue(conf: unknown, key: string): unknown {
  if (!conf || typeof conf !== 'object') return undefined;
  const map = conf as Record<string, unknown>;
  if (key in map) return map[key];
  const parts = key.split('.');
  for (let i = 1; i < parts.length; i++) {
    const head = parts.slice(0, i).join('.');
    if (head in map) {
      const found = configValue(map[head], parts.slice(i).join('.'));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function parseOverrides(value: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (typeof value !== 'string') return out;
  for (const pair of value.split(',')) {
    const [id, p] = pair.split(':').map((s) => s.trim());
    if (id && p && /^\d+$/.test(p)) out.set(id, Number(p));
  }
  return out;
}

function sameOverrides(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

type Check = { done: true } | { done: false; fatal: boolean; state: string };

export class FlinkDeploymentActuator implements Actuator {
  readonly mode = 'flink-deployment' as const;
  private readonly options: FlinkDeploymentActuatorOptions;
  private readonly logger: ActLogger;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly guard: RescaleGuard;

  constructor(options: FlinkDeploymentActuatorOptions) {
    if (!options.namespace || !options.name) throw new Error('flink-deployment actuator: set namespace and name');
    for (const id of options.perVertex?.vertexIds ?? []) {
      if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`flink-deployment actuator: vertex id "${id}" is not 32 hex characters`);
    }
    if (options.perVertex && options.perVertex.vertexIds.length === 0) throw new Error('flink-deployment actuator: perVertex.vertexIds is empty');
    this.options = options;
    this.logger = options.logger ?? stderrLogger;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.guard = new RescaleGuard(this.clock);
  }

  private get ref(): string {
    return `FlinkDeployment ${this.options.namespace}/${this.options.name}`;
  }

  private async read(): Promise<FlinkDeploymentObject> {
    return (await this.options.kube.customObjects.getNamespacedCustomObject(
      { group: FLINK_GROUP, version: FLINK_VERSION, namespace: this.options.namespace, plural: FLINK_PLURAL, name: this.options.name },
      callOptions(this.timeoutMs),
    )) as FlinkDeploymentObject;
  }

  async currentParallelism(): Promise<number | undefined> {
    try {
      const obj = await this.read();
      if (obj.status?.jobStatus?.state !== 'RUNNING') return undefined;
      return parseReconciledSpec(obj.status.reconciliationStatus?.lastReconciledSpec)?.spec.job?.parallelism ?? obj.spec?.job?.parallelism;
    } catch {
      return undefined;
    }
  }

  /** The overrides value for parallelism p (listed vertices at p, pinned ones at their value). */
  overridesFor(p: number): string {
    const pv = this.options.perVertex;
    if (!pv) return '';
    const pinned = pv.pinned ?? {};
    const entries = new Map<string, number>(pv.vertexIds.map((id) => [id, pinned[id] ?? p]));
    for (const [id, fixed] of Object.entries(pinned)) entries.set(id, fixed);
    return [...entries].map(([id, v]) => `${id}:${v}`).join(',');
  }

  rescale(request: RescaleRequest): Promise<RescaleResult> {
    return this.guard.perform({
      mode: this.mode, request, logger: this.logger, errorPrefix: this.ref,
      logFields: () => ({ target: this.ref }),
      run: (seen: RescaleSeen) => this.run(request, seen),
      ...eventsOn(this.options.events, { apiVersion: `${FLINK_GROUP}/${FLINK_VERSION}`, kind: 'FlinkDeployment', name: this.options.name, namespace: this.options.namespace }),
    });
  }

  private async run(request: RescaleRequest, seen: { from?: number; uid?: string }): Promise<Omit<RescaleResult, 'seconds'>> {
    const p = request.parallelism;
    if (!Number.isInteger(p) || p < 1) return { outcome: 'failed', detail: `invalid parallelism ${p}` };
    const obj = await this.read();
    seen.uid = obj.metadata?.uid;
    const job = obj.spec?.job;
    if (!job) return { outcome: 'failed', detail: `${this.ref} has no spec.job (session cluster?)` };
    const reconciled = parseReconciledSpec(obj.status?.reconciliationStatus?.lastReconciledSpec);
    seen.from = reconciled?.spec.job?.parallelism ?? job.parallelism;
    if (job.state === 'suspended') return { outcome: 'failed', detail: `${this.ref} is suspended (spec.job.state)` };
    if (job.upgradeMode === 'stateless' && !this.options.allowStatelessUpgrade) {
      return { outcome: 'failed', detail: `${this.ref} has upgradeMode stateless: a rescale would restart the job without state (set allowStatelessUpgrade to permit)` };
    }

    const overrides = this.options.perVertex ? this.overridesFor(p) : undefined;
    const specOverrides = parseOverrides(configValue(obj.spec?.flinkConfiguration, VERTEX_OVERRIDES_KEY));
    const specAtTarget = job.parallelism === p && (overrides === undefined || sameOverrides(specOverrides, parseOverrides(overrides)));
    let generation = obj.metadata?.generation;

    if (specAtTarget) {
      const check = this.check(obj, p, overrides, generation);
      if (check.done) return { outcome: 'skipped', parallelism: p, detail: `${this.ref} already runs at ${p}` };
      this.logger.info('spec already requests the target; waiting for the operator', { target: this.ref, to: p });
    } else {
      const body: Record<string, unknown> = {
        spec: {
          job: { parallelism: p },
          ...(overrides !== undefined ? { flinkConfiguration: { [VERTEX_OVERRIDES_KEY]: overrides } } : {}),
        },
      };
      this.logger.info('patching FlinkDeployment', { target: this.ref, from: seen.from, to: p });
      let patched: FlinkDeploymentObject;
      try {
        patched = (await this.options.kube.customObjects.patchNamespacedCustomObject(
          {
            group: FLINK_GROUP,
            version: FLINK_VERSION,
            namespace: this.options.namespace,
            plural: FLINK_PLURAL,
            name: this.options.name,
            body,
            fieldManager: this.options.fieldManager ?? 'phoebe',
          },
          callOptions(this.timeoutMs, PatchStrategy.MergePatch),
        )) as FlinkDeploymentObject;
      } catch (err) {
        if (isHttpAnswer(err)) throw err;
        // No answer: the patch may still have been applied. Look before giving up.
        const now = await this.read();
        const applied = now.spec?.job?.parallelism === p && (overrides === undefined || sameOverrides(parseOverrides(configValue(now.spec?.flinkConfiguration, VERTEX_OVERRIDES_KEY)), parseOverrides(overrides)));
        if (!applied) throw err;
        this.logger.warn('patch unanswered but applied; waiting for the operator', { target: this.ref, error: describeError(err) });
        patched = now;
      }
      generation = patched?.metadata?.generation ?? generation;
      seen.uid = patched?.metadata?.uid ?? seen.uid;
    }

    const readyTimeoutMs = this.options.readyTimeoutMs ?? 900_000;
    const waited = await this.waitFor(p, overrides, generation, readyTimeoutMs);
    if (waited.done) {
      return { outcome: 'completed', parallelism: p, detail: `${this.ref}: spec.job.parallelism ${seen.from ?? '?'} → ${p}${overrides ? ' (with vertex overrides)' : ''}; reconciled and RUNNING` };
    }
    const why = waited.fatal ? 'failed' : `not RUNNING at ${p} within ${Math.round(readyTimeoutMs / 1000)} s`;
    return { outcome: 'failed', detail: `${this.ref} patched to ${p} but ${why} (${waited.state})` };
  }

  /** Whether the object shows the job running at p as reconciled from our patch (or newer). */
  private check(obj: FlinkDeploymentObject, p: number, overrides: string | undefined, generation: number | undefined): Check {
    const status = obj.status ?? {};
    const rec = parseReconciledSpec(status.reconciliationStatus?.lastReconciledSpec);
    const recP = rec?.spec.job?.parallelism;
    const recState = status.reconciliationStatus?.state;
    const jobState = status.jobStatus?.state;
    const generationOk = rec?.generation === undefined || generation === undefined || rec.generation >= generation;
    const overridesOk = overrides === undefined || sameOverrides(parseOverrides(configValue(rec?.spec.flinkConfiguration, VERTEX_OVERRIDES_KEY)), parseOverrides(overrides));
    const state = [
      `job ${jobState ?? '?'}`,
      `reconciliation ${recState ?? '?'}`,
      `reconciled parallelism ${recP ?? '?'}`,
      `lifecycle ${status.lifecycleState ?? '?'}`,
      ...(status.error ? [`error: ${redact(status.error, 160)}`] : []),
    ].join(', ');
    if (recP === p && generationOk && overridesOk) {
      if (recState === 'ROLLED_BACK' || recState === 'ROLLING_BACK') return { done: false, fatal: true, state: `operator rolled back; ${state}` };
      if (jobState === 'RUNNING' && (recState === undefined || recState === 'DEPLOYED')) return { done: true };
    }
    return { done: false, fatal: false, state };
  }

  /** Watch + periodic GET until check() is done or fatal, bounded by timeoutMs. */
  private async waitFor(p: number, overrides: string | undefined, generation: number | undefined, timeoutMs: number): Promise<Check> {
    const deadline = new Deadline(timeoutMs, this.clock);
    let last: Check = { done: false, fatal: false, state: 'no status seen' };
    let settled: Check | undefined;
    let finished = false;
    // Aborted when the watch settles it, so the wait for the next poll ends at once.
    const woken = new AbortController();
    const settle = (c: Check): void => {
      last = c;
      if (c.done || ('fatal' in c && c.fatal)) {
        settled = c;
        woken.abort();
      }
    };

    let watchController: Promise<AbortController | undefined> = Promise.resolve(undefined);
    if (this.options.useWatch !== false) {
      const path = `/apis/${FLINK_GROUP}/${FLINK_VERSION}/namespaces/${encodeURIComponent(this.options.namespace)}/${FLINK_PLURAL}`;
      watchController = this.options.kube.watch
        .watch(
          path,
          { fieldSelector: `metadata.name=${this.options.name}`, timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) },
          (phase: string, obj: unknown) => {
            if (settled) return;
            if (phase === 'DELETED') settle({ done: false, fatal: true, state: `${this.ref} was deleted` });
            else if (phase === 'ADDED' || phase === 'MODIFIED') settle(this.check(obj as FlinkDeploymentObject, p, overrides, generation));
          },
          (err: unknown) => {
            if (!settled && !finished && err) this.logger.warn('watch ended; polling instead', { target: this.ref, error: describeError(err) });
          },
        )
        .catch((err: unknown) => {
          this.logger.warn('watch unavailable; polling instead', { target: this.ref, error: describeError(err) });
          return undefined;
        });
    }

    const interval = Math.max(1, this.options.pollIntervalMs ?? 10_000);
    const maxPolls = Math.ceil(timeoutMs / interval) + 2;
    try {
      for (let i = 0; i < maxPolls && !settled; i++) {
        try {
          settle(this.check(await this.read(), p, overrides, generation));
        } catch (err) {
          last = { done: false, fatal: false, state: describeError(err) };
        }
        if (settled || deadline.expired()) break;
        await this.clock.sleep(Math.min(interval, deadline.remainingMs()), woken.signal);
      }
    } finally {
      finished = true;
      void watchController.then((c) => c?.abort()).catch(() => undefined);
    }
    return settled ?? last;
  }

}
