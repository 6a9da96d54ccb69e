import type { GateMetrics } from '../act/actuation-gate.js';
import type { RescaleResult } from '../act/actuator.js';
import type { DecisionRecord } from '../export/metrics.js';

/**
 * What the control loop reports to (PhoebeMetrics in production): the loop depends on this, not
 * on the Prometheus registry behind it, so a test can hand it a recorder.
 */
export interface LoopMetrics extends GateMetrics {
  recordDecision(record: DecisionRecord): void;
  /** A tick that ended waiting (warm-up, models without data); `seconds` it took. */
  recordWaiting(seconds: number): void;
  recordRescale(result: RescaleResult): void;
  /** The data problems phoebe holds for now (none: it does not hold for data). */
  setHold(reasons: readonly string[]): void;
  setReadiness(ready: boolean, metricAgeSeconds: number | undefined): void;
}
