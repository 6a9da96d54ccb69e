/**
 * The safety net in front of the actuator: rate limits and circuit breaker on a fake clock over
 * the rescale history, and the gate's order of reasons (test/loop/control-loop-actuation.test.ts
 * drives the control loop through it).
 */
import { describe, expect, it } from 'vitest';
import type { RescaleRequest, RescaleResult } from '../../src/act/actuator.js';
import {
  ActuationGate, ActuationLimits, BLOCK_REASONS, type ActuationLimitsConfig, type Blocked, type BlockReason, type GateLogEvent,
} from '../../src/act/actuation-gate.js';
import { RescaleHistory } from '../../src/act/rescale-history.js';
import { FakeClock } from '../support/fake-clock.js';

const done = (outcome: RescaleResult['outcome'], detail: string = outcome): RescaleResult => ({ outcome, detail, seconds: 1 });

const LIMITS: ActuationLimitsConfig = { minSecondsBetweenRescales: 60, maxRescalesPerHour: 12, circuitBreakerFailures: 3 };

/** Limits on a fake clock starting at 0, with the rescale history they read. */
function limitsRig(config: Partial<ActuationLimitsConfig>) {
  const clock = new FakeClock(0);
  const history = new RescaleHistory();
  const limits = new ActuationLimits({ ...LIMITS, ...config }, clock);
  /** A rescale started at `startedAt` (ms) that ends now with `result`, as the gate records it. */
  const rescale = (result: RescaleResult, startedAt = clock.now()): boolean => {
    history.end(history.begin(startedAt / 1000), clock.now() / 1000, result.outcome);
    return limits.record(result);
  };
  const check = (): Blocked | undefined => limits.check(history.records);
  return { clock, limits, history, rescale, check, status: () => limits.status(history.records) };
}

describe('ActuationLimits (fake clock)', () => {
  it('holds the next rescale for the minimum interval after the previous one ended', async () => {
    const { clock, rescale, check, status } = limitsRig({ minSecondsBetweenRescales: 120, maxRescalesPerHour: 100 });
    expect(check()).toBeUndefined();
    await clock.advanceTo(10_000);
    // Requested at 0, ended at 10 s: the interval counts from the end.
    rescale(done('completed'), 0);
    await clock.advanceTo(129_000);
    expect(check()).toMatchObject({ reason: 'min-interval', detail: expect.stringContaining('minimum 120 s') });
    expect(status().nextAllowedInSeconds).toBe(1);
    await clock.advanceTo(130_000);
    expect(check()).toBeUndefined();
    // A failed rescale counts as well.
    rescale(done('failed', 'savepoint failed'));
    await clock.advance(60_000);
    expect(check()?.reason).toBe('min-interval');
  });

  it('allows at most maxRescalesPerHour starts in any sliding hour', async () => {
    const { clock, rescale, check, status } = limitsRig({ minSecondsBetweenRescales: 0, maxRescalesPerHour: 3 });
    for (const t of [0, 600, 1200]) {
      await clock.advanceTo(t * 1000);
      expect(check()).toBeUndefined();
      rescale(done('completed'));
    }
    await clock.advanceTo(1800_000);
    expect(check()).toMatchObject({ reason: 'max-per-hour', detail: '3 rescales in the last hour (maximum 3)' });
    await clock.advanceTo(3599_000);
    expect(check()?.reason).toBe('max-per-hour');
    // The first start (t = 0) leaves the window at t = 3600 s.
    await clock.advanceTo(3600_000);
    expect(check()).toBeUndefined();
    expect(status().rescalesLastHour).toBe(2);
  });

  it('does not count skipped rescales (nothing was changed)', async () => {
    const { clock, rescale, check, status } = limitsRig({ minSecondsBetweenRescales: 300, maxRescalesPerHour: 1, circuitBreakerFailures: 1 });
    rescale(done('skipped'));
    await clock.advanceTo(1_000);
    expect(check()).toBeUndefined();
    expect(status()).toMatchObject({ rescalesLastHour: 0, circuitBreaker: { open: false, consecutiveFailures: 0 } });
  });

  it('opens the circuit breaker after N consecutive failures, until reset; a success in between restarts the count', async () => {
    const { clock, limits, rescale, check, status } = limitsRig({ minSecondsBetweenRescales: 0, maxRescalesPerHour: 100, circuitBreakerFailures: 3 });
    expect(rescale(done('failed'))).toBe(false);
    expect(rescale(done('failed'))).toBe(false);
    expect(rescale(done('completed'))).toBe(false);
    expect(rescale(done('failed'))).toBe(false);
    expect(rescale(done('failed'))).toBe(false);
    expect(check()).toBeUndefined();
    await clock.advanceTo(5_000);
    expect(rescale(done('failed', 'stop-with-savepoint: HTTP 500\nstack'))).toBe(true);
    expect(limits.circuitOpen).toBe(true);
    expect(check()).toMatchObject({ reason: 'circuit-open', detail: expect.stringContaining('3 consecutive failed rescales (last: stop-with-savepoint: HTTP 500)') });
    // It stays open however long nothing happens.
    await clock.advance(30 * 86_400_000);
    expect(check()?.reason).toBe('circuit-open');
    expect(status().circuitBreaker).toEqual({ open: true, consecutiveFailures: 3, openedAt: new Date(5_000).toISOString(), lastFailure: 'stop-with-savepoint: HTTP 500' });
    expect(limits.resetCircuitBreaker()).toBe(true);
    expect(check()).toBeUndefined();
    expect(limits.resetCircuitBreaker()).toBe(false);
    // After a reset it takes N new consecutive failures to open again.
    expect(rescale(done('failed'))).toBe(false);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new ActuationLimits({ ...LIMITS, maxRescalesPerHour: 0 })).toThrow();
    expect(() => new ActuationLimits({ ...LIMITS, circuitBreakerFailures: 0 })).toThrow();
    expect(() => new ActuationLimits({ ...LIMITS, minSecondsBetweenRescales: -1 })).toThrow();
  });
});

describe('ActuationGate', () => {
  function gate(options: { leader?: () => boolean; limits?: Partial<ActuationLimitsConfig>; clock?: FakeClock } = {}) {
    const blocked: BlockReason[] = [];
    const state = { open: false, paused: false };
    const events: GateLogEvent[] = [];
    const clock = options.clock ?? new FakeClock(0);
    const g = new ActuationGate({
      clock,
      ...(options.limits ? { limits: new ActuationLimits({ ...LIMITS, ...options.limits }, clock) } : {}),
      ...(options.leader ? { leadership: { isLeader: options.leader } } : {}),
      metrics: { recordActuationBlocked: (r) => blocked.push(r), setCircuitBreakerOpen: (o) => { state.open = o; }, setActuationPaused: (p) => { state.paused = p; } },
      log: (e) => events.push(e),
    });
    return { g, blocked, state, events };
  }
  const request: RescaleRequest = { parallelism: 6, reason: 'test' };

  it('checks leadership, then pause, then single flight, then the limits', async () => {
    let leader = false;
    const clock = new FakeClock(0);
    const { g, blocked, events } = gate({ leader: () => leader, limits: { minSecondsBetweenRescales: 60, maxRescalesPerHour: 10, circuitBreakerFailures: 1 }, clock });
    const calls: number[] = [];
    const act = async (r: RescaleRequest): Promise<RescaleResult> => { calls.push(r.parallelism); return done('completed'); };

    expect(await g.run(request, 'decision', act)).toMatchObject({ kind: 'blocked', blocked: { reason: 'not-leader' } });
    g.pause();
    expect(g.check('decision')?.reason).toBe('not-leader');
    leader = true;
    expect(await g.run(request, 'decision', act)).toMatchObject({ kind: 'blocked', blocked: { reason: 'paused' } });
    // An operator's forced rescale is not held by the pause.
    expect(await g.run(request, 'force', act)).toMatchObject({ kind: 'done', result: { outcome: 'completed' } });
    expect(await g.run(request, 'force', act)).toMatchObject({ kind: 'blocked', blocked: { reason: 'min-interval' } });
    g.resume();
    await clock.advanceTo(60_000);
    expect(await g.run(request, 'decision', act)).toMatchObject({ kind: 'done' });
    expect(calls).toEqual([6, 6]);
    expect(blocked).toEqual(['not-leader', 'paused', 'min-interval']);
    expect(events.filter((e) => e.event === 'blocked').map((e) => (e as { source: string }).source)).toEqual(['decision', 'decision', 'force']);
    expect(g.status()).toMatchObject({ paused: false, leader: true, lastBlocked: { reason: 'min-interval', to: 6, source: 'force' } });
  });

  it('never runs two rescales at once', async () => {
    const { g, blocked } = gate();
    let finish: (r: RescaleResult) => void = () => undefined;
    const slow = (): Promise<RescaleResult> => new Promise((resolve) => { finish = resolve; });
    const first = g.run(request, 'decision', slow);
    expect(g.status().inProgress).toBe(true);
    expect(await g.run(request, 'force', async () => done('completed'))).toMatchObject({ kind: 'blocked', blocked: { reason: 'in-progress' } });
    finish(done('completed'));
    expect(await first).toMatchObject({ kind: 'done' });
    expect(g.status().inProgress).toBe(false);
    expect(blocked).toEqual(['in-progress']);
  });

  it('reports the circuit breaker opening and an operator\'s reset', async () => {
    const { g, state, events } = gate({ limits: { minSecondsBetweenRescales: 0, maxRescalesPerHour: 10, circuitBreakerFailures: 2 } });
    const fail = async (): Promise<RescaleResult> => done('failed', 'jar run: HTTP 500');
    await g.run(request, 'decision', fail);
    expect(state.open).toBe(false);
    await g.run(request, 'decision', fail);
    expect(state.open).toBe(true);
    expect(events).toContainEqual({ event: 'circuit-breaker', state: 'open', detail: expect.stringContaining('2 consecutive failed rescales') });
    expect(await g.run(request, 'force', fail)).toMatchObject({ kind: 'blocked', blocked: { reason: 'circuit-open' } });
    expect(g.resetCircuitBreaker()).toBe(true);
    expect(state.open).toBe(false);
    expect(g.check('decision')).toBeUndefined();
  });
});
