/**
 * The controller step on its own: plain Signals in, what to do out, on a fake clock. The
 * pipeline is a stub that records what it was handed and always wants parallelism 8.
 */
import { describe, expect, it } from 'vitest';
import type { RescaleResult } from '../../src/act/actuator.js';
import { Controller, type Step } from '../../src/loop/controller.js';
import type { DecisionPipeline, PipelineOutcome } from '../../src/loop/decision-pipeline.js';
import { toSignals } from '../../src/observe/prometheus-convert.js';
import type { Signals } from '../../src/observe/signals.js';
import { history } from '../support/twin-history.js';
import { testSettings } from '../support/controller-settings.js';
import { FakeClock } from '../support/fake-clock.js';

const T0 = 1_700_000_000;

/** 600 s of a job steady at p = 4, the newest sample `lag` seconds before `now`. */
function steady(now: number, lag = 0, restartAt?: number): Signals {
  const n = 600;
  const end = now - lag;
  return toSignals(history(n, {
    t: (i) => end - n + 1 + i, arrivalRate: () => 3000, throughput: () => 3000, lag: () => 100, busyTimeMsPerSecond: () => 700,
    parallelism: () => 4, latencySeconds: () => 0.3,
    ...(restartAt !== undefined ? { numRestarts: (i: number) => (end - n + 1 + i >= restartAt ? 1 : 0) } : {}),
  }));
}

function rig(options: { recommendOnly?: boolean; minHistorySeconds?: number } = {}) {
  const clock = new FakeClock(T0 * 1000);
  const handed: { rescaleTimes: number[]; now: number }[] = [];
  const pipeline = {
    async decide(signals: Signals, rescaleTimes: readonly number[], now: number): Promise<PipelineOutcome> {
      handed.push({ rescaleTimes: [...rescaleTimes], now });
      const p = signals.latest.parallelism;
      return {
        kind: 'decision', forecastSource: 'test', forecastErrorRatio: null,
        forecast: { stepSeconds: 30, mean: [3000], upper: [3300] }, budget: { violations: 0, allowed: 0, spent: 0, price: 1 },
        decision: {
          action: 'scale-up', currentParallelism: p, recommendedParallelism: 8, reason: 'test: 8',
          inputs: { time: now, arrivalRate: 3000, lag: 100, forecastStepSeconds: 30, forecastPeakUpper: 3300, restartDowntimeSeconds: 30, rescaleDowntimeSeconds: 10, capacityModel: 'test', violationPrice: 1 },
          candidates: [], requiredPerStep: [8], schedule: [8],
        },
      };
    },
    async close(): Promise<void> {},
  } as unknown as DecisionPipeline;
  const controller = new Controller({
    settings: testSettings({ minHistorySeconds: options.minHistorySeconds ?? 0, limits: { minSecondsBetweenRescales: 60, maxRescalesPerHour: 12 } }),
    pipeline, clock, ...(options.recommendOnly ? { recommendOnly: true } : {}),
  });
  const now = (): number => clock.now() / 1000;
  return { clock, controller, handed, now };
}

const completed: RescaleResult = { outcome: 'completed', detail: 'ok', seconds: 0 };

function gate(step: Step): string {
  if (step.kind !== 'decision') return step.kind;
  return step.action.kind === 'blocked' ? `blocked: ${step.action.blocked.reason}` : step.action.kind;
}

describe('Controller', () => {
  it('asks for the plan\'s rescale through the gate, and holds the next one for the minimum interval after it ended', async () => {
    const { clock, controller, now } = rig();
    const first = await controller.step({ signals: steady(now()) });
    expect(gate(first)).toBe('rescale');
    if (first.kind !== 'decision' || first.action.kind !== 'rescale') throw new Error('no rescale');
    expect(first.action.admitted.request).toMatchObject({ parallelism: 8, reason: 'test: 8' });
    // Until the driver reports the outcome, the rescale is in flight.
    await clock.advance(30_000);
    expect(gate(await controller.step({ signals: steady(now()) }))).toBe('blocked: in-progress');
    controller.finish(first.action.admitted, completed);
    await clock.advance(30_000);
    expect(gate(await controller.step({ signals: steady(now()) }))).toBe('blocked: min-interval');
    await clock.advance(30_000);
    expect(gate(await controller.step({ signals: steady(now()) }))).toBe('rescale');
  });

  it('hands the planner the rescale history and the time on one clock, however old the newest sample', async () => {
    const { clock, controller, handed, now } = rig();
    const first = await controller.step({ signals: steady(now(), 5) });
    if (first.kind !== 'decision' || first.action.kind !== 'rescale') throw new Error('no rescale');
    controller.finish(first.action.admitted, completed);
    await clock.advance(600_000);
    await controller.step({ signals: steady(now(), 5) });
    // The rescale started 600 s before this decision: the planner's dwell sees 600 s, not 595.
    expect(handed.at(-1)).toEqual({ rescaleTimes: [T0], now: T0 + 600 });
    expect(handed.at(-1)!.now - handed.at(-1)!.rescaleTimes[0]!).toBe(600);
  });

  it('does not hand the planner a rescale the actuator skipped (nothing changed)', async () => {
    const { clock, controller, handed, now } = rig();
    const first = await controller.step({ signals: steady(now()) });
    if (first.kind !== 'decision' || first.action.kind !== 'rescale') throw new Error('no rescale');
    controller.finish(first.action.admitted, { outcome: 'skipped', detail: 'already at 8', seconds: 0 });
    await clock.advance(30_000);
    expect(gate(await controller.step({ signals: steady(now()) }))).toBe('rescale');
    expect(handed.at(-1)?.rescaleTimes).toEqual([]);
  });

  it('holds on bad data, waits through the warm-up, and says when it resumed', async () => {
    const { clock, controller, now } = rig({ minHistorySeconds: 1200 });
    const failed = await controller.step({ readError: new Error('connect ECONNREFUSED') });
    expect(failed).toMatchObject({ kind: 'hold', sourceFailed: true, since: T0, verdict: { reasons: ['source_unavailable'] } });
    expect(controller.dataQuality()).toMatchObject({ ok: false, since: T0, reasons: ['source_unavailable'] });
    await clock.advance(30_000);
    // A restart phoebe did not cause: hold until rates settle.
    expect(await controller.step({ signals: steady(now(), 0, now() - 10) })).toMatchObject({ kind: 'hold', sourceFailed: false, since: T0, verdict: { reasons: ['job_restarted'] } });
    await clock.advance(30_000);
    expect(await controller.step({ signals: steady(now()) })).toEqual({
      kind: 'wait', reason: 'warming up: 599 s of history, deciding from 1200 s', warmingUp: true, resumed: { after: ['job_restarted'], heldSeconds: 60 },
    });
    expect(controller.dataQuality()).toEqual({ ok: true });
  });

  it('in recommend-only mode decides but never asks for a rescale', async () => {
    const { controller, now } = rig({ recommendOnly: true });
    const step = await controller.step({ signals: steady(now()) });
    expect(step).toMatchObject({ kind: 'decision', action: { kind: 'none' }, plan: { decision: { recommendedParallelism: 8 } } });
    expect(controller.gate.status().inProgress).toBe(false);
  });
});
