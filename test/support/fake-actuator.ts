import type { ActuationMode, Actuator, RescaleOutcome, RescaleRequest, RescaleResult } from '../../src/act/actuator.js';
import type { Clock } from '../../src/util/clock.js';

export interface FakeActuatorOptions {
  /** Default flink-rest. */
  mode?: ActuationMode;
  /**
   * What each request comes to (default: completed): an outcome, or a whole result. Called when
   * the rescale ends, so it may act on a twin or read what the test changed meanwhile.
   */
  outcome?: (request: RescaleRequest, index: number) => RescaleOutcome | RescaleResult;
  /** The job's parallelism as the target reports it (default: the last completed request's, else undefined). */
  parallelism?: () => number | undefined;
  /** Each rescale takes this long on `clock` (default: it ends at once). */
  delay?: { clock: Clock; ms: number };
}

/**
 * An Actuator for tests: records every request, answers with scripted outcomes, and can take
 * time on a (fake) clock or be held until the test releases it.
 */
export class FakeActuator implements Actuator {
  readonly mode: ActuationMode;
  readonly requests: RescaleRequest[] = [];
  private completed: number | undefined;
  private holding = false;
  private readonly held: (() => void)[] = [];

  constructor(private readonly options: FakeActuatorOptions = {}) {
    this.mode = options.mode ?? 'flink-rest';
  }

  async currentParallelism(): Promise<number | undefined> {
    return this.options.parallelism ? this.options.parallelism() : this.completed;
  }

  async rescale(request: RescaleRequest): Promise<RescaleResult> {
    const index = this.requests.length;
    this.requests.push(request);
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.options.delay) await this.options.delay.clock.sleep(this.options.delay.ms);
    const answer = this.options.outcome?.(request, index) ?? 'completed';
    const result: RescaleResult = typeof answer === 'string'
      ? { outcome: answer, parallelism: request.parallelism, detail: `fake: ${answer}`, seconds: (this.options.delay?.ms ?? 0) / 1000 }
      : answer;
    if (result.outcome === 'completed') this.completed = request.parallelism;
    return result;
  }

  /** Every rescale from now on waits until release(). */
  hold(): void {
    this.holding = true;
  }

  /** Lets the held rescales end, and the next ones run through. */
  release(): void {
    this.holding = false;
    for (const wake of this.held.splice(0)) wake();
  }

  /** The parallelisms asked for, in order. */
  get asked(): number[] {
    return this.requests.map((r) => r.parallelism);
  }
}
