/**
 * The flink-rest actuator's options as callers give them, and the same with every default filled
 * in (written here once) for the pieces that do the work.
 */
import { systemClock, type Clock } from '../../util/clock.js';
import type { RescaleEventSink, EventTarget } from '../kubernetes/events.js';
import { stderrLogger, type ActLogger } from '../logger.js';
import type { SavepointFormatType } from './client.js';
import { sourceVertexTest, type SourceTest } from './vertices.js';
import type { RescaleRecord } from './journal.js';

export interface FlinkRestActuatorOptions {
  /** JobManager REST endpoint, e.g. http://my-job-rest.flink:8081. */
  restUrl: string;
  /** Extra headers for every REST request (e.g. a proxy's Authorization). Never logged. */
  restHeaders?: Record<string, string>;
  /** The job to rescale (32 hex). Either this or `jobName`. */
  jobId?: string;
  /**
   * RE2 pattern of the source vertices' names (job.sourceTaskPattern): the job's parallelism is
   * that of its widest other vertex, and sources pinned to another parallelism keep it. Default
   * "Source:.*".
   */
  sourceTaskPattern?: string;
  /** Find the job among running jobs by name (GET /jobs/overview) when no id is known or the tracked one is gone. */
  jobName?: string;
  /** The uploaded jar to resubmit (its id in GET /jars). Either this or `jarName`, unless inPlace is 'always'. */
  jarId?: string;
  /** The uploaded jar's file name; the newest upload with that name is used. */
  jarName?: string;
  /** Entry class for the resubmission (JarRunRequestBody.entryClass). */
  entryClass?: string;
  /** Program arguments for the resubmission (JarRunRequestBody.programArgsList). */
  programArgs?: string[];
  /** Allow savepoint state that maps to no operator. Default false. */
  allowNonRestoredState?: boolean;
  /** Savepoint target directory; omitted → the cluster's state.savepoints.dir. */
  savepointDirectory?: string;
  savepointFormatType?: SavepointFormatType;
  /** 'auto' (default): in place when jobmanager.scheduler = adaptive; 'always'; 'never'. */
  inPlace?: 'auto' | 'always' | 'never';
  /**
   * When the resubmission at the new parallelism is rejected or its job fails, resubmit at the old
   * parallelism from the same savepoint so the job does not stay down. Default true.
   */
  restoreOnSubmitFailure?: boolean;
  /**
   * Directory of the rescale journal (created when missing; in Kubernetes a mounted volume). Without
   * it the journal lives in memory: an interrupted rescale is resumed by this process only.
   */
  stateDirectory?: string;
  /** Job submissions one rescale may make in all, forward and rollback (default 4); then it waits for an operator. */
  maxSubmissions?: number;
  /**
   * Called after every journal write (step = the phase), after the stop went out (answered or not:
   * 'stop-sent') and after the run was confirmed ('run-sent'), before the next journal write. For
   * fault-injection tests; a rejection is ignored.
   */
  onStep?: (step: string, record: RescaleRecord) => void | Promise<void>;
  /** Per-request timeout (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** How long the savepoint may take (ms). Default 600 000. */
  savepointTimeoutMs?: number;
  /** How long the (re)started job may take to run at the new parallelism (ms). Default 300 000. */
  runningTimeoutMs?: number;
  /** Poll interval (ms). Default 2 000. */
  pollIntervalMs?: number;
  /** Record a Kubernetes Event on this object for every rescale. */
  events?: { sink: RescaleEventSink; target: EventTarget };
  logger?: ActLogger;
  /** Time for polling, timeouts and the journal's dates. Default: the system clock. */
  clock?: Clock;
}

/** The options with their defaults. */
export interface FlinkRestSettings extends Omit<FlinkRestActuatorOptions, 'sourceTaskPattern' | 'inPlace' | 'restoreOnSubmitFailure' | 'maxSubmissions' | 'requestTimeoutMs' | 'savepointTimeoutMs' | 'runningTimeoutMs' | 'pollIntervalMs' | 'logger' | 'clock' | 'allowNonRestoredState'> {
  isSource: SourceTest;
  inPlace: 'auto' | 'always' | 'never';
  restoreOnSubmitFailure: boolean;
  maxSubmissions: number;
  allowNonRestoredState: boolean;
  requestTimeoutMs: number;
  savepointTimeoutMs: number;
  runningTimeoutMs: number;
  pollIntervalMs: number;
  logger: ActLogger;
  clock: Clock;
}

export function withDefaults(options: FlinkRestActuatorOptions): FlinkRestSettings {
  const { sourceTaskPattern, ...rest } = options;
  return {
    ...rest,
    isSource: sourceVertexTest(sourceTaskPattern),
    inPlace: options.inPlace ?? 'auto',
    restoreOnSubmitFailure: options.restoreOnSubmitFailure !== false,
    maxSubmissions: options.maxSubmissions ?? 4,
    allowNonRestoredState: options.allowNonRestoredState ?? false,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    savepointTimeoutMs: options.savepointTimeoutMs ?? 600_000,
    runningTimeoutMs: options.runningTimeoutMs ?? 300_000,
    pollIntervalMs: options.pollIntervalMs ?? 2_000,
    logger: options.logger ?? stderrLogger,
    clock: options.clock ?? systemClock,
  };
}

/** A timeout for messages: "0.2 s". */
export function secondsText(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
