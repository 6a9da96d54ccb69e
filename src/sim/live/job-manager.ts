import type { Scenario } from '../../config/scenario.js';
import { Twin } from '../twin.js';
import {
  FlinkRestError, JAR_NAME, checkParallelism, requestedUpperBound, requireAdaptive, JOB_VERTEX_NAME, PROCESS_OPERATOR_NAME,
  type ClusterFaultHooks, type FlinkJobState, type LiveJob, type SavepointStatus, type Scheduler,
} from './flink-job.js';
import { HEX32, IdSource, hex32Of } from './ids.js';
import { JobHistory } from './job-history.js';
import { SavepointOperations, type SavepointOperation, type SimulatedMoment, type TriggerOptions } from './savepoint-operations.js';

export interface JobManagerOptions {
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
  /** Reactive mode (scheduler-mode: reactive): the parallelism follows the TaskManagers. Default false. */
  reactive?: boolean;
  /** Simulated seconds a savepoint takes (default min(2, rescale downtime)). */
  savepointSeconds?: number;
  savepointDirectory?: string;
}

export interface StopOptions extends TriggerOptions {
  terminal?: 'FINISHED' | 'CANCELED';
}

/** Who stopped the job and what follows once its savepoint completes. */
export type AfterStop = { kind: 'wait' } | { kind: 'operator-upgrade'; parallelism: number } | { kind: 'operator-suspend' };

type Phase =
  | { kind: 'active' }
  | { kind: 'stopping'; operation: SavepointOperation; stopSecond: number; terminal: 'FINISHED' | 'CANCELED'; after: AfterStop }
  | { kind: 'stopped'; stopSecond: number };

/**
 * The Flink JobManager of the live twin: the twin's job through time, its submissions (jar runs),
 * savepoints, stops and in-place rescales — what the Flink REST API answers. The cluster around
 * it (LiveCluster: the Kubernetes operator and objects) fills in the hooks at the end; the
 * semantics are described on LiveCluster.
 */
export abstract class JobManager {
  readonly scenario: Scenario;
  readonly twin: Twin;
  readonly speed: number;
  readonly startWallMs: number;
  readonly scheduler: Scheduler;
  readonly reactive: boolean;
  readonly savepointSeconds: number;
  readonly savepointDirectory: string;
  readonly vertexId: string;
  readonly sourceOperatorId: string;
  readonly processOperatorId: string;
  readonly jarId: string;
  /** Test-only faults (see ClusterFaultHooks); undefined unless fault injection is on. */
  faultHooks: ClusterFaultHooks | undefined;
  /** Jar runs refused because another job was active and the run asked for a new job id (a second job). */
  concurrentSubmissionsRefused = 0;

  /** Namespace of every deterministic id of this cluster (scenario and seed). */
  protected readonly idNamespace: string;
  protected phase: Phase = { kind: 'active' };
  /** Parallelism a resubmission uses when it names none (follows every rescale and the replicas). */
  protected defaultParallelism: number;
  protected readonly savepoints: SavepointOperations;
  private readonly ids: IdSource;
  private readonly history: JobHistory;
  private wallNow: number;
  private previousTwinStatus: string;
  private cumulativeArrivals = 0;

  constructor(options: JobManagerOptions) {
    const { scenario } = options;
    this.scenario = scenario;
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0) || !Number.isFinite(this.speed)) throw new Error(`speed must be a positive number, got ${this.speed}`);
    this.startWallMs = options.startWallMs;
    this.wallNow = options.startWallMs;
    this.scheduler = options.scheduler ?? 'default';
    this.reactive = options.reactive ?? false;
    const downtime = scenario.twin.rescaleDowntimeSeconds;
    this.savepointSeconds = Math.min(Math.max(0, Math.round(options.savepointSeconds ?? 2)), downtime);
    this.savepointDirectory = options.savepointDirectory ?? 'file:/flink-data/savepoints';
    this.idNamespace = `phoebe-twin/${scenario.name}/${options.seed}`;
    this.ids = new IdSource(this.idNamespace);
    this.savepoints = new SavepointOperations(this.ids, this.savepointDirectory, this.savepointSeconds);
    this.history = new JobHistory(this.ids, scenario.name);
    this.vertexId = hex32Of(`${scenario.name}/vertex/${JOB_VERTEX_NAME}`);
    this.sourceOperatorId = this.vertexId; // a chain's vertex id is its head operator's id
    this.processOperatorId = hex32Of(`${scenario.name}/operator/${PROCESS_OPERATOR_NAME}`);
    const jarUuid = this.ids.uid('jar');
    this.jarId = `${jarUuid}_${JAR_NAME}`;
    this.twin = new Twin(scenario, options.arrivals, { seed: options.seed, startTime: options.traceStartTime ?? 0 });
    this.previousTwinStatus = this.twin.status;
    this.defaultParallelism = this.twin.parallelism;

    const first = this.newJob({ savepointPath: undefined, restoring: false });
    first.runningSince = 0;
    first.stateTimestamps.INITIALIZING = this.startWallMs;
    first.stateTimestamps.CREATED = this.startWallMs;
    first.stateTimestamps.RUNNING = this.startWallMs;
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
    return this.history.all;
  }

  get currentJob(): LiveJob {
    return this.history.current;
  }

  /** The job with this id; 400 for a malformed id, 404 for an unknown one (Flink's answers). */
  job(jobId: string): LiveJob {
    return this.history.find(jobId);
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

  get cumulativeArrivalRecords(): number {
    return this.cumulativeArrivals;
  }

  /** Whether the job restored from the savepoint of the latest completed stop (undefined for the first job). */
  restoredFromLatestStopSavepoint(jobId: string): boolean | undefined {
    return this.history.restoredFromLatestStopSavepoint(jobId);
  }

  // ---------------------------------------------------------------- Flink REST operations

  /**
   * POST /jobs/:jobid/stop and POST /jobs/:jobid/savepoints with cancel-job: stop-with-savepoint.
   * Returns the trigger id; the operation's outcome is read with savepointStatus().
   */
  stopWithSavepoint(jobId: string, options: StopOptions = {}): string {
    return this.triggerStop(this.job(jobId), options, { kind: 'wait' });
  }

  /** POST /jobs/:jobid/savepoints (without cancel-job): a savepoint while the job keeps running. */
  triggerSavepoint(jobId: string, options: TriggerOptions = {}): string {
    const job = this.job(jobId);
    const existing = this.savepoints.existing(job, options.triggerId);
    if (existing) return existing;
    const refusal = this.refusal(job);
    const operation = this.savepoints.create(job, 'savepoint', options, refusal, this.moment());
    this.settle();
    return operation.triggerId;
  }

  /** GET /jobs/:jobid/savepoints/:triggerid. */
  savepointStatus(jobId: string, triggerId: string): SavepointStatus {
    const job = this.job(jobId);
    return this.savepoints.status(job, triggerId);
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
      if (!(request.jobId !== undefined && this.history.has(request.jobId))) this.concurrentSubmissionsRefused++;
      throw new FlinkRestError(409, `The live twin runs one job at a time: job ${current.id} is ${this.jobState(current)}; stop it with a savepoint first.`);
    }
    const parallelism = request.parallelism ?? this.defaultParallelism;
    checkParallelism(parallelism, 'parallelism', this.scenario.twin);
    if (request.jobId !== undefined) {
      if (!HEX32.test(request.jobId)) throw new FlinkRestError(400, `Request did not match expected format JarRunRequestBody: invalid jobId "${request.jobId}".`);
      if (this.history.has(request.jobId)) throw new FlinkRestError(409, `Job ${request.jobId} already exists.`);
    }
    const path = request.savepointPath;
    const missing = path !== undefined && !this.savepoints.completed(path);
    const injected = missing ? undefined : this.faultHooks?.takeSubmitFault(parallelism);
    if (missing || injected !== undefined) {
      const failed = this.newJob({ savepointPath: path, restoring: false, id: request.jobId, restoredFromLatestStop: this.isLatestStop(path) });
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
    requireAdaptive(this.scheduler, 'requestJobResourceRequirements');
    const job = this.liveJob(jobId);
    return { [this.vertexId]: { parallelism: { lowerBound: 1, upperBound: this.jobParallelism(job) } } };
  }

  /**
   * PUT /jobs/:jobid/resource-requirements: the adaptive scheduler rescales in place to the
   * upper bound (down for the rescale downtime, same job id). While the job restarts, the new
   * bound applies to that restart.
   */
  updateResourceRequirements(jobId: string, body: unknown): void {
    requireAdaptive(this.scheduler, 'updateJobResourceRequirements');
    const job = this.liveJob(jobId);
    const upper = requestedUpperBound(body, this.vertexId, job.id);
    checkParallelism(upper, 'upperBound', this.scenario.twin);
    if (this.phase.kind === 'stopping') return; // the job is finishing: nothing left to rescale
    if (this.faultHooks?.takeInPlaceFault?.()) return; // injected: accepted, but no slots for it
    this.rescaleInPlace(upper);
    this.syncKubernetes();
  }

  // ---------------------------------------------------------------- internals

  private restartsNow(): number {
    const i = this.twin.elapsed - 1;
    return i < 0 ? 0 : (this.twin.record.numRestarts[i] as number);
  }

  private moment(): SimulatedMoment {
    return { second: this.elapsed, restarts: this.restartsNow() };
  }

  private newJob(options: Parameters<JobHistory['add']>[0]): LiveJob {
    return this.history.add(options, { ...this.moment(), parallelism: this.twin.targetParallelism });
  }

  private isLatestStop(savepointPath: string | undefined): boolean {
    return savepointPath !== undefined && savepointPath === this.savepoints.latestStopLocation;
  }

  protected clamp(parallelism: number): number {
    const { minParallelism, maxParallelism } = this.scenario.twin;
    return Math.min(maxParallelism, Math.max(minParallelism, Math.round(parallelism)));
  }

  /** A job whose JobMaster still exists; a terminated job's is gone (404, as in Flink). */
  private liveJob(jobId: string): LiveJob {
    const job = this.job(jobId);
    if (job.finalState) throw new FlinkRestError(404, `Job ${jobId} not found: it is ${job.finalState}.`);
    return job;
  }

  /** Starts the stopped twin again with a new job: RUNNING from max(stop + D, now + D − S). */
  protected submit(parallelism: number, savepointPath: string | undefined, jobId?: string): LiveJob {
    if (this.phase.kind !== 'stopped') throw new Error('submit() needs a stopped job');
    const downtime = this.scenario.twin.rescaleDowntimeSeconds;
    const runsAt = Math.max(this.phase.stopSecond + downtime, this.elapsed + downtime - this.savepointSeconds);
    const job = this.newJob({ savepointPath, restoring: true, id: jobId, restoredFromLatestStop: this.isLatestStop(savepointPath) });
    job.stateTimestamps.INITIALIZING = this.wallOf(this.elapsed);
    this.twin.resumeAt(parallelism, runsAt);
    this.defaultParallelism = this.twin.targetParallelism;
    this.phase = { kind: 'active' };
    return job;
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

  protected triggerStop(job: LiveJob, options: StopOptions, after: AfterStop): string {
    const existing = this.savepoints.existing(job, options.triggerId);
    if (existing) return existing;
    const refusal = this.refusal(job);
    const fault = refusal === undefined ? this.faultHooks?.takeStopFault() : undefined;
    if (fault) {
      // Injected: the savepoint fails (or hangs, then expires); the job keeps running, as Flink's does.
      const doneAt = fault.kind === 'hang' ? this.elapsed + fault.seconds : this.elapsed + this.savepointSeconds;
      const operation = this.savepoints.create(job, 'stop', options, fault.reason, this.moment(), doneAt);
      this.settle();
      return operation.triggerId;
    }
    const operation = this.savepoints.create(job, 'stop', options, refusal, this.moment());
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

  protected setParallelismFromReplicas(target: number): void {
    if (this.phase.kind === 'active') this.rescaleInPlace(target);
    else this.defaultParallelism = target;
  }

  /** Everything due at the start of the current second: savepoints, the operator's reconcile. */
  protected settle(): void {
    this.savepoints.settle(this.moment());
    const phase = this.phase;
    if (phase.kind === 'stopping' && phase.operation.completed) {
      const job = this.currentJob;
      job.finalState = phase.terminal;
      job.endSecond = phase.operation.doneAt;
      job.finalParallelism = this.twin.targetParallelism;
      job.stateTimestamps[phase.terminal] = this.wallOf(phase.operation.doneAt);
      this.phase = { kind: 'stopped', stopSecond: phase.stopSecond };
      this.stopCompleted(phase.after, phase.operation.location as string, phase.operation.doneAt);
    }
    this.reconcile();
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
        this.jobRunning(job);
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

  // ---------------------------------------------------------------- the cluster around the job manager

  /** The operator's turn: at the start of every second and after every change of the job or its spec. */
  protected abstract reconcile(): void;
  /** The job stopped with a savepoint at `location` (simulated second `second`) for `after`. */
  protected abstract stopCompleted(after: AfterStop, location: string, second: number): void;
  /** The job switched to RUNNING. */
  protected abstract jobRunning(job: LiveJob): void;
  /** Brings the Kubernetes objects in line with the job after a change. */
  protected abstract syncKubernetes(): void;
}
