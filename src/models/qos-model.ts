import type { SignalHistory } from '../observe/signals.js';
import { CapacityLearner, type CapacityEstimate } from './capacity.js';
import { estimateDowntime, observeDowntimes } from './downtime.js';
import { LatencyLearner, type LatencyModel } from './latency.js';

/** What phoebe believes about the job: the input of every plan. */
export interface QosModel {
  readonly capacity: CapacityEstimate;
  readonly latency: LatencyModel;
  /** Expected downtime of a restart after a failure (s). */
  readonly restartDowntimeSeconds: number;
  /** Expected downtime of a stop-with-savepoint rescale (s). */
  readonly rescaleDowntimeSeconds: number;
  /** Input lost at a failure, at worst: one checkpoint interval (s). */
  readonly checkpointIntervalSeconds: number;
  /** Restarts and rescales seen so far. */
  readonly observedRestarts: number;
  readonly observedRescales: number;
}

export interface QosPriors {
  checkpointIntervalSeconds: number;
  /** Used until a restart has been observed. */
  restartDowntimeSeconds: number;
  /** Used until a rescale has been observed. */
  rescaleDowntimeSeconds: number;
  profile?: ReadonlyArray<{ parallelism: number; maxRate: number }>;
}

/** Keeps the QoS models up to date from the signal history, one decision at a time. */
export class QosLearner {
  private readonly capacity: CapacityLearner;
  private readonly latency = new LatencyLearner();

  constructor(private readonly priors: QosPriors) {
    this.capacity = new CapacityLearner(priors.profile ?? []);
  }

  /** Reads new samples and returns the current model; undefined before any capacity is known. */
  update(history: SignalHistory): QosModel | undefined {
    this.capacity.observe(history);
    this.latency.observe(history);
    const capacity = this.capacity.estimate();
    if (!capacity) return undefined;
    const downtimes = observeDowntimes(history);
    return {
      capacity,
      latency: this.latency.model(),
      restartDowntimeSeconds: estimateDowntime(downtimes.restarts, this.priors.restartDowntimeSeconds),
      rescaleDowntimeSeconds: estimateDowntime(downtimes.rescales, this.priors.rescaleDowntimeSeconds),
      checkpointIntervalSeconds: this.priors.checkpointIntervalSeconds,
      observedRestarts: downtimes.restarts.length,
      observedRescales: downtimes.rescales.length,
    };
  }
}
