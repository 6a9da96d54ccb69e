import type { Scenario } from '../config/scenario.js';
import { toSignals } from '../observe/prometheus-convert.js';
import { JOB_STATUS_BY_CODE, JOB_STATUS_CODE, type JobStatus, type SignalHistory, type Signals } from '../observe/signals.js';
import { capacityTable } from './capacity.js';
import { seededNormal } from './random.js';

/** Everything the twin recorded, one entry per simulated second. */
export interface TwinRecord {
  t: Float64Array;
  arrivalRate: Float64Array;
  /** Records processed in the second (the throughput a policy sees). */
  throughput: Float64Array;
  lag: Float64Array;
  latencySeconds: Float64Array;
  parallelism: Float64Array;
  status: Float64Array;
  busyTimeMsPerSecond: Float64Array;
  backPressuredTimeMsPerSecond: Float64Array;
  checkpointAgeSeconds: Float64Array;
  numRestarts: Float64Array;
  /** Records re-added to the lag by a rollback at the start of the second. */
  rolledBack: Float64Array;
}

export type RescaleOutcome = 'started' | 'rejected' | 'unchanged';

const RUNNING = JOB_STATUS_CODE.RUNNING;
const RESTARTING = JOB_STATUS_CODE.RESTARTING;
const RESCALING = JOB_STATUS_CODE.RESCALING;

/**
 * A deterministic second-by-second model of one Flink job reading one Kafka topic
 * (EVALUATION.md section 1). Each call to step() simulates one second; between steps a
 * policy may read signals() and call requestRescale(). Pure: no clock, no I/O.
 */
export class Twin {
  readonly duration: number;
  readonly record: TwinRecord;
  private readonly arrivals: Float64Array;
  private readonly capacity: Float64Array;
  private readonly noise: () => number;
  private readonly noiseSigma: number;
  private readonly failureAt: Set<number>;
  private readonly startTime: number;

  private second = 0;
  private p: number;
  private statusCode = RUNNING;
  /** First second at which the job runs again while down. */
  private downUntil = 0;
  /** Parallelism the job resumes with after the current downtime. */
  private resumeParallelism: number;
  private lagRecords = 0;
  private processedSinceCheckpoint = 0;
  private runningSinceCheckpoint = 0;
  private lastCheckpointSecond = 0;
  private restarts = 0;
  private pendingRescale: number | undefined;
  rescalesStarted = 0;
  rescalesCompleted = 0;
  rescalesRejected = 0;
  /** Set by stopWithSavepoint(): the job is stopped and runs again only after resumeAt(). */
  private awaitingResume = false;
  /** Second of the stop and the seconds a resumption takes, while awaitingResume. */
  private heldSince = 0;
  private heldRestoreSeconds = 0;
  /** Scenario failures that found no job to fail (the job was stopped, awaiting resumeAt()). */
  failuresSkipped = 0;

  constructor(
    private readonly scenario: Pick<Scenario, 'twin' | 'failures'>,
    arrivals: Float64Array,
    options: { seed: number; startTime?: number; initialParallelism?: number },
  ) {
    const twin = scenario.twin;
    this.arrivals = arrivals;
    this.duration = arrivals.length;
    this.capacity = capacityTable(twin.capacity, 1, twin.maxParallelism);
    this.noise = seededNormal(options.seed);
    this.noiseSigma = twin.noise.capacity;
    this.failureAt = new Set(scenario.failures.atSeconds);
    this.startTime = options.startTime ?? 0;
    this.p = options.initialParallelism ?? twin.initialParallelism;
    this.resumeParallelism = this.p;
    const column = (): Float64Array => new Float64Array(this.duration);
    this.record = {
      t: column(), arrivalRate: column(), throughput: column(), lag: column(), latencySeconds: column(),
      parallelism: column(), status: column(), busyTimeMsPerSecond: column(), backPressuredTimeMsPerSecond: column(),
      checkpointAgeSeconds: column(), numRestarts: column(), rolledBack: column(),
    };
  }

  /** Seconds simulated so far. */
  get elapsed(): number {
    return this.second;
  }

  get done(): boolean {
    return this.second >= this.duration;
  }

  get parallelism(): number {
    return this.p;
  }

  /**
   * Asks for a rescale starting with the next second. Accepted only while RUNNING; a request
   * while the job is down is rejected and counted, as the Flink REST API would refuse it.
   */
  requestRescale(parallelism: number): RescaleOutcome {
    const max = this.scenario.twin.maxParallelism;
    const min = this.scenario.twin.minParallelism;
    const target = Math.min(max, Math.max(min, Math.round(parallelism)));
    if (this.statusCode !== RUNNING || this.pendingRescale !== undefined) {
      this.rescalesRejected++;
      return 'rejected';
    }
    if (target === this.p) return 'unchanged';
    this.pendingRescale = target;
    return 'started';
  }

  /** Whether the job is RUNNING, RESTARTING or RESCALING now (before the next second). */
  get status(): JobStatus {
    return JOB_STATUS_BY_CODE[this.statusCode] ?? 'RUNNING';
  }

  /** Parallelism the job runs at, or resumes with after the current downtime. */
  get targetParallelism(): number {
    return this.pendingRescale ?? (this.statusCode === RUNNING ? this.p : this.resumeParallelism);
  }

  /** Records waiting in Kafka now. */
  get lag(): number {
    return this.lagRecords;
  }

  /** A rescale was accepted by requestRescale() and starts with the next second. */
  get rescalePending(): boolean {
    return this.pendingRescale !== undefined;
  }

  /** The job was stopped by stopWithSavepoint() and waits for resumeAt(). */
  get stopped(): boolean {
    return this.awaitingResume;
  }

  /** Whether the scenario injects a failure at the start of this second (0-based). */
  failsAt(second: number): boolean {
    return this.failureAt.has(second);
  }

  /**
   * Stop-with-savepoint with no restart scheduled yet (the live twin's REST and operator flows):
   * from the next second the job is down (RESCALING, no rollback: the savepoint is the last
   * completed checkpoint) until resumeAt() schedules its restart. Scenario failures while it
   * waits are skipped and counted in failuresSkipped: there is no job for them to hit.
   * `restoreSeconds` (default: the rescale downtime) is how long a restart takes once
   * scheduled; the latency of a waiting job counts max(stop + rescale downtime, now +
   * restoreSeconds) as its remaining downtime, i.e. as if it were resubmitted now.
   * Accepted only while RUNNING with no rescale pending, like requestRescale().
   */
  stopWithSavepoint(restoreSeconds?: number): boolean {
    if (this.statusCode !== RUNNING || this.pendingRescale !== undefined) {
      this.rescalesRejected++;
      return false;
    }
    const s = this.second;
    this.statusCode = RESCALING;
    this.downUntil = Number.POSITIVE_INFINITY;
    this.resumeParallelism = this.p;
    this.processedSinceCheckpoint = 0;
    this.runningSinceCheckpoint = 0;
    this.lastCheckpointSecond = s;
    this.rescalesStarted++;
    this.awaitingResume = true;
    this.heldSince = s;
    this.heldRestoreSeconds = Math.max(0, restoreSeconds ?? this.scenario.twin.rescaleDowntimeSeconds);
    return true;
  }

  /**
   * Schedules the job stopped by stopWithSavepoint() to run again at `parallelism` (clamped to
   * [minParallelism, maxParallelism]) from second `atSecond` on (at the earliest the next
   * second). Returns false when the job is not waiting for it.
   */
  resumeAt(parallelism: number, atSecond: number): boolean {
    if (!this.awaitingResume) return false;
    this.awaitingResume = false;
    this.resumeParallelism = this.clampParallelism(parallelism);
    this.downUntil = Math.max(Math.ceil(atSecond), this.second);
    return true;
  }

  /**
   * Changes the parallelism of a change already under way: a rescale accepted this second, or
   * the restart after a failure or rescale (the job comes back at the new parallelism when its
   * downtime ends, as the adaptive scheduler does with new resource requirements). Returns
   * false when nothing is under way (RUNNING with no pending rescale, or stopped).
   */
  retarget(parallelism: number): boolean {
    const target = this.clampParallelism(parallelism);
    if (this.pendingRescale !== undefined) {
      if (target === this.p) this.pendingRescale = undefined;
      else this.pendingRescale = target;
      return true;
    }
    if (this.statusCode === RUNNING || this.awaitingResume) return false;
    this.resumeParallelism = target;
    return true;
  }

  private clampParallelism(parallelism: number): number {
    const { minParallelism, maxParallelism } = this.scenario.twin;
    return Math.min(maxParallelism, Math.max(minParallelism, Math.round(parallelism)));
  }

  private remainingDowntime(s: number): number {
    if (!this.awaitingResume) return this.downUntil - s;
    const rescale = this.scenario.twin.rescaleDowntimeSeconds;
    return Math.max(this.heldSince + rescale, s + this.heldRestoreSeconds) - s;
  }

  /** Simulates one second. */
  step(): void {
    const s = this.second;
    if (s >= this.duration) throw new Error('the twin has already simulated the whole trace');
    const twin = this.scenario.twin;
    const arrival = this.arrivals[s] as number;
    let rolledBack = 0;

    if (this.failureAt.has(s) && this.awaitingResume) {
      // No job is running or scheduled: the failure has nothing to hit (only with stopWithSavepoint()).
      this.failuresSkipped++;
    } else if (this.failureAt.has(s)) {
      // Restore from the last completed checkpoint: its progress since then is lost.
      rolledBack = this.processedSinceCheckpoint;
      this.lagRecords += rolledBack;
      this.processedSinceCheckpoint = 0;
      this.runningSinceCheckpoint = 0;
      if (this.statusCode === RESCALING) {
        // The savepoint was taken: the job restarts at the parallelism it was rescaling to.
        this.p = this.resumeParallelism;
        this.rescalesCompleted++;
      }
      if (this.pendingRescale !== undefined) this.rescalesRejected++;
      this.statusCode = RESTARTING;
      this.downUntil = s + twin.restartDowntimeSeconds;
      this.resumeParallelism = this.p;
      this.pendingRescale = undefined;
      this.restarts++;
    } else if (this.pendingRescale !== undefined) {
      // Stop-with-savepoint: the savepoint is a completed checkpoint, nothing is replayed.
      this.statusCode = RESCALING;
      this.downUntil = s + twin.rescaleDowntimeSeconds;
      this.resumeParallelism = this.pendingRescale;
      this.pendingRescale = undefined;
      this.processedSinceCheckpoint = 0;
      this.runningSinceCheckpoint = 0;
      this.lastCheckpointSecond = s;
      this.rescalesStarted++;
    }
    if (this.statusCode !== RUNNING && s >= this.downUntil) {
      if (this.statusCode === RESCALING) this.rescalesCompleted++;
      this.statusCode = RUNNING;
      this.p = this.resumeParallelism;
    }

    const nominal = this.capacity[this.statusCode === RUNNING ? this.p : this.resumeParallelism] as number;
    const epsilon = Math.max(-3, Math.min(3, this.noise())) * this.noiseSigma;
    const real = nominal * (1 + epsilon);
    let processed = 0;
    let latency: number;
    if (this.statusCode === RUNNING) {
      processed = Math.min(real, arrival + this.lagRecords);
      this.lagRecords += arrival - processed;
      const rho = Math.min(0.99, arrival / real);
      latency = twin.baseLatencySeconds / (1 - rho) + this.lagRecords / real;
      this.processedSinceCheckpoint += processed;
      this.runningSinceCheckpoint++;
      if (this.runningSinceCheckpoint >= twin.checkpointIntervalSeconds) {
        this.processedSinceCheckpoint = 0;
        this.runningSinceCheckpoint = 0;
        this.lastCheckpointSecond = s + 1;
      }
    } else {
      this.lagRecords += arrival;
      latency = this.lagRecords / nominal + this.remainingDowntime(s);
    }

    const r = this.record;
    r.t[s] = this.startTime + s;
    r.arrivalRate[s] = arrival;
    r.throughput[s] = processed;
    r.lag[s] = this.lagRecords;
    r.latencySeconds[s] = latency;
    r.parallelism[s] = this.statusCode === RUNNING ? this.p : this.resumeParallelism;
    r.status[s] = this.statusCode;
    r.busyTimeMsPerSecond[s] = this.statusCode === RUNNING ? (1000 * processed) / real : 0;
    r.backPressuredTimeMsPerSecond[s] = 0;
    r.checkpointAgeSeconds[s] = s + 1 - this.lastCheckpointSecond;
    r.numRestarts[s] = this.restarts;
    r.rolledBack[s] = rolledBack;
    this.second = s + 1;
  }

  /** What Prometheus would show after the seconds simulated so far. */
  signals(): Signals {
    const n = this.second;
    if (n === 0) throw new Error('no second simulated yet');
    const r = this.record;
    const history: SignalHistory = {
      length: n,
      t: r.t.subarray(0, n),
      arrivalRate: r.arrivalRate.subarray(0, n),
      throughput: r.throughput.subarray(0, n),
      lag: r.lag.subarray(0, n),
      busyTimeMsPerSecond: r.busyTimeMsPerSecond.subarray(0, n),
      backPressuredTimeMsPerSecond: r.backPressuredTimeMsPerSecond.subarray(0, n),
      latencySeconds: r.latencySeconds.subarray(0, n),
      parallelism: r.parallelism.subarray(0, n),
      checkpointAgeSeconds: r.checkpointAgeSeconds.subarray(0, n),
      numRestarts: r.numRestarts.subarray(0, n),
      status: r.status.subarray(0, n),
    };
    return toSignals(history);
  }
}
