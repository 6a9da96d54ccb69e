/**
 * The last safety net before the actuator is called. The planner already holds scale-downs for its
 * own dwell time and hourly limit inside the plan; these limits are independent of any plan and
 * apply to every rescale — scale-ups, scale-downs, and operator-forced ones — so that a planning
 * bug, flapping signals or a broken target cannot make phoebe rescale a job over and over:
 *
 * - a minimum interval between the end of one rescale and the start of the next;
 * - a maximum number of rescales started in any sliding hour;
 * - a circuit breaker: after N consecutive failed rescales phoebe stops acting (recommend-only)
 *   until an operator resets it (POST /api/v1/admin/reset-circuit-breaker) or phoebe restarts.
 *
 * The gate in front of the actuator adds the other reasons not to act now: this instance is not
 * the leader, an operator paused actuation, or a rescale is already in progress. Every refusal is
 * counted by reason (phoebe_actuation_blocked_total) and logged; nothing here is ever bypassed.
 */
import { systemClock, type Clock } from '../util/clock.js';
import type { RescaleRequest, RescaleResult } from './actuator.js';
import { madeRescales, RescaleHistory, type RescaleRecord } from './rescale-history.js';

/** The defaults are the configuration's (src/config/phoebe-config.ts, actuation.limits). */
export interface ActuationLimitsConfig {
  /** After a rescale ended (completed or failed), wait at least this long before the next, s. */
  minSecondsBetweenRescales: number;
  /** At most this many rescales started in any 3600 s. */
  maxRescalesPerHour: number;
  /** Open the circuit breaker after this many consecutive failed rescales. */
  circuitBreakerFailures: number;
}

/** Why an actuation was not made. */
export type BlockReason = 'not-leader' | 'paused' | 'circuit-open' | 'min-interval' | 'max-per-hour' | 'in-progress';
export const BLOCK_REASONS: readonly BlockReason[] = ['not-leader', 'paused', 'circuit-open', 'min-interval', 'max-per-hour', 'in-progress'];

export interface Blocked {
  reason: BlockReason;
  /** One line for logs and the status document. */
  detail: string;
}

export interface ActuationLimitsStatus {
  limits: ActuationLimitsConfig;
  rescalesLastHour: number;
  /** Seconds until the minimum interval allows the next rescale (0: allowed). */
  nextAllowedInSeconds: number;
  circuitBreaker: { open: boolean; consecutiveFailures: number; openedAt: string | null; lastFailure: string | null };
}

/**
 * Rate limits over phoebe's rescales (read from the one rescale history; skipped ones changed
 * nothing and do not count) and the circuit breaker over their outcomes.
 */
export class ActuationLimits {
  private consecutiveFailures = 0;
  private openedAt: number | undefined;
  private lastFailure: string | undefined;

  constructor(
    readonly config: ActuationLimitsConfig,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(config.minSecondsBetweenRescales >= 0)) throw new Error('minSecondsBetweenRescales must be ≥ 0');
    if (!(config.maxRescalesPerHour >= 1)) throw new Error('maxRescalesPerHour must be ≥ 1');
    if (!(config.circuitBreakerFailures >= 1)) throw new Error('circuitBreakerFailures must be ≥ 1');
  }

  get circuitOpen(): boolean {
    return this.openedAt !== undefined;
  }

  /** Whether a rescale may start now, given phoebe's rescales so far; the first reason that holds it otherwise. */
  check(rescales: readonly RescaleRecord[]): Blocked | undefined {
    if (this.openedAt !== undefined) {
      return {
        reason: 'circuit-open',
        detail: `circuit breaker open after ${this.consecutiveFailures} consecutive failed rescales (last: ${this.lastFailure ?? 'unknown'}); recommend-only until reset`,
      };
    }
    const now = this.clock.now() / 1000;
    const lastEnded = lastEnd(rescales);
    if (lastEnded + this.config.minSecondsBetweenRescales > now) {
      return { reason: 'min-interval', detail: `last rescale ended ${Math.round(now - lastEnded)} s ago (minimum ${this.config.minSecondsBetweenRescales} s)` };
    }
    const inHour = startsInLastHour(rescales, now);
    if (inHour >= this.config.maxRescalesPerHour) {
      return { reason: 'max-per-hour', detail: `${inHour} rescales in the last hour (maximum ${this.config.maxRescalesPerHour})` };
    }
    return undefined;
  }

  /** Counts a rescale's outcome for the circuit breaker; true when this failure opened it. */
  record(result: RescaleResult): boolean {
    if (result.outcome === 'skipped') return false;
    if (result.outcome === 'completed') {
      this.consecutiveFailures = 0;
      return false;
    }
    this.consecutiveFailures++;
    this.lastFailure = result.detail.split('\n')[0]?.slice(0, 200) ?? '';
    if (this.openedAt === undefined && this.consecutiveFailures >= this.config.circuitBreakerFailures) {
      this.openedAt = this.clock.now();
      return true;
    }
    return false;
  }

  /** Closes the circuit breaker (an operator's reset); true when it was open. */
  resetCircuitBreaker(): boolean {
    const wasOpen = this.openedAt !== undefined;
    this.openedAt = undefined;
    this.consecutiveFailures = 0;
    this.lastFailure = undefined;
    return wasOpen;
  }

  status(rescales: readonly RescaleRecord[]): ActuationLimitsStatus {
    const now = this.clock.now() / 1000;
    return {
      limits: { ...this.config },
      rescalesLastHour: startsInLastHour(rescales, now),
      nextAllowedInSeconds: Math.max(0, Math.ceil(lastEnd(rescales) + this.config.minSecondsBetweenRescales - now)),
      circuitBreaker: {
        open: this.openedAt !== undefined,
        consecutiveFailures: this.consecutiveFailures,
        openedAt: this.openedAt === undefined ? null : new Date(this.openedAt).toISOString(),
        lastFailure: this.lastFailure ?? null,
      },
    };
  }
}

/** When the newest finished rescale that changed something ended (unix s); −∞ if none did. */
function lastEnd(rescales: readonly RescaleRecord[]): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const r of madeRescales(rescales)) if (Number.isFinite(r.end)) last = Math.max(last, r.end);
  return last;
}

function startsInLastHour(rescales: readonly RescaleRecord[], now: number): number {
  return madeRescales(rescales).filter((r) => r.start > now - 3600).length;
}

/** Leadership as the gate needs it (LeaderLease implements it). */
export interface Leadership {
  isLeader(): boolean;
  /** Details for /api/v1/status. */
  status?(): unknown;
}

/** Where the gate reports (PhoebeMetrics implements it). */
export interface GateMetrics {
  recordActuationBlocked(reason: BlockReason): void;
  setCircuitBreakerOpen(open: boolean): void;
  setActuationPaused(paused: boolean): void;
}

export type GateLogEvent =
  | { event: 'blocked'; reason: BlockReason; detail: string; to: number; source: ActuationSource }
  | { event: 'circuit-breaker'; state: 'open' | 'reset'; detail: string };

/** Who asked for the rescale: the plan, or an operator through the admin API. */
export type ActuationSource = 'decision' | 'force';

export interface ActuationGateOptions {
  /** Without: no rate limits and no circuit breaker (tests of other stages). */
  limits?: ActuationLimits;
  /** Without: this instance is the only one and always may act. */
  leadership?: Leadership;
  metrics?: GateMetrics;
  log?: (event: GateLogEvent) => void;
  /** Default: the system clock. */
  clock?: Clock;
}

/** A rescale the gate let through: the caller makes it and hands the result to finish(). */
export interface Admitted {
  kind: 'admitted';
  request: RescaleRequest;
  source: ActuationSource;
  record: RescaleRecord;
}

export type Admission = Admitted | { kind: 'blocked'; blocked: Blocked };

export type GateOutcome = { kind: 'blocked'; blocked: Blocked } | { kind: 'done'; result: RescaleResult };

export interface ActuationGateStatus {
  paused: boolean;
  inProgress: boolean;
  leader: boolean;
  leaderElection: unknown;
  lastBlocked: (Blocked & { at: string; to: number; source: ActuationSource }) | null;
  limits: ActuationLimitsStatus | null;
}

/**
 * Everything between "the plan (or an operator) wants parallelism p" and the actuator's call:
 * leadership, pause, single flight, rate limits, circuit breaker — checked in that order right
 * before the call, and the outcome recorded afterwards. Every rescale starts and ends here, so
 * this is where phoebe's one rescale history is written.
 */
export class ActuationGate {
  readonly history = new RescaleHistory();
  private paused = false;
  private inFlight: RescaleRecord | undefined;
  private lastBlocked: ActuationGateStatus['lastBlocked'] = null;
  private readonly clock: Clock;

  constructor(private readonly options: ActuationGateOptions = {}) {
    this.clock = options.clock ?? systemClock;
    options.metrics?.setActuationPaused(false);
    options.metrics?.setCircuitBreakerOpen(false);
  }

  /** The first reason not to act now, if any (a forced rescale is not held by a pause). */
  check(source: ActuationSource): Blocked | undefined {
    const { leadership, limits } = this.options;
    if (leadership && !leadership.isLeader()) return { reason: 'not-leader', detail: 'this instance does not hold the leader lease; recommend-only' };
    if (this.paused && source === 'decision') return { reason: 'paused', detail: 'actuation paused by an operator; recommend-only until resumed' };
    if (this.inFlight) return { reason: 'in-progress', detail: 'another rescale is still in progress' };
    return limits?.check(this.history.records);
  }

  /**
   * Lets the rescale through and records its start, or counts and logs why not. An admitted
   * rescale must be finished (finish()) before the next is admitted: never two at once.
   */
  admit(request: RescaleRequest, source: ActuationSource): Admission {
    const blocked = this.check(source);
    if (blocked) {
      this.options.metrics?.recordActuationBlocked(blocked.reason);
      this.lastBlocked = { ...blocked, at: new Date(this.clock.now()).toISOString(), to: request.parallelism, source };
      this.options.log?.({ event: 'blocked', ...blocked, to: request.parallelism, source });
      return { kind: 'blocked', blocked };
    }
    this.inFlight = this.history.begin(this.clock.now() / 1000);
    return { kind: 'admitted', request, source, record: this.inFlight };
  }

  /** Records how an admitted rescale ended (the rate limits count from now; the breaker counts failures). */
  finish(admitted: Admitted, result: RescaleResult): void {
    this.history.end(admitted.record, this.clock.now() / 1000, result.outcome);
    if (this.inFlight === admitted.record) this.inFlight = undefined;
    const limits = this.options.limits;
    if (limits?.record(result)) {
      this.options.metrics?.setCircuitBreakerOpen(true);
      this.options.log?.({ event: 'circuit-breaker', state: 'open', detail: limits.check(this.history.records)?.detail ?? 'open' });
    }
  }

  /** admit(), `act`, finish(): never rejects unless `act` does (then the rescale counts as failed). */
  async run(request: RescaleRequest, source: ActuationSource, act: (request: RescaleRequest) => Promise<RescaleResult>): Promise<GateOutcome> {
    const admission = this.admit(request, source);
    if (admission.kind === 'blocked') return admission;
    let result: RescaleResult = { outcome: 'failed', detail: 'the actuator threw', seconds: 0 };
    try {
      result = await act(request);
    } finally {
      this.finish(admission, result);
    }
    return { kind: 'done', result };
  }

  /** Recommend-only until resume() (the admin API logs who asked); true when it was not paused. */
  pause(): boolean {
    const changed = !this.paused;
    this.paused = true;
    this.options.metrics?.setActuationPaused(true);
    return changed;
  }

  /** True when it was paused. */
  resume(): boolean {
    const changed = this.paused;
    this.paused = false;
    this.options.metrics?.setActuationPaused(false);
    return changed;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** An operator's reset of the circuit breaker; true when it was open. */
  resetCircuitBreaker(): boolean {
    const wasOpen = this.options.limits?.resetCircuitBreaker() ?? false;
    this.options.metrics?.setCircuitBreakerOpen(false);
    this.options.log?.({ event: 'circuit-breaker', state: 'reset', detail: wasOpen ? 'reset by an operator: acting again' : 'reset requested; it was closed' });
    return wasOpen;
  }

  status(): ActuationGateStatus {
    const { leadership, limits } = this.options;
    return {
      paused: this.paused,
      inProgress: this.inFlight !== undefined,
      leader: leadership ? leadership.isLeader() : true,
      leaderElection: leadership?.status?.() ?? { enabled: false },
      lastBlocked: this.lastBlocked,
      limits: limits?.status(this.history.records) ?? null,
    };
  }
}
