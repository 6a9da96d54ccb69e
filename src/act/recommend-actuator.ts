/**
 * `recommend`: phoebe publishes what it would do and changes nothing. It sits behind the same
 * Actuator interface so the control loop has one code path; every rescale is 'skipped'.
 */
import type { Actuator, RescaleRequest, RescaleResult } from './actuator.js';

export interface RecommendActuatorOptions {
  /**
   * Where the job's parallelism can be read, if anywhere (e.g. the latest observed value from
   * the metrics); without it currentParallelism() is undefined.
   */
  observedParallelism?: () => number | undefined;
}

export class RecommendActuator implements Actuator {
  readonly mode = 'recommend' as const;
  private readonly observed: (() => number | undefined) | undefined;

  constructor(options: RecommendActuatorOptions = {}) {
    this.observed = options.observedParallelism;
  }

  async currentParallelism(): Promise<number | undefined> {
    return this.observed?.();
  }

  async rescale(request: RescaleRequest): Promise<RescaleResult> {
    return {
      outcome: 'skipped',
      detail: `recommend mode: would rescale to ${request.parallelism} (${request.reason.split('\n')[0] ?? ''}); no change made`,
      seconds: 0,
    };
  }
}
