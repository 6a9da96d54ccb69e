/**
 * The safety net in front of the actuator: rate limits and circuit breaker on a fake clock, the
 * gate's order of reasons, and the control loop acting through it (leadership, pause, force,
 * limits, breaker) with a pipeline that always wants to rescale.
 */
import { describe, expect, it } from 'vitest';
import type { Actuator, RescaleRequest, RescaleResult } from '../../src/act/actuator.js';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import {
  ActuationGate, ActuationLimits, BLOCK_REASONS, DEFAULT_ACTUATION_LIMITS, type BlockReason, type GateLogEvent,
} from '../../src/act/actuation-gate.js';
import { ControlLoop, type LoopEvent } from '../../src/loop/control-loop.js';
import type { DecisionPipeline, PipelineOutcome } from '../../src/loop/decision-pipeline.js';
import { NUMERIC_SIGNAL_KEYS, type SignalSample, type Signals } from '../../src/observe/signals.js';
import type { Decision } from '../../src/planner/decision.js';

const done = (outcome: RescaleResult['outcome'], detail: string = outcome): RescaleResult => ({ outcome, detail, seconds: 1 });

describe('ActuationLimits (fake clock)', () => {
  it('holds the next rescale for the minimum interval after the previous one ended', () => {
    let now = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 120, maxRescalesPerHour: 100, circuitBreakerFailures: 3 }, () => now);
    expect(limits.check()).toBeUndefined();
    now = 10_000;
    // Requested at 0, ended at 10 s: the interval counts from the end.
    limits.record(done('completed'), 0);
    now = 129_000;
    expect(limits.check()).toMatchObject({ reason: 'min-interval', detail: expect.stringContaining('minimum 120 s') });
    expect(limits.status().nextAllowedInSeconds).toBe(1);
    now = 130_000;
    expect(limits.check()).toBeUndefined();
    // A failed rescale counts as well.
    limits.record(done('failed', 'savepoint failed'), now);
    now += 60_000;
    expect(limits.check()?.reason).toBe('min-interval');
  });

  it('allows at most maxRescalesPerHour starts in any sliding hour', () => {
    let now = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 0, maxRescalesPerHour: 3, circuitBreakerFailures: 3 }, () => now);
    for (const t of [0, 600, 1200]) {
      now = t * 1000;
      expect(limits.check()).toBeUndefined();
      limits.record(done('completed'), now);
    }
    now = 1800_000;
    expect(limits.check()).toMatchObject({ reason: 'max-per-hour', detail: '3 rescales in the last hour (maximum 3)' });
    now = 3599_000;
    expect(limits.check()?.reason).toBe('max-per-hour');
    // The first start (t = 0) leaves the window at t = 3600 s.
    now = 3600_000;
    expect(limits.check()).toBeUndefined();
    expect(limits.status().rescalesLastHour).toBe(2);
  });

  it('does not count skipped rescales (nothing was changed)', () => {
    let now = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 300, maxRescalesPerHour: 1, circuitBreakerFailures: 1 }, () => now);
    limits.record(done('skipped'), now);
    now = 1_000;
    expect(limits.check()).toBeUndefined();
    expect(limits.status()).toMatchObject({ rescalesLastHour: 0, circuitBreaker: { open: false, consecutiveFailures: 0 } });
  });

  it('opens the circuit breaker after N consecutive failures, until reset; a success in between restarts the count', () => {
    let now = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 0, maxRescalesPerHour: 100, circuitBreakerFailures: 3 }, () => now);
    expect(limits.record(done('failed'), now)).toBe(false);
    expect(limits.record(done('failed'), now)).toBe(false);
    expect(limits.record(done('completed'), now)).toBe(false);
    expect(limits.record(done('failed'), now)).toBe(false);
    expect(limits.record(done('failed'), now)).toBe(false);
    expect(limits.check()).toBeUndefined();
    now = 5_000;
    expect(limits.record(done('failed', 'stop-with-savepoint: HTTP 500\nstack'), now)).toBe(true);
    expect(limits.circuitOpen).toBe(true);
    expect(limits.check()).toMatchObject({ reason: 'circuit-open', detail: expect.stringContaining('3 consecutive failed rescales (last: stop-with-savepoint: HTTP 500)') });
    // It stays open however long nothing happens.
    now += 30 * 86_400_000;
    expect(limits.check()?.reason).toBe('circuit-open');
    expect(limits.status().circuitBreaker).toEqual({ open: true, consecutiveFailures: 3, openedAt: new Date(5_000).toISOString(), lastFailure: 'stop-with-savepoint: HTTP 500' });
    expect(limits.resetCircuitBreaker()).toBe(true);
    expect(limits.check()).toBeUndefined();
    expect(limits.resetCircuitBreaker()).toBe(false);
    // After a reset it takes N new consecutive failures to open again.
    expect(limits.record(done('failed'), now)).toBe(false);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new ActuationLimits({ ...DEFAULT_ACTUATION_LIMITS, maxRescalesPerHour: 0 })).toThrow();
    expect(() => new ActuationLimits({ ...DEFAULT_ACTUATION_LIMITS, circuitBreakerFailures: 0 })).toThrow();
    expect(() => new ActuationLimits({ ...DEFAULT_ACTUATION_LIMITS, minSecondsBetweenRescales: -1 })).toThrow();
  });
});

describe('ActuationGate', () => {
  function gate(options: { leader?: () => boolean; limits?: ActuationLimits } = {}) {
    const blocked: BlockReason[] = [];
    const state = { open: false, paused: false };
    const events: GateLogEvent[] = [];
    const g = new ActuationGate({
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.leader ? { leadership: { isLeader: options.leader } } : {}),
      metrics: { recordActuationBlocked: (r) => blocked.push(r), setCircuitBreakerOpen: (o) => { state.open = o; }, setActuationPaused: (p) => { state.paused = p; } },
      log: (e) => events.push(e),
    });
    return { g, blocked, state, events };
  }
  const request: RescaleRequest = { parallelism: 6, reason: 'test' };

  it('checks leadership, then pause, then single flight, then the limits', async () => {
    let leader = false;
    let now = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 60, maxRescalesPerHour: 10, circuitBreakerFailures: 1 }, () => now);
    const { g, blocked, events } = gate({ leader: () => leader, limits });
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
    now = 60_000;
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
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 0, maxRescalesPerHour: 10, circuitBreakerFailures: 2 });
    const { g, state, events } = gate({ limits });
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

// --- The control loop with the gate -----------------------------------------------------------

const T0 = 1_700_000_000;

/** Signals of a job running steadily at `parallelism` up to time t (s). */
function signals(t: number, parallelism: number): Signals {
  const n = 600;
  const sample: SignalSample = {
    t, arrivalRate: 5000, throughput: 5000, lag: 100, busyTimeMsPerSecond: 900, backPressuredTimeMsPerSecond: 0, latencySeconds: 0.8,
    parallelism, checkpointAgeSeconds: 5, status: 'RUNNING', numRestarts: 0,
  } as SignalSample;
  const columns: Record<string, Float64Array> = {};
  for (const key of NUMERIC_SIGNAL_KEYS) columns[key] = new Float64Array(n).fill(Number(sample[key]));
  columns.t = Float64Array.from({ length: n }, (_, i) => t - n + 1 + i);
  return { latest: sample, history: { ...columns, status: new Float64Array(n), length: n } } as unknown as Signals;
}

function decision(current: number, target: number): Decision {
  return {
    action: target > current ? 'scale-up' : target < current ? 'scale-down' : 'hold', currentParallelism: current, recommendedParallelism: target, reason: `to ${target}`,
    inputs: { time: 0, arrivalRate: 5000, lag: 100, forecastStepSeconds: 30, forecastPeakUpper: 6000, restartDowntimeSeconds: 30, rescaleDowntimeSeconds: 10, capacityModel: 'linear', violationPrice: 1 },
    candidates: [], requiredPerStep: [target], schedule: [target],
  };
}

/** A loop whose plan always wants parallelism 8 while the job runs at 4; the test controls the actuator's outcome. */
function loopRig(options: { limits?: ActuationLimits; leader?: () => boolean; outcome?: () => RescaleResult['outcome']; mode?: Actuator['mode'] } = {}) {
  let nowMs = T0 * 1000;
  const calls: RescaleRequest[] = [];
  const recorded: number[] = [];
  let gateOpen: ((r: RescaleResult) => void) | undefined;
  let holdNext = false;
  const actuator: Actuator = {
    mode: options.mode ?? 'flink-deployment',
    currentParallelism: async () => 4,
    rescale: async (request) => {
      calls.push(request);
      const result = done(options.outcome?.() ?? 'completed');
      if (holdNext) return new Promise((resolve) => { gateOpen = () => resolve(result); });
      return result;
    },
  };
  const pipeline = {
    decide: async (s: Signals): Promise<PipelineOutcome> => ({
      kind: 'decision', decision: decision(s.latest.parallelism, 8), forecastSource: 'test',
      forecast: { stepSeconds: 30, mean: Array(20).fill(5000), upper: Array(20).fill(6000) },
      budget: { violations: 0, allowed: 100, spent: 0, price: 1 }, forecastErrorRatio: null,
    }),
    recordRescale: (t: number) => recorded.push(t),
    close: async () => undefined,
  } as unknown as DecisionPipeline;
  const events: LoopEvent[] = [];
  const metrics = new PhoebeMetrics({ defaultMetrics: false, leaderElection: options.leader !== undefined, slo: { latencySeconds: 1, latencyObjective: 0.98, recoveryTimeSeconds: 180 }, minParallelism: 1, maxParallelism: 16 });
  const loop = new ControlLoop({
    source: { read: async () => signals(nowMs / 1000, 4) },
    pipeline, actuator, metrics, intervalSeconds: 30, staleAfterSeconds: 90, log: (e) => events.push(e), now: () => nowMs,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.leader ? { leadership: { isLeader: options.leader } } : {}),
  });
  const advance = (seconds: number): void => { nowMs += seconds * 1000; };
  const metric = async (name: string): Promise<number> => {
    const body = await metrics.registry.metrics();
    const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
    const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(body);
    if (!m) throw new Error(`${name} not in\n${body}`);
    return Number(m[1]);
  };
  return {
    loop, calls, events, recorded, metrics, advance, metric, now: () => nowMs,
    holdNextRescale: () => { holdNext = true; },
    finishRescale: () => { holdNext = false; gateOpen?.(done('completed')); },
  };
}

describe('ControlLoop with actuation limits, leadership and admin controls', () => {
  it('every blocked reason is exported from the start, and the breaker and pause gauges are 0', async () => {
    const r = loopRig();
    for (const reason of BLOCK_REASONS) expect(await r.metric(`phoebe_actuation_blocked_total{reason="${reason}"}`)).toBe(0);
    expect(await r.metric('phoebe_circuit_breaker_open')).toBe(0);
    expect(await r.metric('phoebe_actuation_paused')).toBe(0);
    expect(await r.metric('phoebe_leader')).toBe(1);
  });

  it('holds the plan\'s rescales for the minimum interval and the hourly maximum, and tells the pipeline only of rescales made', async () => {
    let nowRef = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 100, maxRescalesPerHour: 3, circuitBreakerFailures: 3 }, () => nowRef);
    const r = loopRig({ limits });
    const ticks: number[] = [];
    for (let k = 0; k < 24; k++) { // 24 ticks 30 s apart: 12 minutes
      nowRef = r.now();
      const before = r.calls.length;
      await r.loop.tick();
      if (r.calls.length > before) ticks.push(k);
      r.advance(30);
    }
    // Rescales at 0 s, then ≥ 100 s after each: 120 s, 240 s; then the hourly maximum holds.
    expect(ticks).toEqual([0, 4, 8]);
    expect(r.recorded).toEqual([T0, T0 + 120, T0 + 240]);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="min-interval"}')).toBe(9);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="max-per-hour"}')).toBe(12);
    expect(await r.metric('phoebe_rescales_total{result="completed"}')).toBe(3);
    // Decisions go on and are exported while held.
    expect(await r.metric('phoebe_parallelism_recommended')).toBe(8);
    const status = r.loop.status() as { lastDecision: { blocked?: { reason: string }; rescale?: unknown }; actuation: { limits: { rescalesLastHour: number } } };
    expect(status.lastDecision.blocked?.reason).toBe('max-per-hour');
    expect(status.lastDecision.rescale).toBeUndefined();
    expect(status.actuation.limits.rescalesLastHour).toBe(3);
    expect(r.events.filter((e) => e.event === 'blocked').at(-1)).toMatchObject({ reason: 'max-per-hour', to: 8, source: 'decision' });
  });

  it('opens the circuit breaker after N consecutive failed rescales: recommend-only until reset', async () => {
    let nowRef = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 0, maxRescalesPerHour: 100, circuitBreakerFailures: 3 }, () => nowRef);
    let outcome: RescaleResult['outcome'] = 'failed';
    const r = loopRig({ limits, outcome: () => outcome });
    for (let k = 0; k < 6; k++) {
      nowRef = r.now();
      await r.loop.tick();
      r.advance(30);
    }
    expect(r.calls).toHaveLength(3);
    expect(await r.metric('phoebe_circuit_breaker_open')).toBe(1);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="circuit-open"}')).toBe(3);
    expect(await r.metric('phoebe_rescales_total{result="failed"}')).toBe(3);
    expect(r.events.find((e) => e.event === 'circuit-breaker')).toMatchObject({ state: 'open' });
    // A forced rescale is held too.
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'circuit-open' });
    expect(r.loop.resetCircuitBreaker()).toBe(true);
    expect(await r.metric('phoebe_circuit_breaker_open')).toBe(0);
    outcome = 'completed';
    nowRef = r.now();
    await r.loop.tick();
    expect(r.calls).toHaveLength(4);
    expect((r.loop.status() as { actuation: { limits: { circuitBreaker: { open: boolean } } } }).actuation.limits.circuitBreaker.open).toBe(false);
  });

  it('a follower decides and exports but never acts; losing the lease during a rescale stops every further one', async () => {
    let leader = false;
    const r = loopRig({ leader: () => leader });
    expect(await r.metric('phoebe_leader')).toBe(0);
    for (let k = 0; k < 3; k++) { await r.loop.tick(); r.advance(30); }
    expect(r.calls).toEqual([]);
    expect(r.recorded).toEqual([]);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="not-leader"}')).toBe(3);
    expect(await r.metric('phoebe_parallelism_recommended')).toBe(8);
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'not-leader' });
    expect(r.calls).toEqual([]);

    leader = true;
    r.holdNextRescale();
    const tick = r.loop.tick();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.calls).toHaveLength(1);
    // The lease is lost while the rescale is in flight: it ends, and nothing follows it.
    leader = false;
    r.finishRescale();
    await tick;
    for (let k = 0; k < 5; k++) { r.advance(30); await r.loop.tick(); }
    expect(r.calls).toHaveLength(1);
    // 3 + the held force + 5.
    expect(await r.metric('phoebe_actuation_blocked_total{reason="not-leader"}')).toBe(9);
    const status = r.loop.status() as { actuation: { leader: boolean } };
    expect(status.actuation.leader).toBe(false);
  });

  it('pause holds the plan\'s rescales until resume; force makes one rescale through the same limits, never two at once', async () => {
    let nowRef = 0;
    const limits = new ActuationLimits({ minSecondsBetweenRescales: 60, maxRescalesPerHour: 100, circuitBreakerFailures: 3 }, () => nowRef);
    const r = loopRig({ limits });
    expect(r.loop.pause()).toBe(true);
    expect(r.loop.pause()).toBe(false);
    expect(await r.metric('phoebe_actuation_paused')).toBe(1);
    for (let k = 0; k < 3; k++) { nowRef = r.now(); await r.loop.tick(); r.advance(30); }
    expect(r.calls).toEqual([]);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="paused"}')).toBe(3);

    nowRef = r.now();
    r.holdNextRescale();
    expect(r.loop.force(5)).toEqual({ accepted: true });
    expect(r.calls.map((c) => c.parallelism)).toEqual([5]);
    expect(r.calls[0]?.reason).toContain('operator');
    // While it runs, another force is held.
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'in-progress' });
    r.finishRescale();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.events.find((e) => e.event === 'rescale')).toMatchObject({ source: 'force', to: 5, outcome: 'completed' });
    // The minimum interval applies to forced rescales as to any other.
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'min-interval' });
    expect(r.recorded).toHaveLength(1);

    expect(r.loop.resume()).toBe(true);
    expect(await r.metric('phoebe_actuation_paused')).toBe(0);
    r.advance(60);
    nowRef = r.now();
    await r.loop.tick();
    expect(r.calls.map((c) => c.parallelism)).toEqual([5, 8]);
    await r.loop.stop();
  });

  it('in recommend mode a forced rescale is refused, and nothing is counted as blocked', async () => {
    const r = loopRig({ mode: 'recommend' });
    await r.loop.tick();
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'recommend-mode' });
    expect(r.calls).toEqual([]);
    for (const reason of BLOCK_REASONS) expect(await r.metric(`phoebe_actuation_blocked_total{reason="${reason}"}`)).toBe(0);
  });
});
