/**
 * `taskmanager-deployment`: for Flink's reactive mode (scheduler-mode: reactive), where the job's
 * parallelism follows the TaskManagers. phoebe sets the `scale` subresource of the TaskManager
 * Deployment (apps/v1) to replicas = ceil(p / slotsPerTaskManager) — a merge patch of spec.replicas —
 * and waits, bounded, until the scale's status.replicas matches. Flink rescales itself from its
 * latest checkpoint when TaskManagers come or go; phoebe never touches the job.
 */
import { PatchStrategy, type V1Scale } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Actuator, RescaleRequest, RescaleResult } from '../actuator.js';
import { describeError, isHttpAnswer } from '../errors.js';
import { callOptions, type KubeClients } from './client.js';
import { eventsOn, RescaleGuard, type RescaleSeen } from '../guarded-rescale.js';
import type { RescaleEventSink } from './events.js';
import { stderrLogger, type ActLogger } from '../logger.js';
import { pollUntil, type Probe } from '../timing.js';

export interface TaskManagerDeploymentActuatorOptions {
  kube: Pick<KubeClients, 'apps'>;
  namespace: string;
  /** metadata.name of the TaskManager Deployment. */
  name: string;
  /** taskmanager.numberOfTaskSlots. */
  slotsPerTaskManager: number;
  /** Never scale beyond this many TaskManagers. Default: no limit. */
  maxReplicas?: number;
  /** Per-request timeout (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** How long the Deployment may take to reach the replicas (ms). Default 300 000. */
  readyTimeoutMs?: number;
  /** Poll interval (ms). Default 2 000. */
  pollIntervalMs?: number;
  /** fieldManager of the patch. Default "phoebe". */
  fieldManager?: string;
  /** Record a Kubernetes Event on the Deployment for every rescale. */
  events?: RescaleEventSink;
  logger?: ActLogger;
  /** Time for polling and timeouts. Default: the system clock. */
  clock?: Clock;
}

/** TaskManagers needed for parallelism p. */
export function replicasFor(p: number, slotsPerTaskManager: number): number {
  return Math.ceil(p / slotsPerTaskManager);
}

export class TaskManagerDeploymentActuator implements Actuator {
  readonly mode = 'taskmanager-deployment' as const;
  private readonly options: TaskManagerDeploymentActuatorOptions;
  private readonly logger: ActLogger;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly guard: RescaleGuard;

  constructor(options: TaskManagerDeploymentActuatorOptions) {
    if (!options.namespace || !options.name) throw new Error('taskmanager-deployment actuator: set namespace and name');
    if (!Number.isInteger(options.slotsPerTaskManager) || options.slotsPerTaskManager < 1) {
      throw new Error('taskmanager-deployment actuator: slotsPerTaskManager must be an integer ≥ 1');
    }
    this.options = options;
    this.logger = options.logger ?? stderrLogger;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.guard = new RescaleGuard(this.clock);
  }

  private get ref(): string {
    return `Deployment ${this.options.namespace}/${this.options.name}`;
  }

  private readScale(): Promise<V1Scale> {
    return this.options.kube.apps.readNamespacedDeploymentScale({ name: this.options.name, namespace: this.options.namespace }, callOptions(this.timeoutMs));
  }

  /** Slots the running TaskManagers offer (reactive mode uses them all, up to the max parallelism). */
  async currentParallelism(): Promise<number | undefined> {
    try {
      const scale = await this.readScale();
      const replicas = scale.status?.replicas;
      return typeof replicas === 'number' ? replicas * this.options.slotsPerTaskManager : undefined;
    } catch {
      return undefined;
    }
  }

  rescale(request: RescaleRequest): Promise<RescaleResult> {
    return this.guard.perform({
      mode: this.mode, request, logger: this.logger, errorPrefix: this.ref,
      logFields: () => ({ target: this.ref }),
      run: (seen: RescaleSeen) => this.run(request, seen),
      ...eventsOn(this.options.events, { apiVersion: 'apps/v1', kind: 'Deployment', name: this.options.name, namespace: this.options.namespace }),
    });
  }

  private async run(request: RescaleRequest, seen: { from?: number; uid?: string }): Promise<Omit<RescaleResult, 'seconds'>> {
    const p = request.parallelism;
    const slots = this.options.slotsPerTaskManager;
    if (!Number.isInteger(p) || p < 1) return { outcome: 'failed', detail: `invalid parallelism ${p}` };
    const replicas = replicasFor(p, slots);
    if (this.options.maxReplicas !== undefined && replicas > this.options.maxReplicas) {
      return { outcome: 'failed', detail: `${replicas} TaskManagers needed for parallelism ${p}, above maxReplicas ${this.options.maxReplicas}` };
    }
    const before = await this.readScale();
    seen.uid = before.metadata?.uid;
    const specBefore = before.spec?.replicas;
    const statusBefore = before.status?.replicas;
    if (typeof statusBefore === 'number') seen.from = statusBefore * slots;
    if (specBefore === replicas && statusBefore === replicas) {
      return { outcome: 'skipped', parallelism: replicas * slots, detail: `${this.ref} already runs ${replicas} TaskManagers (${replicas * slots} slots)` };
    }
    if (specBefore !== replicas) {
      this.logger.info('scaling TaskManager Deployment', { target: this.ref, from: specBefore, to: replicas });
      try {
        const patched = await this.options.kube.apps.patchNamespacedDeploymentScale(
          { name: this.options.name, namespace: this.options.namespace, body: { spec: { replicas } }, fieldManager: this.options.fieldManager ?? 'phoebe' },
          callOptions(this.timeoutMs, PatchStrategy.MergePatch),
        );
        seen.uid = patched?.metadata?.uid ?? seen.uid;
      } catch (err) {
        if (isHttpAnswer(err)) throw err;
        // No answer: the patch may still have been applied. Look before giving up.
        if ((await this.readScale()).spec?.replicas !== replicas) throw err;
        this.logger.warn('scale patch unanswered but applied', { target: this.ref, error: describeError(err) });
      }
    }

    const readyTimeoutMs = this.options.readyTimeoutMs ?? 300_000;
    const waited = await pollUntil<number>(
      { timeoutMs: readyTimeoutMs, intervalMs: this.options.pollIntervalMs ?? 2_000, clock: this.clock },
      async (): Promise<Probe<number>> => {
        const scale = await this.readScale();
        const status = scale.status?.replicas;
        if (status === replicas) return { done: true, value: status };
        return { done: false, state: `spec.replicas ${scale.spec?.replicas ?? '?'}, status.replicas ${status ?? '?'}` };
      },
      describeError,
    );
    const slotsText = p === replicas * slots ? '' : ` (${replicas * slots} slots for parallelism ${p})`;
    if (!waited.ok) {
      return { outcome: 'failed', detail: `${this.ref} scaled to ${replicas} replicas but not there within ${Math.round(readyTimeoutMs / 1000)} s (${waited.state})` };
    }
    return {
      outcome: 'completed',
      parallelism: waited.value * slots,
      detail: `${this.ref}: ${specBefore ?? '?'} → ${replicas} TaskManagers × ${slots} slots${slotsText}`,
    };
  }
}
