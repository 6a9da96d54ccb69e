import { validateFlinkDeployment } from './flinkdeployment-schema.js';
import type { FlowAccounting, LiveJob } from './flink-job.js';
import { JobManager, type AfterStop, type JobManagerOptions } from './job-manager.js';
import { KubeError, KubeStore, jsonPatch, mergePatch, notFound, type KubeObject } from './kube-store.js';
import {
  DEPLOYMENT, FLINK_DEPLOYMENT, flinkDeploymentStatus, initialFlinkDeploymentSpec, initialTaskManagerDeployment, scaleOf,
  specParallelism, unsupportedPatch, type FlinkDeploymentSpec, type OperatorState,
} from './kubernetes-objects.js';

// What importers knew from this file before it was split, from where it lives now.
export * from './flink-job.js';
export { CORE_EVENT, DEPLOYMENT, EVENTS_V1_EVENT, FLINK_DEPLOYMENT, LEASE, specParallelism, type FlinkDeploymentSpec } from './kubernetes-objects.js';

export interface LiveClusterOptions extends JobManagerOptions {
  /** Namespace and name of the FlinkDeployment (default: flink, the scenario's name). */
  namespace?: string;
  name?: string;
  /** Name of the TaskManager Deployment (default: `<name>-taskmanager`). */
  taskManagerDeployment?: string;
  /** Kafka topic partitions (default 8), topic (events) and consumer group (phoebe-demo). */
  partitions?: number;
  topic?: string;
  consumerGroup?: string;
  /**
   * The Flink release whose REST shapes to serve (default '2'): 1.20 has no `schedulerType` in
   * GET /jobs/:jobid, 2.x has, and a client must cope with both.
   */
  flinkVersion?: FlinkRelease;
}

export type FlinkRelease = '1.20' | '2';

/**
 * The live twin's state: one Flink job on one Kafka topic (a Twin), seen through the APIs a
 * cluster offers — the Flink REST API of the JobManager, the Kubernetes objects around it
 * (FlinkDeployment, TaskManager Deployment, Events, Leases) and the metrics Prometheus scrapes.
 * No HTTP and no timer here: the routers call its methods, and a clock calls advanceTo(wall ms),
 * so tests drive time by hand.
 *
 * Time: the twin advances `speed` simulated seconds per wall second. Simulated second s covers
 * wall time [start + s·1000/speed, start + (s+1)·1000/speed) ms and is simulated once that span
 * has passed. Everything is exposed in wall-clock units: a job `speed` times faster (rates ×
 * speed, durations ÷ speed, records unchanged).
 *
 * Rescale semantics (D = scenario rescaleDowntimeSeconds, S = savepoint time, both simulated):
 * - stop-with-savepoint (REST): processing stops at once (the synchronous savepoint is taken, no
 *   rollback); the trigger reports IN_PROGRESS for S, then COMPLETED with the location, and the
 *   job is FINISHED. The job is down until a jar run resubmits it; it then runs at the new
 *   parallelism from max(stop + D, submission + D − S): a prompt resubmission (at stop + S)
 *   gives exactly the twin's downtime D from the stop; a late one still needs its D − S restore.
 * - FlinkDeployment spec change (the operator's savepoint upgrade): the same stop, and the
 *   operator resubmits as soon as the savepoint completes: down D from the stop, new job id.
 * - resource requirements (adaptive scheduler) and TaskManager Deployment scale (reactive mode):
 *   in place, same job id, down D from the request (Twin.requestRescale).
 * - scenario failures restart the job with rollback as in the batch twin; while no job runs (stopped,
 *   waiting for a resubmission) they are skipped.
 * Requests while the job is down: a stop or savepoint is accepted (202) and its operation fails
 * ("Not all required tasks are currently running"), as in Flink; new resource requirements or a
 * new replica count while the job restarts apply to that restart (the adaptive scheduler uses the
 * requirements it has when it comes back); a FlinkDeployment change waits until the job runs
 * again, as the operator's savepoint upgrade needs a running job.
 *
 * The Flink side (jobs, jar runs, savepoints, in-place rescales) is the JobManager this extends
 * (job-manager.ts); this class adds the Kubernetes operator and objects and the metrics view.
 */
export class LiveCluster extends JobManager {
  readonly namespace: string;
  readonly name: string;
  readonly taskManagerDeployment: string;
  readonly partitions: number;
  readonly topic: string;
  readonly consumerGroup: string;
  readonly flinkVersion: FlinkRelease;
  readonly kube: KubeStore;

  private syncedReplicas: number;
  private readonly operator: OperatorState;
  private statusUpdatedMs = 0;
  private lastStatusKey = '';

  constructor(options: LiveClusterOptions) {
    super(options);
    this.namespace = options.namespace ?? 'flink';
    this.name = options.name ?? options.scenario.name;
    this.taskManagerDeployment = options.taskManagerDeployment ?? `${this.name}-taskmanager`;
    this.partitions = options.partitions ?? 8;
    this.topic = options.topic ?? 'events';
    this.consumerGroup = options.consumerGroup ?? 'phoebe-demo';
    this.flinkVersion = options.flinkVersion ?? '2';
    this.syncedReplicas = this.twin.parallelism;
    this.kube = new KubeStore(() => this.nowMs, this.idNamespace);

    const spec = initialFlinkDeploymentSpec(this);
    this.operator = {
      reconciledSpec: spec, reconciledGeneration: 1, reconciledAtMs: this.startWallMs, stableSpec: spec,
      upgrading: false, suspended: false, awaitingJob: undefined, lastSavepoint: undefined, savepointHistory: [],
    };
    this.kube.create(FLINK_DEPLOYMENT, this.namespace, {
      apiVersion: `${FLINK_DEPLOYMENT.group}/${FLINK_DEPLOYMENT.version}`,
      kind: FLINK_DEPLOYMENT.kind,
      metadata: { name: this.name, namespace: this.namespace, labels: { app: this.name } },
      spec,
    });
    this.kube.create(DEPLOYMENT, this.namespace, initialTaskManagerDeployment(this.name, this.namespace, this.taskManagerDeployment, this.twin.parallelism));
    this.syncKubernetes();
  }

  // ---------------------------------------------------------------- the metrics view (metrics-exposition.ts)

  /** Milliseconds since the current job switched to RUNNING; 0 while it is not running. */
  uptimeMs(job: LiveJob): number {
    if (this.jobState(job) !== 'RUNNING' || job.runningSince === undefined) return 0;
    return ((this.elapsed - job.runningSince) * 1000) / this.speed;
  }

  /** Duration of a checkpoint, wall ms (the twin does not model it: 10 % of the interval, at most 1 s simulated). */
  get checkpointDurationMs(): number {
    return (Math.min(1, 0.1 * this.scenario.twin.checkpointIntervalSeconds) * 1000) / this.speed;
  }

  /** Records in and out of the job since the start (conservation check for fault tests). */
  accounting(): FlowAccounting {
    const n = this.twin.elapsed;
    const r = this.twin.record;
    let processed = 0;
    let rolledBack = 0;
    for (let i = 0; i < n; i++) {
      processed += r.throughput[i] as number;
      rolledBack += r.rolledBack[i] as number;
    }
    const arrivals = this.cumulativeArrivalRecords;
    const lag = this.twin.lag;
    return { seconds: n, arrivals, processed, rolledBack, lag, lost: arrivals - (processed - rolledBack) - lag };
  }

  // ---------------------------------------------------------------- Kubernetes operations

  /** PATCH of the FlinkDeployment (merge patch or JSON patch), validated against the CRD. */
  patchFlinkDeployment(namespace: string, name: string, contentType: string, patch: unknown): KubeObject {
    const current = this.flinkDeployment(namespace, name);
    let merged: unknown;
    if (contentType === 'application/merge-patch+json') merged = mergePatch(current, patch);
    else if (contentType === 'application/json-patch+json') merged = jsonPatch(current, patch);
    else throw unsupportedPatch(contentType, true);
    return this.replaceFlinkDeployment(namespace, name, merged as KubeObject, current);
  }

  /** PUT of the FlinkDeployment. */
  replaceFlinkDeployment(namespace: string, name: string, object: KubeObject, current = this.flinkDeployment(namespace, name)): KubeObject {
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      throw new KubeError(400, 'BadRequest', 'the body of the request must be a FlinkDeployment object');
    }
    // status is a subresource: writes through the main resource leave it alone.
    const candidate: KubeObject = { ...object, status: current.status };
    const causes = validateFlinkDeployment(candidate);
    if (causes.length > 0) {
      const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
      throw new KubeError(422, 'Invalid', `${FLINK_DEPLOYMENT.kind}.${FLINK_DEPLOYMENT.group} "${name}" is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`, {
        name, group: FLINK_DEPLOYMENT.group, kind: FLINK_DEPLOYMENT.kind, causes,
      });
    }
    const stored = this.kube.update(FLINK_DEPLOYMENT, namespace, name, candidate);
    // The operator reconciles after the write (its status update is a later, separate write).
    this.settle();
    this.syncKubernetes();
    return stored;
  }

  flinkDeployment(namespace: string, name: string): KubeObject {
    const found = this.kube.get(FLINK_DEPLOYMENT, namespace, name);
    if (!found) throw notFound(FLINK_DEPLOYMENT, name);
    return found;
  }

  /** GET of the TaskManager Deployment's scale subresource (autoscaling/v1 Scale). */
  taskManagerScale(namespace: string, name: string): KubeObject {
    return scaleOf(this.kube.mustGet(DEPLOYMENT, namespace, name), this.name);
  }

  /**
   * PUT/PATCH of the scale subresource: replicas = TaskManagers = parallelism (one slot each,
   * reactive mode). A change rescales the twin in place (clamped to the scenario's
   * [minParallelism, maxParallelism]); while no job runs it sets the next job's parallelism.
   */
  updateTaskManagerScale(namespace: string, name: string, scale: KubeObject): KubeObject {
    const deployment = this.kube.mustGet(DEPLOYMENT, namespace, name);
    const replicas = (scale?.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new KubeError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be a non-negative integer`, {
        name, group: 'autoscaling', kind: 'Scale',
        causes: [{ reason: 'FieldValueInvalid', message: 'must be a non-negative integer', field: 'spec.replicas' }],
      });
    }
    const rv = scale.metadata?.resourceVersion;
    const next: KubeObject = { ...deployment, spec: { ...(deployment.spec as object), replicas } };
    next.metadata = { ...(deployment.metadata ?? {}), resourceVersion: rv === undefined || rv === '' ? deployment.metadata?.resourceVersion : rv };
    if (name === this.taskManagerDeployment && namespace === this.namespace) {
      this.kube.update(DEPLOYMENT, namespace, name, next);
      // Injected: the replicas are stored, but no TaskManager comes or goes.
      if (this.faultHooks?.takeScaleFault?.()) return this.taskManagerScale(namespace, name);
      const target = this.clamp(replicas);
      this.syncedReplicas = target;
      this.setParallelismFromReplicas(target);
    } else {
      this.kube.update(DEPLOYMENT, namespace, name, next);
    }
    this.syncKubernetes();
    return this.taskManagerScale(namespace, name);
  }

  patchTaskManagerScale(namespace: string, name: string, contentType: string, patch: unknown): KubeObject {
    const current = this.taskManagerScale(namespace, name);
    let merged: unknown;
    if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') merged = mergePatch(current, patch);
    else if (contentType === 'application/json-patch+json') merged = jsonPatch(current, patch);
    else throw unsupportedPatch(contentType, false);
    return this.updateTaskManagerScale(namespace, name, merged as KubeObject);
  }

  // ---------------------------------------------------------------- the operator

  private recordOperatorSavepoint(location: string, second: number): void {
    const entry = { location, timeStamp: Math.round(this.wallOf(second)) };
    this.operator.lastSavepoint = entry;
    this.operator.savepointHistory.push(entry);
    if (this.operator.savepointHistory.length > 10) this.operator.savepointHistory.shift();
  }

  /** The operator: applies a newer FlinkDeployment spec when the job lets it. */
  protected reconcile(): void {
    const fd = this.kube.get(FLINK_DEPLOYMENT, this.namespace, this.name);
    if (!fd) return;
    const generation = fd.metadata?.generation ?? 1;
    if (generation <= this.operator.reconciledGeneration) return;
    const fault = this.faultHooks?.operatorFault?.();
    if (fault?.kind === 'stall') return;
    const spec = (fd.spec ?? {}) as FlinkDeploymentSpec;
    const desiredState = spec.job?.state ?? 'running';
    const parallelism = this.clamp(specParallelism(spec, this.vertexId) ?? this.twin.targetParallelism);
    const current = this.currentJob;
    const runningNow = this.phase.kind === 'active' && this.jobState(current) === 'RUNNING' && this.twin.status === 'RUNNING' && !this.twin.rescalePending;
    const markReconciled = (): void => {
      this.operator.reconciledSpec = spec;
      this.operator.reconciledGeneration = generation;
      this.operator.reconciledAtMs = Math.round(this.wallOf(this.elapsed));
      this.operator.rolledBack = undefined;
    };
    if (fault?.kind === 'roll-back') {
      // Injected: the upgrade failed and was rolled back; the job runs on as before.
      markReconciled();
      this.operator.rolledBack = fault.error;
      return;
    }
    if (desiredState === 'suspended') {
      if (this.phase.kind === 'stopped') {
        markReconciled();
        this.operator.suspended = true;
      } else if (runningNow) {
        markReconciled();
        this.operator.upgrading = true;
        this.triggerStop(current, {}, { kind: 'operator-suspend' });
      }
      return;
    }
    if (this.phase.kind === 'stopped') {
      markReconciled();
      this.operator.suspended = false;
      this.operator.upgrading = true;
      // The operator restores from the savepoint the job stopped with (its own or a REST stop's).
      const next = this.submit(parallelism, this.savepoints.latestStopLocation);
      this.operator.awaitingJob = next.id;
    } else if (runningNow) {
      markReconciled();
      this.operator.upgrading = true;
      this.triggerStop(current, {}, { kind: 'operator-upgrade', parallelism });
    }
  }

  /** The operator's stop completed: it resubmits from the savepoint (upgrade) or stays suspended. */
  protected stopCompleted(after: AfterStop, location: string, second: number): void {
    if (after.kind === 'operator-upgrade') {
      this.recordOperatorSavepoint(location, second);
      const next = this.submit(after.parallelism, location);
      this.operator.awaitingJob = next.id;
    } else if (after.kind === 'operator-suspend') {
      this.recordOperatorSavepoint(location, second);
      this.operator.upgrading = false;
      this.operator.suspended = true;
    }
  }

  /** The job the operator submitted runs: the upgrade is over and its spec is the stable one. */
  protected jobRunning(job: LiveJob): void {
    if (this.operator.awaitingJob === job.id) {
      this.operator.awaitingJob = undefined;
      this.operator.upgrading = false;
      this.operator.stableSpec = this.operator.reconciledSpec;
    }
  }

  /** Writes the operator's and the Deployment controller's view of the twin, when it changed. */
  protected syncKubernetes(): void {
    const target = this.phase.kind === 'active' ? this.twin.targetParallelism : this.defaultParallelism;
    const deployment = this.kube.get(DEPLOYMENT, this.namespace, this.taskManagerDeployment);
    if (deployment) {
      const spec = deployment.spec as { replicas?: number };
      let replicas = spec.replicas ?? target;
      if (target !== this.syncedReplicas) {
        // Another path (REST, FlinkDeployment) changed the parallelism: TaskManagers follow.
        this.syncedReplicas = target;
        replicas = target;
      }
      const generation = deployment.metadata?.generation ?? 1;
      const status = { observedGeneration: generation, replicas: target, updatedReplicas: target, readyReplicas: target, availableReplicas: target };
      if (replicas !== spec.replicas || JSON.stringify(status) !== JSON.stringify(deployment.status)) {
        this.kube.update(DEPLOYMENT, this.namespace, this.taskManagerDeployment, { ...deployment, spec: { ...spec, replicas }, status });
      }
    }
    const fd = this.kube.get(FLINK_DEPLOYMENT, this.namespace, this.name);
    if (fd) {
      const status = this.flinkDeploymentStatus(target);
      const key = JSON.stringify(status);
      if (key !== this.lastStatusKey) {
        this.statusUpdatedMs = Math.round(this.wallOf(this.elapsed));
        this.lastStatusKey = key;
      }
      const withTime = this.flinkDeploymentStatus(target, this.statusUpdatedMs);
      if (JSON.stringify(withTime) !== JSON.stringify(fd.status)) {
        this.kube.update(FLINK_DEPLOYMENT, this.namespace, this.name, { ...fd, status: withTime });
      }
    }
  }

  private flinkDeploymentStatus(taskManagers: number, updateTimeMs?: number): Record<string, unknown> {
    const job = this.currentJob;
    return flinkDeploymentStatus({
      name: this.name, job, state: this.jobState(job), startTimeMs: this.wallOf(job.submittedSecond),
      stopped: this.phase.kind === 'stopped', operator: this.operator, taskManagers,
    }, updateTimeMs);
  }
}
