/** One parallelism's predicted QoS over the forecast horizon, for the explanation. */
export interface CandidateAssessment {
  parallelism: number;
  /** Pessimistic capacity used for planning (records/s). */
  capacity: number;
  /** Expected capacity (records/s). */
  expectedCapacity: number;
  /** Worst predicted latency over the horizon (s; Infinity when overloaded). */
  worstLatencySeconds: number;
  /** Worst predicted recovery time after a failure over the horizon (s; Infinity when it never recovers). */
  worstRecoverySeconds: number;
  /** Recovery time for a failure right now (s). */
  recoveryNowSeconds: number;
  meetsSlos: boolean;
}

export type DecisionAction = 'hold' | 'scale-up' | 'scale-down';

/** A plan's outcome with everything needed to explain it in logs, the API and the dashboard. */
export interface Decision {
  action: DecisionAction;
  currentParallelism: number;
  /** The parallelism phoebe recommends now (equal to current on hold). */
  recommendedParallelism: number;
  reason: string;
  /** Why a wanted change was not made now (rate limit, dwell time), if so. */
  heldBy?: string;
  /** Inputs as the planner saw them. */
  inputs: {
    time: number;
    arrivalRate: number;
    lag: number;
    forecastStepSeconds: number;
    forecastPeakUpper: number;
    restartDowntimeSeconds: number;
    rescaleDowntimeSeconds: number;
    capacityModel: string;
    /** Slot-seconds one second over the latency SLO was worth (error-budget price). */
    violationPrice: number;
  };
  candidates: CandidateAssessment[];
  /** Smallest parallelism meeting both SLOs at each forecast step. */
  requiredPerStep: number[];
  /** The cheapest schedule over the horizon, first step first. */
  schedule: number[];
}
