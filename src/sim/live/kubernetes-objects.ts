import { FLINK_DEPLOYMENT_CRD } from './flinkdeployment-schema.js';
import { FLINK_REVISION, FLINK_VERSION, JAR_ENTRY_CLASS, JAR_NAME, type FlinkJobState, type LiveJob } from './flink-job.js';
import type { JobManager } from './job-manager.js';
import { KubeError, type KubeObject, type ResourceType } from './kube-store.js';

/**
 * The Kubernetes objects around the live twin's job, as plain data: their resource types, the
 * FlinkDeployment and TaskManager Deployment the cluster starts with, the status the Flink
 * Kubernetes Operator writes, and the Scale view of a Deployment. LiveCluster keeps them in its
 * KubeStore and in line with the job.
 */

export const FLINK_DEPLOYMENT: ResourceType = {
  group: FLINK_DEPLOYMENT_CRD.group, version: FLINK_DEPLOYMENT_CRD.version, plural: FLINK_DEPLOYMENT_CRD.plural,
  kind: FLINK_DEPLOYMENT_CRD.kind, hasGeneration: true, requireResourceVersion: true,
};
export const DEPLOYMENT: ResourceType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', hasGeneration: true };
export const CORE_EVENT: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', hasGeneration: false };
export const EVENTS_V1_EVENT: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', hasGeneration: false };
export const LEASE: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', hasGeneration: false, requireResourceVersion: true };

/** What the operator remembers between reconciles (the FlinkDeployment's status is rendered from it). */
export interface OperatorState {
  reconciledSpec: unknown;
  reconciledGeneration: number;
  reconciledAtMs: number;
  stableSpec: unknown;
  upgrading: boolean;
  suspended: boolean;
  /** Job the operator submitted and waits to see RUNNING. */
  awaitingJob: string | undefined;
  lastSavepoint: { location: string; timeStamp: number } | undefined;
  savepointHistory: { location: string; timeStamp: number }[];
  /** The error of the last upgrade, when it failed and was rolled back (a fault test's). */
  rolledBack?: string | undefined;
}

export interface FlinkDeploymentSpec {
  flinkConfiguration?: Record<string, unknown>;
  job?: { parallelism?: number; state?: 'running' | 'suspended'; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * The parallelism a FlinkDeployment spec asks for: the vertex's entry in
 * pipeline.jobvertex-parallelism-overrides ("vertexId:p,…", flat or nested key) when there is
 * one, else spec.job.parallelism.
 */
export function specParallelism(spec: FlinkDeploymentSpec, vertexId: string): number | undefined {
  const config = spec.flinkConfiguration ?? {};
  const nested = (config.pipeline as Record<string, unknown> | undefined)?.['jobvertex-parallelism-overrides'];
  const overrides = config['pipeline.jobvertex-parallelism-overrides'] ?? nested;
  if (typeof overrides === 'string') {
    for (const entry of overrides.split(',')) {
      const [vertex, value] = entry.split(':').map((s) => s.trim());
      if (vertex === vertexId && value !== undefined && /^\d+$/.test(value)) return Number(value);
    }
  } else if (overrides !== null && typeof overrides === 'object') {
    const value = (overrides as Record<string, unknown>)[vertexId];
    if (value !== undefined && /^\d+$/.test(String(value))) return Number(value);
  }
  const p = spec.job?.parallelism;
  return typeof p === 'number' && Number.isInteger(p) ? p : undefined;
}

/** 415 for a patch in a media type the API server does not accept for this resource. */
export function unsupportedPatch(contentType: string, customResource: boolean): KubeError {
  const accepted = customResource
    ? 'application/json-patch+json, application/merge-patch+json'
    : 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json';
  return new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format (${contentType || 'none'}) - accepted media types include: ${accepted}`);
}

/** The FlinkDeployment spec the twin's job starts from: one slot per TaskManager, savepoint upgrades. */
export function initialFlinkDeploymentSpec(cluster: Pick<JobManager, 'scenario' | 'scheduler' | 'speed' | 'savepointDirectory' | 'twin'>): FlinkDeploymentSpec {
  const twin = cluster.scenario.twin;
  return {
    image: 'flink:1.20',
    flinkVersion: 'v1_20',
    mode: 'native',
    serviceAccount: 'flink',
    flinkConfiguration: {
      'jobmanager.scheduler': cluster.scheduler,
      'taskmanager.numberOfTaskSlots': '1',
      'pipeline.max-parallelism': String(twin.maxParallelism),
      'execution.checkpointing.interval': `${Math.round((twin.checkpointIntervalSeconds * 1000) / cluster.speed)} ms`,
      'state.savepoints.dir': cluster.savepointDirectory,
    },
    jobManager: { replicas: 1, resource: { cpu: 1, memory: '2048m' } },
    taskManager: { resource: { cpu: 1, memory: '2048m' } },
    job: {
      jarURI: `local:///opt/flink/usrlib/${JAR_NAME}`,
      entryClass: JAR_ENTRY_CLASS,
      parallelism: cluster.twin.parallelism,
      upgradeMode: 'savepoint',
      state: 'running',
    },
  };
}

/** The TaskManager Deployment of application `app`: one replica per slot of the job's parallelism. */
export function initialTaskManagerDeployment(app: string, namespace: string, name: string, replicas: number): KubeObject {
  const labels = { app, component: 'taskmanager' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'flink-main-container', image: 'flink:1.20', args: ['taskmanager'] }] },
      },
    },
  };
}

/** A Deployment's scale subresource (autoscaling/v1 Scale), selecting the TaskManagers of application `app`. */
export function scaleOf(deployment: KubeObject, app: string): KubeObject {
  const metadata = deployment.metadata ?? {};
  const spec = deployment.spec as { replicas?: number };
  const status = deployment.status as { replicas?: number } | undefined;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: metadata.name, namespace: metadata.namespace, uid: metadata.uid,
      resourceVersion: metadata.resourceVersion, creationTimestamp: metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status?.replicas ?? 0, selector: `app=${app},component=taskmanager` },
  };
}

/** What the FlinkDeployment's status shows: the current job, the operator's memory, the TaskManagers. */
export interface FlinkDeploymentView {
  /** The FlinkDeployment's name (the app label of its TaskManagers). */
  name: string;
  job: LiveJob;
  state: FlinkJobState;
  /** Wall ms of the job's submission. */
  startTimeMs: number;
  /** No job runs (stopped with a savepoint, not resubmitted yet). */
  stopped: boolean;
  operator: OperatorState;
  taskManagers: number;
}

/** The status the operator writes; `updateTimeMs` is left out to compare two statuses for a change. */
export function flinkDeploymentStatus(view: FlinkDeploymentView, updateTimeMs?: number): Record<string, unknown> {
  const { job, state, operator } = view;
  const lifecycle = operator.rolledBack ? 'ROLLED_BACK' : operator.suspended && view.stopped ? 'SUSPENDED' : operator.upgrading ? 'UPGRADING' : 'STABLE';
  const savepoint = (entry: { location: string; timeStamp: number }): Record<string, unknown> => ({
    location: entry.location, timeStamp: entry.timeStamp, formatType: 'CANONICAL', triggerType: 'UPGRADE',
  });
  const specWithMeta = (spec: unknown): string => JSON.stringify({
    spec,
    resource_metadata: { apiVersion: `${FLINK_DEPLOYMENT.group}/${FLINK_DEPLOYMENT.version}`, metadata: { generation: operator.reconciledGeneration }, firstDeployment: false },
  });
  return {
    clusterInfo: { 'flink-version': FLINK_VERSION, 'flink-revision': FLINK_REVISION },
    jobManagerDeploymentStatus: 'READY',
    jobStatus: {
      jobName: job.name,
      jobId: job.id,
      state,
      startTime: String(Math.round(view.startTimeMs)),
      ...(updateTimeMs !== undefined ? { updateTime: String(updateTimeMs) } : {}),
      savepointInfo: {
        ...(operator.lastSavepoint ? { lastSavepoint: savepoint(operator.lastSavepoint) } : {}),
        savepointHistory: operator.savepointHistory.map(savepoint),
        lastPeriodicSavepointTimestamp: 0,
      },
      ...(operator.lastSavepoint ? { upgradeSavepointPath: operator.lastSavepoint.location } : {}),
    },
    lifecycleState: lifecycle,
    observedGeneration: operator.reconciledGeneration,
    reconciliationStatus: {
      lastReconciledSpec: specWithMeta(operator.reconciledSpec),
      lastStableSpec: specWithMeta(operator.stableSpec),
      reconciliationTimestamp: operator.reconciledAtMs,
      state: operator.rolledBack ? 'ROLLED_BACK' : operator.upgrading ? 'UPGRADING' : 'DEPLOYED',
    },
    ...(operator.rolledBack ? { error: operator.rolledBack } : {}),
    taskManager: { replicas: view.taskManagers, labelSelector: `component=taskmanager,app=${view.name}` },
  };
}
