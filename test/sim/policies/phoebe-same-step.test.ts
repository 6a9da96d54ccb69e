/**
 * One controller, two drivers: `phoebe run`'s ControlLoop and the twin's `phoebe` policy, fed
 * the same Signals at the same times, make the same decisions and meet the same gate outcomes
 * (quality holds, waits, rescales, rescales the gate blocks).
 */
import { describe, expect, it } from 'vitest';
import { PhoebeMetrics } from '../../../src/export/metrics.js';
import { ControlLoop, type LoopEvent } from '../../../src/loop/control-loop.js';
import type { Step } from '../../../src/loop/controller.js';
import { DecisionPipeline } from '../../../src/loop/decision-pipeline.js';
import type { Signals } from '../../../src/observe/signals.js';
import { defaultPhoebeForecaster, phoebePolicy } from '../../../src/sim/policies/phoebe.js';
import type { PolicyContext } from '../../../src/sim/policy.js';
import { Twin, type RescaleOutcome } from '../../../src/sim/twin.js';
import { testSettings } from '../../support/controller-settings.js';
import { FakeActuator } from '../../support/fake-actuator.js';
import { FakeClock } from '../../support/fake-clock.js';
import { scenario } from '../../support/fixtures.js';

const T0 = 1_700_000_000;
const INTERVAL = 30;

/** What one step came to, as either driver shows it. */
type Seen =
  | { kind: 'hold'; reasons: string[] }
  | { kind: 'wait'; reason: string }
  | { kind: 'decision'; action: string; current: number; recommended: number; reason: string; gate: string };

/** 3,000/s, a ramp to 9,000/s, a failure at the top, back down to 3,000/s. */
function arrivals(): Float64Array {
  const level = (t: number): number => {
    if (t < 1200) return 3000;
    if (t < 1800) return 3000 + 6000 * ((t - 1200) / 600);
    if (t < 3000) return 9000;
    if (t < 3300) return 9000 - 6000 * ((t - 3000) / 300);
    return 3000;
  };
  return Float64Array.from({ length: 4800 }, (_, t) => level(t));
}

// A five-minute minimum interval and three rescales an hour: the ramp meets the gate's limits.
const settings = testSettings({ intervalSeconds: INTERVAL, limits: { minSecondsBetweenRescales: 300, maxRescalesPerHour: 3 } });
const sc = scenario({ twin: { initialParallelism: 4, noise: { capacity: 0.02 } }, failures: [2400] });

/** ControlLoop on a twin: the Signals it read, what each tick came to, and the twin's answers to its rescales. */
async function throughControlLoop(): Promise<{ read: Signals[]; seen: Seen[]; answers: RescaleOutcome[] }> {
  const twin = new Twin(sc, arrivals(), { seed: 1, startTime: T0 });
  const clock = new FakeClock(T0 * 1000);
  const answers: RescaleOutcome[] = [];
  const actuator = new FakeActuator({
    parallelism: () => twin.parallelism,
    outcome: (request) => {
      const answer = twin.requestRescale(request.parallelism);
      answers.push(answer);
      return answer === 'started' ? 'completed' : answer === 'rejected' ? 'failed' : 'skipped';
    },
  });
  const read: Signals[] = [];
  const events: LoopEvent[] = [];
  const loop = new ControlLoop({
    source: { read: async () => { const s = twin.signals(); read.push(s); return s; } },
    settings, pipeline: new DecisionPipeline(settings.pipeline, defaultPhoebeForecaster(settings)),
    actuator, log: (e) => events.push(e), clock,
    metrics: new PhoebeMetrics({ defaultMetrics: false, slo: { ...sc.slo, latencyObjective: 0.98 }, minParallelism: 2, maxParallelism: 24 }),
  });
  const seen: Seen[] = [];
  while (!twin.done) {
    for (let i = 0; i < INTERVAL && !twin.done; i++) twin.step();
    if (twin.done) break;
    // The twin's time: a sample at t covers [t, t + 1), so the tick after it is at t + 1.
    await clock.advanceTo(twin.elapsed * 1000 + T0 * 1000);
    const from = events.length;
    await loop.tick();
    seen.push(fromEvents(events.slice(from)));
  }
  await loop.stop();
  return { read, seen, answers };
}

function fromEvents(events: LoopEvent[]): Seen {
  const first = events.find((e) => e.event !== 'resume');
  if (first?.event === 'hold' || first?.event === 'source-error') return { kind: 'hold', reasons: first.hold as string[] };
  if (first?.event === 'waiting') return { kind: 'wait', reason: first.reason as string };
  if (first?.event !== 'decision') throw new Error(`unexpected tick: ${JSON.stringify(events)}`);
  const blocked = events.find((e) => e.event === 'blocked');
  const rescale = events.find((e) => e.event === 'rescale');
  const gate = blocked ? `blocked: ${String(blocked.reason)}` : rescale ? `rescale to ${String(rescale.to)}` : 'none';
  return {
    kind: 'decision', action: first.action as string, current: first.current as number, recommended: first.recommended as number,
    reason: first.reason as string, gate,
  };
}

function fromStep(step: Step): Seen {
  if (step.kind === 'hold') return { kind: 'hold', reasons: step.verdict.reasons };
  if (step.kind === 'wait') return { kind: 'wait', reason: step.reason };
  const { decision } = step.plan;
  const { action } = step;
  const gate = action.kind === 'blocked' ? `blocked: ${action.blocked.reason}` : action.kind === 'rescale' ? `rescale to ${action.admitted.request.parallelism}` : 'none';
  return {
    kind: 'decision', action: decision.action, current: decision.currentParallelism, recommended: decision.recommendedParallelism,
    reason: decision.reason, gate,
  };
}

describe('the twin\'s phoebe and ControlLoop', () => {
  it('run the same controller step: same Signals in, same decisions and gate outcomes out', async () => {
    const loop = await throughControlLoop();

    const context: PolicyContext = { minParallelism: 2, maxParallelism: 24, initialParallelism: 4, slo: sc.slo, checkpointIntervalSeconds: 10 };
    const steps: Seen[] = [];
    const policy = phoebePolicy(context, defaultPhoebeForecaster, settings, (step) => steps.push(fromStep(step)));
    expect(policy.intervalSeconds).toBe(INTERVAL);
    const answers = [...loop.answers];
    for (const signals of loop.read) {
      const decision = await policy.decide(signals);
      // The twin answers the policy's request as it answered the loop's.
      if (decision.parallelism !== undefined) policy.rescaleOutcome?.(answers.shift() as RescaleOutcome);
    }
    await policy.close?.();

    expect(steps).toEqual(loop.seen);
    expect(answers).toEqual([]);
    // The sequence meets every part of the step: a quality hold (the failure), decisions that
    // rescale, that the gate blocks, and that keep the parallelism, and waits (the job down).
    const kinds = new Set(loop.seen.map((s) => (s.kind === 'decision' ? s.gate.replace(/ \d+$/, '').replace(/: .*/, '') : s.kind)));
    expect([...kinds].sort()).toEqual(['blocked', 'hold', 'none', 'rescale to', 'wait']);
  }, 60_000);
});
