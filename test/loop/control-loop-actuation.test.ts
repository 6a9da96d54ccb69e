/**
 * The control loop acting through the actuation gate (leadership, pause, force, rate limits,
 * circuit breaker) with a pipeline that always wants to rescale, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import type { ActuationLimitsConfig } from '../../src/act/actuation-gate.js';
import { BLOCK_REASONS } from '../../src/act/actuation-gate.js';
import type { Actuator, RescaleResult } from '../../src/act/actuator.js';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import { ControlLoop, type LoopEvent } from '../../src/loop/control-loop.js';
import type { DecisionPipeline, PipelineOutcome } from '../../src/loop/decision-pipeline.js';
import { NUMERIC_SIGNAL_KEYS, type SignalSample, type Signals } from '../../src/observe/signals.js';
import type { Decision } from '../../src/planner/decision.js';
import { testSettings } from '../support/controller-settings.js';
import { FakeActuator } from '../support/fake-actuator.js';
import { FakeClock, settle } from '../support/fake-clock.js';

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
function loopRig(options: { limits?: Partial<ActuationLimitsConfig>; leader?: () => boolean; outcome?: () => RescaleResult['outcome']; mode?: Actuator['mode'] } = {}) {
  const clock = new FakeClock(T0 * 1000);
  const actuator = new FakeActuator({ mode: options.mode ?? 'flink-deployment', parallelism: () => 4, outcome: () => options.outcome?.() ?? 'completed' });
  /** The rescale start times the pipeline was handed at its last decision. */
  let seen: readonly number[] = [];
  const pipeline = {
    decide: async (s: Signals, rescaleTimes: readonly number[]): Promise<PipelineOutcome> => {
      seen = [...rescaleTimes];
      return {
        kind: 'decision', decision: decision(s.latest.parallelism, 8), forecastSource: 'test',
        forecast: { stepSeconds: 30, mean: Array(20).fill(5000), upper: Array(20).fill(6000) },
        budget: { violations: 0, allowed: 100, spent: 0, price: 1 }, forecastErrorRatio: null,
      };
    },
    close: async () => undefined,
  } as unknown as DecisionPipeline;
  const events: LoopEvent[] = [];
  const metrics = new PhoebeMetrics({ defaultMetrics: false, leaderElection: options.leader !== undefined, slo: { latencySeconds: 1, latencyObjective: 0.98, recoveryTimeSeconds: 180 }, minParallelism: 1, maxParallelism: 16 });
  // Without limits given, none that a test of 30-second ticks would meet.
  const limits = options.limits ?? { minSecondsBetweenRescales: 0, maxRescalesPerHour: 1000 };
  const loop = new ControlLoop({
    source: { read: async () => signals(clock.now() / 1000, 4) },
    settings: testSettings({ minHistorySeconds: 0, quality: { staleAfterSeconds: 90 }, limits }),
    pipeline, actuator, metrics, log: (e) => events.push(e), clock,
    ...(options.leader ? { leadership: { isLeader: options.leader } } : {}),
  });
  const advance = (seconds: number): Promise<void> => clock.advance(seconds * 1000);
  const metric = async (name: string): Promise<number> => {
    const body = await metrics.registry.metrics();
    const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
    const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(body);
    if (!m) throw new Error(`${name} not in\n${body}`);
    return Number(m[1]);
  };
  return { loop, calls: actuator.requests, actuator, events, rescaleTimes: () => seen, metrics, advance, metric };
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
    const limits = { minSecondsBetweenRescales: 100, maxRescalesPerHour: 3, circuitBreakerFailures: 3 };
    const r = loopRig({ limits });
    const ticks: number[] = [];
    for (let k = 0; k < 24; k++) { // 24 ticks 30 s apart: 12 minutes
      const before = r.calls.length;
      await r.loop.tick();
      if (r.calls.length > before) ticks.push(k);
      await r.advance(30);
    }
    // Rescales at 0 s, then ≥ 100 s after each: 120 s, 240 s; then the hourly maximum holds.
    expect(ticks).toEqual([0, 4, 8]);
    expect(r.rescaleTimes()).toEqual([T0, T0 + 120, T0 + 240]);
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
    const limits = { minSecondsBetweenRescales: 0, maxRescalesPerHour: 100, circuitBreakerFailures: 3 };
    let outcome: RescaleResult['outcome'] = 'failed';
    const r = loopRig({ limits, outcome: () => outcome });
    for (let k = 0; k < 6; k++) {
      await r.loop.tick();
      await r.advance(30);
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
    await r.loop.tick();
    expect(r.calls).toHaveLength(4);
    expect((r.loop.status() as { actuation: { limits: { circuitBreaker: { open: boolean } } } }).actuation.limits.circuitBreaker.open).toBe(false);
  });

  it('a follower decides and exports but never acts; losing the lease during a rescale stops every further one', async () => {
    let leader = false;
    const r = loopRig({ leader: () => leader });
    expect(await r.metric('phoebe_leader')).toBe(0);
    for (let k = 0; k < 3; k++) { await r.loop.tick(); await r.advance(30); }
    expect(r.calls).toEqual([]);
    expect(r.rescaleTimes()).toEqual([]);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="not-leader"}')).toBe(3);
    expect(await r.metric('phoebe_parallelism_recommended')).toBe(8);
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'not-leader' });
    expect(r.calls).toEqual([]);

    leader = true;
    r.actuator.hold();
    const tick = r.loop.tick();
    await settle();
    expect(r.calls).toHaveLength(1);
    // The lease is lost while the rescale is in flight: it ends, and nothing follows it.
    leader = false;
    r.actuator.release();
    await tick;
    for (let k = 0; k < 5; k++) { await r.advance(30); await r.loop.tick(); }
    expect(r.calls).toHaveLength(1);
    // 3 + the held force + 5.
    expect(await r.metric('phoebe_actuation_blocked_total{reason="not-leader"}')).toBe(9);
    const status = r.loop.status() as { actuation: { leader: boolean } };
    expect(status.actuation.leader).toBe(false);
  });

  it('pause holds the plan\'s rescales until resume; force makes one rescale through the same limits, never two at once', async () => {
    const limits = { minSecondsBetweenRescales: 60, maxRescalesPerHour: 100, circuitBreakerFailures: 3 };
    const r = loopRig({ limits });
    expect(r.loop.pause()).toBe(true);
    expect(r.loop.pause()).toBe(false);
    expect(await r.metric('phoebe_actuation_paused')).toBe(1);
    for (let k = 0; k < 3; k++) { await r.loop.tick(); await r.advance(30); }
    expect(r.calls).toEqual([]);
    expect(await r.metric('phoebe_actuation_blocked_total{reason="paused"}')).toBe(3);

    r.actuator.hold();
    expect(r.loop.force(5)).toEqual({ accepted: true });
    expect(r.calls.map((c) => c.parallelism)).toEqual([5]);
    expect(r.calls[0]?.reason).toContain('operator');
    // While it runs, another force is held.
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'in-progress' });
    r.actuator.release();
    await settle();
    expect(r.events.find((e) => e.event === 'rescale')).toMatchObject({ source: 'force', to: 5, outcome: 'completed' });
    // The minimum interval applies to forced rescales as to any other.
    expect(r.loop.force(6)).toMatchObject({ accepted: false, reason: 'min-interval' });
    expect((r.loop.status() as { actuation: { limits: { rescalesLastHour: number } } }).actuation.limits.rescalesLastHour).toBe(1);

    expect(r.loop.resume()).toBe(true);
    expect(await r.metric('phoebe_actuation_paused')).toBe(0);
    await r.advance(60);
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
