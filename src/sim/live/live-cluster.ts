import type { Scenario } from '../../config/scenario.js';
import { Twin } from '../twin.js';
import { FLINK_DEPLOYMENT_CRD, validateFlinkDeployment } from './flinkdeployment-schema.js';
import { HEX32, IdSource, hex32Of } from './ids.js';
import { KubeError, KubeStore, jsonPatch, mergePatch, notFound, type KubeObject, type ResourceType } from './kube-store.js';

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
 */

export type Scheduler = 'default' | 'adaptive';

export type FlinkJobState =
  | 'INITIALIZING' | 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED'
  | 'FINISHED' | 'RESTARTING' | 'SUSPENDED' | 'RECONCILING';

export const FLINK_VERSION = '1.20.1';
export const FLINK_REVISION = 'phoebe-twin';
export const JOB_VERTEX_NAME = 'Source: events -> Process';
export const SOURCE_OPERATOR_NAME = 'Source: events';
export const PROCESS_OPERATOR_NAME = 'Process';
export const JAR_NAME = 'phoebe-twin-job.jar';
export const JAR_ENTRY_CLASS = 'org.apache.flink.streaming.examples.PhoebeTwinJob';

export const FLINK_DEPLOYMENT: ResourceType = {
  group: FLINK_DEPLOYMENT_CRD.group, version: FLINK_DEPLOYMENT_CRD.version, plural: FLINK_DEPLOYMENT_CRD.plural,
  kind: FLINK_DEPLOYMENT_CRD.kind, hasGeneration: true, requireResourceVersion: true,
};
export const DEPLOYMENT: ResourceType = { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', hasGeneration: true };
export const CORE_EVENT: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', hasGeneration: false };
export const EVENTS_V1_EVENT: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', hasGeneration: false };
export const LEASE: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', hasGeneration: false, requireResourceVersion: true };

/** A Flink REST failure: rendered as {"errors": [message]} with this HTTP status. */
export class FlinkRestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Test-only faults the cluster itself plays (armed through src/sim/live/fault-injection.ts, which
 * only `phoebe twin --faults` mounts). Each call consumes one armed fault, if any.
 */
export interface ClusterFaultHooks {
  /**
   * For a stop-with-savepoint that would be taken: 'fail' — the savepoint fails after the savepoint
   * time and the job keeps running (Flink's behaviour); 'hang' — it stays IN_PROGRESS for
   * `seconds` simulated seconds (Infinity: until the twin ends), then fails as expired, the job
   * running all along.
   */
  takeStopFault(): { kind: 'fail'; reason: string } | { kind: 'hang'; seconds: number; reason: string } | undefined;
  /** For a submission at this parallelism: the reason it FAILS while initializing, or undefined. */
  takeSubmitFault(parallelism: number): string | undefined;
}

/** Records in and out since the start: arrivals = processed − rolled back + lag when nothing is lost. */
export interface FlowAccounting {
  seconds: number;
  arrivals: number;
  processed: number;
  /** Processed after the last completed checkpoint and replayed after a failure (not lost). */
  rolledBack: number;
  lag: number;
  /** arrivals − (processed − rolledBack) − lag: records neither processed nor waiting in Kafka. */
  lost: number;
}

export interface LiveClusterOptions {
  scenario: Scenario;
  /** Arrival rate per simulated second (records/s), the scenario's trace × scale. */
  arrivals: Float64Array;
  seed: number;
  /** Unix seconds of the trace's first value (kept in the Twin's record). */
  traceStartTime?: number;
  /** Simulated seconds per wall second (default 1). */
  speed?: number;
  /** Wall time (ms since the epoch) at which simulated second 0 starts. */
  startWallMs: number;
  scheduler?: Scheduler;
  /** Namespace and name of the FlinkDeployment (default: flink, the scenario's name). */
  namespace?: string;
  name?: string;
  /** Name of the TaskManager Deployment (default: `<name>-taskmanager`). */
  taskManagerDeployment?: string;
  /** Simulated seconds a savepoint takes (default min(2, rescale downtime)). */
  savepointSeconds?: number;
  /** Kafka topic partitions (default 8), topic (events) and consumer group (phoebe-demo). */
  partitions?: number;
  topic?: string;
  consumerGroup?: string;
  savepointDirectory?: string;
}

export interface LiveJob {
  readonly id: string;
  readonly name: string;
  /** Simulated second of the submission. */
  readonly submittedSecond: number;
  /** Twin restarts before this job existed (numRestarts counts per job, as in Flink). */
  readonly restartsAtStart: number;
  readonly savepointPath: string | undefined;
  endSecond: number | undefined;
  finalState: 'FINISHED' | 'CANCELED' | 'FAILED' | undefined;
  failure: string | undefined;
  /** Submitted and not yet RUNNING since. */
  restoring: boolean;
  /** Simulated second at which the job last switched to RUNNING. */
  runningSince: number | undefined;
  checkpoints: number;
  /** Records processed by this job. */
  processed: number;
  /** Wall ms at which the job first entered each state. */
  stateTimestamps: Partial<Record<FlinkJobState, number>>;
  lastModifiedSecond: number;
  /** Parallelism when the job ended (for the overview of finished jobs). */
  finalParallelism: number | undefined;
}

interface SavepointOperation {
  readonly triggerId: string;
  readonly jobId: string;
  readonly kind: 'savepoint' | 'stop';
  readonly triggeredSecond: number;
  readonly doneAt: number;
  readonly plannedLocation: string;
  readonly restartsAtTrigger: number;
  completed: boolean;
  location: string | undefined;
  failure: string | undefined;
}

type AfterStop = { kind: 'wait' } | { kind: 'operator-upgrade'; parallelism: number } | { kind: 'operator-suspend' };

type Phase =
  | { kind: 'active' }
  | { kind: 'stopping'; operation: SavepointOperation; stopSecond: number; terminal: 'FINISHED' | 'CANCELED'; after: AfterStop }
  | { kind: 'stopped'; stopSecond: number };

export interface SavepointStatus {
  status: 'IN_PROGRESS' | 'COMPLETED';
  location?: string;
  failure?: string;
}

interface OperatorState {
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
}

export class LiveCluster {
  readonly scenario: Scenario;
  readonly twin: Twin;
  readonly speed: number;
  readonly startWallMs: number;
  readonly scheduler: Scheduler;
  readonly namespace: string;
  readonly name: string;
  readonly taskManagerDeployment: string;
  readonly savepointSeconds: number;
  readonly partitions: number;
  readonly topic: string;
  readonly consumerGroup: string;
  readonly savepointDirectory: string;
  readonly vertexId: string;
  readonly sourceOperatorId: string;
  readonly processOperatorId: string;
  readonly jarId: string;
  readonly kube: KubeStore;

  private readonly ids: IdSource;
  private readonly jobList: LiveJob[] = [];
  private readonly operations = new Map<string, SavepointOperation>();
  private readonly completedSavepoints = new Set<string>();
  private latestStopSavepoint: string | undefined;
  private phase: Phase = { kind: 'active' };
  private wallNow: number;
  private previousTwinStatus: string;
  private cumulativeArrivals = 0;
  /** Parallelism a resubmission uses when it names none (follows every rescale and the replicas). */
  private defaultParallelism: number;
  private syncedReplicas: number;
  private readonly operator: OperatorState;
  private statusUpdatedMs = 0;
  private lastStatusKey = '';
  /** Test-only faults (see ClusterFaultHooks); undefined unless fault injection is on. */
  faultHooks: ClusterFaultHooks | undefined;
  /** Jar runs refused because another job was active and the run asked for a new job id (a second job). */
  concurrentSubmissionsRefused = 0;
  /** Per submitted job: whether it restored from the savepoint of the latest completed stop. */
  private readonly restoredFromLatestStop = new Map<string, boolean>();

  constructor(options: LiveClusterOptions) {
    const { scenario } = options;
    this.scenario = scenario;
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0) || !Number.isFinite(this.speed)) throw new Error(`speed must be a positive number, got ${this.speed}`);
    this.startWallMs = options.startWallMs;
    this.wallNow = options.startWallMs;
    this.scheduler = options.scheduler ?? 'default';
    this.namespace = options.namespace ?? 'flink';
    this.name = options.name ?? scenario.name;
    this.taskManagerDeployment = options.taskManagerDeployment ?? `${this.name}-taskmanager`;
    const downtime = scenario.twin.rescaleDowntimeSeconds;
    this.savepointSeconds = Math.min(Math.max(0, Math.round(options.savepointSeconds ?? 2)), downtime);
    this.partitions = options.partitions ?? 8;
    this.topic = options.topic ?? 'events';
    this.consumerGroup = options.consumerGroup ?? 'phoebe-demo';
    this.savepointDirectory = options.savepointDirectory ?? 'file:/flink-data/savepoints';
    const idNamespace = `phoebe-twin/${scenario.name}/${options.seed}`;
    this.ids = new IdSource(idNamespace);
    this.vertexId = hex32Of(`${scenario.name}/vertex/${JOB_VERTEX_NAME}`);
    this.sourceOperatorId = hex32Of(`${scenario.name}/operator/${SOURCE_OPERATOR_NAME}`);
    this.processOperatorId = this.vertexId;
    const jarUuid = this.ids.uid('jar');
    this.jarId = `${jarUuid}_${JAR_NAME}`;
    this.twin = new Twin(scenario, options.arrivals, { seed: options.seed, startTime: options.traceStartTime ?? 0 });
    this.previousTwinStatus = this.twin.status;
    this.defaultParallelism = this.twin.parallelism;
    this.syncedReplicas = this.twin.parallelism;
    this.kube = new KubeStore(() => this.wallNow, idNamespace);

    const first = this.newJob({ savepointPath: undefined, restoring: false });
    first.runningSince = 0;
    first.stateTimestamps.INITIALIZING = this.startWallMs;
    first.stateTimestamps.CREATED = this.startWallMs;
    first.stateTimestamps.RUNNING = this.startWallMs;

    const spec = this.initialFlinkDeploymentSpec();
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
    this.kube.create(DEPLOYMENT, this.namespace, this.initialTaskManagerDeployment());
    this.syncKubernetes();
  }

  // ---------------------------------------------------------------- time

  /** Wall ms of the start of simulated second s. */
  wallOf(second: number): number {
    return this.startWallMs + (second * 1000) / this.speed;
  }

  /** Simulated seconds done so far. */
  get elapsed(): number {
    return this.twin.elapsed;
  }

  /** Wall time of the latest advanceTo() (ms since the epoch). */
  get nowMs(): number {
    return this.wallNow;
  }

  /** The trace is over: nothing more will happen. */
  get done(): boolean {
    return this.twin.done;
  }

  /**
   * Simulates every second whose wall span has ended by `wallMs` (bounded by the trace).
   * Returns the number of seconds simulated.
   */
  advanceTo(wallMs: number): number {
    if (wallMs > this.wallNow) this.wallNow = wallMs;
    const target = Math.min(this.twin.duration, Math.floor(((this.wallNow - this.startWallMs) * this.speed) / 1000 + 1e-9));
    let stepped = 0;
    while (this.twin.elapsed < target) {
      this.settle();
      this.twin.step();
      this.afterSecond(this.twin.elapsed - 1);
      stepped++;
    }
    this.settle();
    this.syncKubernetes();
    return stepped;
  }

  // ---------------------------------------------------------------- jobs

  get jobs(): readonly LiveJob[] {
    return this.jobList;
  }

  get currentJob(): LiveJob {
    return this.jobList[this.jobList.length - 1] as LiveJob;
  }

  /** The job with this id; 400 for a malformed id, 404 for an unknown one (Flink's answers). */
  job(jobId: string): LiveJob {
    if (!HEX32.test(jobId)) {
      throw new FlinkRestError(400, `Bad request, could not parse parameters: Cannot resolve path parameter (jobid) from value "${jobId}".`);
    }
    const found = this.jobList.find((j) => j.id === jobId);
    if (!found) throw new FlinkRestError(404, `Job ${jobId} not found`);
    return found;
  }

  jobState(job: LiveJob): FlinkJobState {
    if (job.finalState) return job.finalState;
    if (job !== this.currentJob) return 'FINISHED';
    if (this.phase.kind === 'stopping') return 'RUNNING';
    switch (this.twin.status) {
      case 'RUNNING': return 'RUNNING';
      case 'RESTARTING': return 'RESTARTING';
      default: return job.restoring ? 'INITIALIZING' : 'RESTARTING';
    }
  }

  /** Parallelism of the job's vertex: what it runs at, or will run at when it comes back. */
  jobParallelism(job: LiveJob): number {
    if (job === this.currentJob && !job.finalState) return this.twin.targetParallelism;
    return job.finalParallelism ?? this.twin.targetParallelism;
  }

  /** Tasks are deployed and report metrics (RUNNING, including a stop's savepoint). */
  tasksRunning(): boolean {
    return this.jobState(this.currentJob) === 'RUNNING';
  }

  /** Job restarts (failures) since the job was submitted. */
  restartsOf(job: LiveJob): number {
    return this.restartsNow() - job.restartsAtStart;
  }

  /** Milliseconds since the current job switched to RUNNING; 0 while it is not running. */
  uptimeMs(job: LiveJob): number {
    if (this.jobState(job) !== 'RUNNING' || job.runningSince === undefined) return 0;
    return ((this.elapsed - job.runningSince) * 1000) / this.speed;
  }

  /** Duration of a checkpoint, wall ms (the twin does not model it: 10 % of the interval, at most 1 s simulated). */
  get checkpointDurationMs(): number {
    return (Math.min(1, 0.1 * this.scenario.twin.checkpointIntervalSeconds) * 1000) / this.speed;
  }

  get cumulativeArrivalRecords(): number {
    return this.cumulativeArrivals;
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
    const arrivals = this.cumulativeArrivals;
    const lag = this.twin.lag;
    return { seconds: n, arrivals, processed, rolledBack, lag, lost: arrivals - (processed - rolledBack) - lag };
  }

  /** Whether the job restored from the savepoint of the latest completed stop (undefined for the first job). */
  restoredFromLatestStopSavepoint(jobId: string): boolean | undefined {
    return this.restoredFromLatestStop.get(jobId);
  }

  // ---------------------------------------------------------------- Flink REST operations

  /**
   * POST /jobs/:jobid/stop and POST /jobs/:jobid/savepoints with cancel-job: stop-with-savepoint.
   * Returns the trigger id; the operation's outcome is read with savepointStatus().
   */
  stopWithSavepoint(jobId: string, options: { triggerId?: string; targetDirectory?: string; terminal?: 'FINISHED' | 'CANCELED' } = {}): string {
    return this.triggerStop(this.job(jobId), options, { kind: 'wait' });
  }

  /** POST /jobs/:jobid/savepoints (without cancel-job): a savepoint while the job keeps running. */
  triggerSavepoint(jobId: string, options: { triggerId?: string; targetDirectory?: string } = {}): string {
    const job = this.job(jobId);
    const existing = this.existingTrigger(job, options.triggerId);
    if (existing) return existing;
    const refusal = this.refusal(job);
    const operation = this.newOperation(job, 'savepoint', options, refusal);
    this.settle();
    return operation.triggerId;
  }

  /** GET /jobs/:jobid/savepoints/:triggerid. */
  savepointStatus(jobId: string, triggerId: string): SavepointStatus {
    const job = this.job(jobId);
    const operation = this.operations.get(triggerId);
    if (!operation || operation.jobId !== job.id) {
      throw new FlinkRestError(404, `Operation not found under key: AsynchronousJobOperationKey{triggerId=${triggerId}, jobId=${job.id}}`);
    }
    if (!operation.completed) return { status: 'IN_PROGRESS' };
    return operation.failure !== undefined
      ? { status: 'COMPLETED', failure: operation.failure }
      : { status: 'COMPLETED', location: operation.location as string };
  }

  /**
   * POST /jars/:jarid/run: submits the job again (the twin runs one job at a time, so only once
   * the previous one has stopped). A savepoint path must be one this cluster completed, or the
   * job FAILS while initializing, as Flink's would; without one the job starts without state
   * and the Kafka source resumes from the group's committed offsets (no records lost or
   * replayed in the twin).
   */
  runJar(jarId: string, request: { parallelism?: number; savepointPath?: string; jobId?: string }): LiveJob {
    if (jarId !== this.jarId) throw new FlinkRestError(400, `Jar file /tmp/flink-web-upload/${jarId} does not exist`);
    const current = this.currentJob;
    if (this.phase.kind !== 'stopped') {
      if (!(request.jobId !== undefined && this.jobList.some((j) => j.id === request.jobId))) this.concurrentSubmissionsRefused++;
      throw new FlinkRestError(409, `The live twin runs one job at a time: job ${current.id} is ${this.jobState(current)}; stop it with a savepoint first.`);
    }
    const parallelism = request.parallelism ?? this.defaultParallelism;
    this.checkParallelism(parallelism, 'parallelism');
    if (request.jobId !== undefined) {
      if (!HEX32.test(request.jobId)) throw new FlinkRestError(400, `Request did not match expected format JarRunRequestBody: invalid jobId "${request.jobId}".`);
      if (this.jobList.some((j) => j.id === request.jobId)) throw new FlinkRestError(409, `Job ${request.jobId} already exists.`);
    }
    const path = request.savepointPath;
    const missing = path !== undefined && !this.completedSavepoints.has(path);
    const injected = missing ? undefined : this.faultHooks?.takeSubmitFault(parallelism);
    if (missing || injected !== undefined) {
      const failed = this.newJob({ savepointPath: path, restoring: false, id: request.jobId });
      this.restoredFromLatestStop.set(failed.id, path !== undefined && path === this.latestStopSavepoint);
      failed.finalState = 'FAILED';
      failed.failure = injected ?? `java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '${path}' on file system 'file'.`;
      failed.endSecond = this.elapsed;
      failed.stateTimestamps.INITIALIZING = this.wallOf(this.elapsed);
      failed.stateTimestamps.FAILED = this.wallOf(this.elapsed);
      this.syncKubernetes();
      return failed;
    }
    const job = this.submit(parallelism, path, request.jobId);
    this.settle();
    this.syncKubernetes();
    return job;
  }

  /** GET /jobs/:jobid/resource-requirements: the vertex's parallelism bounds (adaptive scheduler only). */
  resourceRequirements(jobId: string): Record<string, { parallelism: { lowerBound: number; upperBound: number } }> {
    this.requireAdaptive('requestJobResourceRequirements');
    const job = this.liveJob(jobId);
    return { [this.vertexId]: { parallelism: { lowerBound: 1, upperBound: this.jobParallelism(job) } } };
  }

  /**
   * PUT /jobs/:jobid/resource-requirements: the adaptive scheduler rescales in place to the
   * upper bound (down for the rescale downtime, same job id). While the job restarts, the new
   * bound applies to that restart.
   */
  updateResourceRequirements(jobId: string, body: unknown): void {
    this.requireAdaptive('updateJobResourceRequirements');
    const job = this.liveJob(jobId);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new FlinkRestError(400, 'Request did not match expected format JobResourceRequirementsBody.');
    }
    let upper: number | undefined;
    for (const [vertex, value] of Object.entries(body as Record<string, unknown>)) {
      if (vertex !== this.vertexId) throw new FlinkRestError(400, `Job vertex ${vertex} does not exist in job ${job.id}.`);
      const bounds = (value as { parallelism?: { lowerBound?: unknown; upperBound?: unknown } } | null)?.parallelism;
      const lower = bounds?.lowerBound;
      const up = bounds?.upperBound;
      if (typeof lower !== 'number' || typeof up !== 'number' || !Number.isInteger(lower) || !Number.isInteger(up)) {
        throw new FlinkRestError(400, 'Request did not match expected format JobResourceRequirementsBody.');
      }
      if (lower < 1 || lower > up) throw new FlinkRestError(400, `The lower bound ${lower} must be ≥ 1 and ≤ the upper bound ${up}.`);
      upper = up;
    }
    if (upper === undefined) throw new FlinkRestError(400, `The resource requirements must contain job vertex ${this.vertexId}.`);
    this.checkParallelism(upper, 'upperBound');
    if (this.phase.kind === 'stopping') return; // the job is finishing: nothing left to rescale
    this.rescaleInPlace(upper);
    this.syncKubernetes();
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
    const deployment = this.kube.mustGet(DEPLOYMENT, namespace, name);
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
      status: { replicas: status?.replicas ?? 0, selector: `app=${this.name},component=taskmanager` },
    };
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

  // ---------------------------------------------------------------- internals

  private restartsNow(): number {
    const i = this.twin.elapsed - 1;
    return i < 0 ? 0 : (this.twin.record.numRestarts[i] as number);
  }

  private clamp(parallelism: number): number {
    const { minParallelism, maxParallelism } = this.scenario.twin;
    return Math.min(maxParallelism, Math.max(minParallelism, Math.round(parallelism)));
  }

  private checkParallelism(parallelism: number, field: string): void {
    const { minParallelism, maxParallelism } = this.scenario.twin;
    if (!Number.isInteger(parallelism) || parallelism < minParallelism || parallelism > maxParallelism) {
      throw new FlinkRestError(400, `${field} ${parallelism} is outside the range the twin's scenario allows, [${minParallelism}, ${maxParallelism}].`);
    }
  }

  private requireAdaptive(operation: string): void {
    if (this.scheduler !== 'adaptive') {
      throw new FlinkRestError(500, `Internal server error.: java.lang.UnsupportedOperationException: The DefaultScheduler does not support ${operation}; this is only supported by the AdaptiveScheduler (jobmanager.scheduler: adaptive).`);
    }
  }

  /** A job whose JobMaster still exists; a terminated job's is gone (404, as in Flink). */
  private liveJob(jobId: string): LiveJob {
    const job = this.job(jobId);
    if (job.finalState) throw new FlinkRestError(404, `Job ${jobId} not found: it is ${job.finalState}.`);
    return job;
  }

  private newJob(options: { savepointPath: string | undefined; restoring: boolean; id?: string | undefined }): LiveJob {
    const previous = this.jobList[this.jobList.length - 1];
    if (previous && previous.finalParallelism === undefined) previous.finalParallelism = this.twin.targetParallelism;
    const job: LiveJob = {
      id: options.id ?? this.ids.hex32('job'),
      name: this.scenario.name,
      submittedSecond: this.elapsed,
      restartsAtStart: this.restartsNow(),
      savepointPath: options.savepointPath,
      endSecond: undefined,
      finalState: undefined,
      failure: undefined,
      restoring: options.restoring,
      runningSince: undefined,
      checkpoints: 0,
      processed: 0,
      stateTimestamps: {},
      lastModifiedSecond: this.elapsed,
      finalParallelism: undefined,
    };
    this.jobList.push(job);
    return job;
  }

  /** Starts the stopped twin again with a new job: RUNNING from max(stop + D, now + D − S). */
  private submit(parallelism: number, savepointPath: string | undefined, jobId?: string): LiveJob {
    if (this.phase.kind !== 'stopped') throw new Error('submit() needs a stopped job');
    const downtime = this.scenario.twin.rescaleDowntimeSeconds;
    const runsAt = Math.max(this.phase.stopSecond + downtime, this.elapsed + downtime - this.savepointSeconds);
    const job = this.newJob({ savepointPath, restoring: true, id: jobId });
    this.restoredFromLatestStop.set(job.id, savepointPath !== undefined && savepointPath === this.latestStopSavepoint);
    job.stateTimestamps.INITIALIZING = this.wallOf(this.elapsed);
    this.twin.resumeAt(parallelism, runsAt);
    this.defaultParallelism = this.twin.targetParallelism;
    this.phase = { kind: 'active' };
    return job;
  }

  private existingTrigger(job: LiveJob, triggerId: string | undefined): string | undefined {
    if (triggerId === undefined) return undefined;
    if (!HEX32.test(triggerId)) throw new FlinkRestError(400, `Request did not match expected format: invalid triggerId "${triggerId}".`);
    const existing = this.operations.get(triggerId);
    if (!existing) return undefined;
    if (existing.jobId !== job.id) throw new FlinkRestError(409, `Trigger id ${triggerId} is already used for job ${existing.jobId}.`);
    return triggerId; // Flink de-duplicates a repeated trigger id
  }

  /** Why a savepoint cannot be taken now, or undefined when it can. */
  private refusal(job: LiveJob): string | undefined {
    const state = this.jobState(job);
    if (job !== this.currentJob || job.finalState) return `org.apache.flink.runtime.messages.FlinkJobTerminatedWithoutCancellationException: Job ${job.id} has already terminated with state ${state}.`;
    if (this.phase.kind === 'stopping') return 'org.apache.flink.runtime.checkpoint.CheckpointException: A stop-with-savepoint of this job is already in progress.';
    if (state !== 'RUNNING' || this.twin.status !== 'RUNNING' || this.twin.rescalePending) {
      return 'org.apache.flink.runtime.checkpoint.CheckpointException: Not all required tasks are currently running.';
    }
    return undefined;
  }

  private newOperation(job: LiveJob, kind: 'savepoint' | 'stop', options: { triggerId?: string; targetDirectory?: string }, refusal: string | undefined, doneAt?: number): SavepointOperation {
    const triggerId = options.triggerId ?? this.ids.hex32('trigger');
    const directory = (options.targetDirectory ?? this.savepointDirectory).replace(/\/+$/, '');
    const operation: SavepointOperation = {
      triggerId,
      jobId: job.id,
      kind,
      triggeredSecond: this.elapsed,
      doneAt: doneAt ?? (refusal === undefined ? this.elapsed + this.savepointSeconds : this.elapsed),
      plannedLocation: `${directory}/savepoint-${job.id.slice(0, 6)}-${this.ids.hex32('savepoint').slice(0, 12)}`,
      restartsAtTrigger: this.restartsNow(),
      completed: false,
      location: undefined,
      failure: refusal,
    };
    this.operations.set(triggerId, operation);
    return operation;
  }

  private triggerStop(job: LiveJob, options: { triggerId?: string; targetDirectory?: string; terminal?: 'FINISHED' | 'CANCELED' }, after: AfterStop): string {
    const existing = this.existingTrigger(job, options.triggerId);
    if (existing) return existing;
    const refusal = this.refusal(job);
    const fault = refusal === undefined ? this.faultHooks?.takeStopFault() : undefined;
    if (fault) {
      // Injected: the savepoint fails (or hangs, then expires); the job keeps running, as Flink's does.
      const doneAt = fault.kind === 'hang' ? this.elapsed + fault.seconds : this.elapsed + this.savepointSeconds;
      const operation = this.newOperation(job, 'stop', options, fault.reason, doneAt);
      this.settle();
      return operation.triggerId;
    }
    const operation = this.newOperation(job, 'stop', options, refusal);
    if (refusal === undefined) {
      const accepted = this.twin.stopWithSavepoint(this.scenario.twin.rescaleDowntimeSeconds - this.savepointSeconds);
      if (!accepted) throw new Error('the twin refused a stop the cluster allowed');
      this.phase = { kind: 'stopping', operation, stopSecond: this.elapsed, terminal: options.terminal ?? 'FINISHED', after };
    }
    this.settle();
    this.syncKubernetes();
    return operation.triggerId;
  }

  private rescaleInPlace(target: number): void {
    if (this.twin.stopped) return;
    if (this.twin.status === 'RUNNING' && !this.twin.rescalePending) {
      if (target !== this.twin.parallelism) this.twin.requestRescale(target);
    } else {
      this.twin.retarget(target);
    }
    this.defaultParallelism = this.twin.targetParallelism;
  }

  private setParallelismFromReplicas(target: number): void {
    if (this.phase.kind === 'active') this.rescaleInPlace(target);
    else this.defaultParallelism = target;
  }

  /** Everything due at the start of the current second: savepoints, the operator's reconcile. */
  private settle(): void {
    const s = this.elapsed;
    for (const operation of this.operations.values()) {
      if (operation.completed || operation.doneAt > s) continue;
      operation.completed = true;
      if (operation.failure === undefined && operation.kind === 'savepoint' && this.restartsNow() !== operation.restartsAtTrigger) {
        operation.failure = 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint was declined (task failure).';
      }
      if (operation.failure === undefined) {
        operation.location = operation.plannedLocation;
        this.completedSavepoints.add(operation.plannedLocation);
        if (operation.kind === 'stop') this.latestStopSavepoint = operation.plannedLocation;
      }
    }
    const phase = this.phase;
    if (phase.kind === 'stopping' && phase.operation.completed) {
      const job = this.currentJob;
      job.finalState = phase.terminal;
      job.endSecond = phase.operation.doneAt;
      job.finalParallelism = this.twin.targetParallelism;
      job.stateTimestamps[phase.terminal] = this.wallOf(phase.operation.doneAt);
      this.phase = { kind: 'stopped', stopSecond: phase.stopSecond };
      const location = phase.operation.location as string;
      if (phase.after.kind === 'operator-upgrade') {
        this.recordOperatorSavepoint(location, phase.operation.doneAt);
        const next = this.submit(phase.after.parallelism, location);
        this.operator.awaitingJob = next.id;
      } else if (phase.after.kind === 'operator-suspend') {
        this.recordOperatorSavepoint(location, phase.operation.doneAt);
        this.operator.upgrading = false;
        this.operator.suspended = true;
      }
    }
    this.reconcile();
  }

  private recordOperatorSavepoint(location: string, second: number): void {
    const entry = { location, timeStamp: Math.round(this.wallOf(second)) };
    this.operator.lastSavepoint = entry;
    this.operator.savepointHistory.push(entry);
    if (this.operator.savepointHistory.length > 10) this.operator.savepointHistory.shift();
  }

  /** The operator: applies a newer FlinkDeployment spec when the job lets it. */
  private reconcile(): void {
    const fd = this.kube.get(FLINK_DEPLOYMENT, this.namespace, this.name);
    if (!fd) return;
    const generation = fd.metadata?.generation ?? 1;
    if (generation <= this.operator.reconciledGeneration) return;
    const spec = (fd.spec ?? {}) as FlinkDeploymentSpec;
    const desiredState = spec.job?.state ?? 'running';
    const parallelism = this.clamp(specParallelism(spec, this.vertexId) ?? this.twin.targetParallelism);
    const current = this.currentJob;
    const runningNow = this.phase.kind === 'active' && this.jobState(current) === 'RUNNING' && this.twin.status === 'RUNNING' && !this.twin.rescalePending;
    const markReconciled = (): void => {
      this.operator.reconciledSpec = spec;
      this.operator.reconciledGeneration = generation;
      this.operator.reconciledAtMs = Math.round(this.wallOf(this.elapsed));
    };
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
      const next = this.submit(parallelism, this.latestStopSavepoint);
      this.operator.awaitingJob = next.id;
    } else if (runningNow) {
      markReconciled();
      this.operator.upgrading = true;
      this.triggerStop(current, {}, { kind: 'operator-upgrade', parallelism });
    }
  }

  /** Bookkeeping after simulated second s. */
  private afterSecond(s: number): void {
    const record = this.twin.record;
    const status = this.twin.status;
    const job = this.currentJob;
    this.cumulativeArrivals += record.arrivalRate[s] as number;
    if (!job.finalState) {
      if (status === 'RUNNING' && this.previousTwinStatus !== 'RUNNING' && this.phase.kind === 'active') {
        job.runningSince = s;
        job.restoring = false;
        job.lastModifiedSecond = s;
        if (this.operator.awaitingJob === job.id) {
          this.operator.awaitingJob = undefined;
          this.operator.upgrading = false;
          this.operator.stableSpec = this.operator.reconciledSpec;
        }
      }
      if (status === 'RUNNING' && (record.checkpointAgeSeconds[s] as number) === 0) job.checkpoints++;
      job.processed += record.throughput[s] as number;
      const state = this.jobState(job);
      if (job.stateTimestamps[state] === undefined) {
        job.stateTimestamps[state] = this.wallOf(s);
        job.lastModifiedSecond = s;
      }
    }
    if (status !== this.previousTwinStatus) this.currentJob.lastModifiedSecond = s;
    this.previousTwinStatus = status;
  }

  // ---------------------------------------------------------------- Kubernetes objects

  private initialFlinkDeploymentSpec(): FlinkDeploymentSpec {
    const twin = this.scenario.twin;
    return {
      image: 'flink:1.20',
      flinkVersion: 'v1_20',
      mode: 'native',
      serviceAccount: 'flink',
      flinkConfiguration: {
        'jobmanager.scheduler': this.scheduler,
        'taskmanager.numberOfTaskSlots': '1',
        'pipeline.max-parallelism': String(twin.maxParallelism),
        'execution.checkpointing.interval': `${Math.round((twin.checkpointIntervalSeconds * 1000) / this.speed)} ms`,
        'state.savepoints.dir': this.savepointDirectory,
      },
      jobManager: { replicas: 1, resource: { cpu: 1, memory: '2048m' } },
      taskManager: { resource: { cpu: 1, memory: '2048m' } },
      job: {
        jarURI: `local:///opt/flink/usrlib/${JAR_NAME}`,
        entryClass: JAR_ENTRY_CLASS,
        parallelism: this.twin.parallelism,
        upgradeMode: 'savepoint',
        state: 'running',
      },
    };
  }

  private initialTaskManagerDeployment(): KubeObject {
    const labels = { app: this.name, component: 'taskmanager' };
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: this.taskManagerDeployment, namespace: this.namespace, labels },
      spec: {
        replicas: this.twin.parallelism,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'flink-main-container', image: 'flink:1.20', args: ['taskmanager'] }] },
        },
      },
    };
  }

  /** Writes the operator's and the Deployment controller's view of the twin, when it changed. */
  private syncKubernetes(): void {
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
    const state = this.jobState(job);
    const operator = this.operator;
    const lifecycle = operator.suspended && this.phase.kind === 'stopped' ? 'SUSPENDED' : operator.upgrading ? 'UPGRADING' : 'STABLE';
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
        startTime: String(Math.round(this.wallOf(job.submittedSecond))),
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
        state: operator.upgrading ? 'UPGRADING' : 'DEPLOYED',
      },
      taskManager: { replicas: taskManagers, labelSelector: `component=taskmanager,app=${this.name}` },
    };
  }
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

function unsupportedPatch(contentType: string, customResource: boolean): KubeError {
  const accepted = customResource
    ? 'application/json-patch+json, application/merge-patch+json'
    : 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json';
  return new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format (${contentType || 'none'}) - accepted media types include: ${accepted}`);
}

/** A job's status as a Flink ExecutionState for its tasks. */
export function executionState(state: FlinkJobState): string {
  switch (state) {
    case 'RUNNING': return 'RUNNING';
    case 'FINISHED': return 'FINISHED';
    case 'CANCELED': return 'CANCELED';
    case 'FAILED': return 'FAILED';
    case 'INITIALIZING': return 'INITIALIZING';
    default: return 'SCHEDULED';
  }
}
