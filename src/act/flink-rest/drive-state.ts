/**
 * What the pieces of a journalled (stop-with-savepoint) rescale share: the context they work
 * with, the state of one drive through the phases, and what a phase handler leads to.
 */
import type { RescaleResult } from '../actuator.js';
import type { FlinkRestClient, StopWithSavepointRequestBody } from './client.js';
import type { RescaleRecord } from './journal.js';
import type { JobTracker } from './jobs.js';
import type { RescaleProgress } from './progress.js';
import type { FlinkRestSettings } from './settings.js';

export type Outcome = Omit<RescaleResult, 'seconds'>;

export interface SavepointRescaleContext {
  client: FlinkRestClient;
  settings: FlinkRestSettings;
  jobs: JobTracker;
  progress: RescaleProgress;
}

/** How this process sent the stop (not a resumed one): the body, to send it once more when it got lost. */
export interface LiveStop {
  body: StopWithSavepointRequestBody;
  /** Flink answered the stop, or its trigger has been seen since. */
  confirmed: boolean;
}

/** How a drive starts. */
export interface DriveStart {
  /** What the rescale learned (the parallelism it started from), for the log line and the Event. */
  seen: { from?: number };
  /** The newest parallelism a decision asks for, used while nothing has been resubmitted yet. */
  requested?: number;
  /** The stop was just sent by this call. */
  live?: LiveStop;
  /** Resuming a rescale an earlier attempt left unfinished (its outcome says so). */
  resumed: boolean;
}

/** One drive of a journalled rescale from its phase towards an end. */
export interface DriveState extends DriveStart {
  rec: RescaleRecord;
  /** This drive chose the submission in the journal (nothing to look up before sending it). */
  submittedHere: boolean;
  /** Submissions this drive made (a drive makes at most two: forward and rollback). */
  submissionsHere: number;
}

/** What handling a phase led to. */
export type Transition =
  /** The journal moved on: handle the record's phase next. */
  | { next: RescaleRecord }
  /** The drive ends here; `proceed`: the old job runs untouched, a new rescale may start. */
  | { end: Outcome; proceed?: boolean }
  /** A job of ours was found in the overview and recorded as resubmitted: drive afresh from there. */
  | { restart: RescaleRecord };

/** What driving an unfinished rescale led to. */
export interface Driven {
  outcome: Outcome;
  proceed: boolean;
}
