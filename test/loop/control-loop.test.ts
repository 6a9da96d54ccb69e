import { describe, expect, it } from 'vitest';
import type { Actuator } from '../../src/act/actuator.js';
import { PhoebeMetrics } from '../../src/export/metrics.js';
import { ControlLoop, type LoopEvent } from '../../src/loop/control-loop.js';
import { DecisionPipeline } from '../../src/loop/decision-pipeline.js';
import type { LoopMetrics } from '../../src/loop/loop-metrics.js';
import { defaultPhoebeForecaster } from '../../src/sim/policies/phoebe.js';
import { Twin } from '../../src/sim/twin.js';
import { testSettings } from '../support/controller-settings.js';
import { FakeActuator } from '../support/fake-actuator.js';
import { FakeClock, settle } from '../support/fake-clock.js';
import { scenario } from '../support/fixtures.js';

const T0 = 1_700_000_000;

/** A twin advanced with the fake clock, read as a source, rescaled through a fake actuator. */
function rig(options: { mode: Actuator['mode']; failSource?: () => boolean }) {
  const sc = scenario({ twin: { initialParallelism: 4, noise: { capacity: 0.02 } } });
  // 3,000/s for 20 min, then a 10-minute ramp to 9,000/s: p = 4 (4,000/s) must be raised in time.
  const arrivals = Float64Array.from({ length: 3600 }, (_, t) => 3000 + 6000 * Math.min(1, Math.max(0, (t - 1200) / 600)));
  const twin = new Twin(sc, arrivals, { seed: 1, startTime: T0 });
  const clock = new FakeClock(T0 * 1000);
  const seconds: number[] = [];
  const actuator = new FakeActuator({
    mode: options.mode,
    parallelism: () => twin.parallelism,
    outcome: (request) => {
      seconds.push(twin.elapsed);
      return twin.requestRescale(request.parallelism) === 'started' ? 'completed' : 'failed';
    },
  });
  const settings = testSettings({ parallelism: { min: 2, max: 24 } });
  const events: LoopEvent[] = [];
  const metrics = new PhoebeMetrics({ defaultMetrics: false, slo: { ...sc.slo, latencyObjective: 0.98 }, minParallelism: 2, maxParallelism: 24 });
  const loop = new ControlLoop({
    source: {
      read: async () => {
        if (options.failSource?.()) throw new Error('connect ECONNREFUSED 127.0.0.1:9090');
        return twin.signals();
      },
    },
    settings, pipeline: new DecisionPipeline(settings.pipeline, defaultPhoebeForecaster(settings)),
    actuator, metrics, log: (e) => events.push(e), clock,
  });
  /** The twin and the clock move on together. */
  const advance = async (s: number): Promise<void> => {
    for (let i = 0; i < s && !twin.done; i++) twin.step();
    await clock.advance(s * 1000);
  };
  return { twin, loop, actuator, seconds, events, metrics, advance, clock };
}

describe('ControlLoop', () => {
  it('scales the job up through the actuator before the load step breaks the latency SLO', async () => {
    const { twin, loop, actuator, seconds, advance } = rig({ mode: 'flink-rest' });
    for (let k = 0; k < 60; k++) {
      await advance(30);
      await loop.tick();
    }
    const up = actuator.requests.find((r) => r.parallelism > 9);
    expect(up).toBeDefined();
    expect(up?.decision?.action).toBe('scale-up');
    // After the step the job runs at a parallelism that carries 9,000/s with headroom.
    expect(twin.parallelism).toBeGreaterThanOrEqual(10);
    // Late seconds during the ramp: only what rescale downtimes cost (10 s each), no overload.
    const late = Array.from(twin.record.latencySeconds.subarray(1200, 1800)).filter((l) => l > 1).length;
    const rescalesDuringRamp = seconds.filter((second) => second >= 1150 && second < 1800).length;
    expect(rescalesDuringRamp).toBeGreaterThan(0);
    expect(late).toBeLessThanOrEqual(rescalesDuringRamp * 25);
    expect(Math.max(...Array.from(twin.record.lag.subarray(1200, 1800)))).toBeLessThan(9000 * 30);
    expect(loop.readiness().ready).toBe(true);
    await loop.stop();
  });

  it('in recommend mode publishes the recommendation and never acts', async () => {
    const { loop, actuator, metrics, advance } = rig({ mode: 'recommend' });
    for (let k = 0; k < 50; k++) {
      await advance(30);
      await loop.tick();
    }
    expect(actuator.requests).toEqual([]);
    const body = await metrics.registry.metrics();
    const recommended = Number(/^phoebe_parallelism_recommended (\d+)/m.exec(body)?.[1]);
    expect(recommended).toBeGreaterThanOrEqual(10);
    expect(body).toMatch(/^phoebe_parallelism 4$/m);
    await loop.stop();
  });

  it('holds and reports not ready while the source fails, and recovers by itself', async () => {
    let failing = false;
    const { loop, events, advance, actuator } = rig({ mode: 'flink-rest', failSource: () => failing });
    await advance(600);
    await loop.tick();
    expect(loop.readiness().ready).toBe(true);
    failing = true;
    await advance(30);
    await loop.tick();
    expect(loop.readiness()).toEqual({ ready: false, reason: expect.stringContaining('ECONNREFUSED') });
    expect(events.at(-1)?.event).toBe('source-error');
    const before = actuator.requests.length;
    await advance(30);
    await loop.tick();
    expect(actuator.requests.length).toBe(before);
    failing = false;
    await advance(30);
    await loop.tick();
    expect(loop.readiness().ready).toBe(true);
    await loop.stop();
  });

  it('ticks at start, then one interval after each tick ended, on its clock; stop() ends the wait at once', async () => {
    const clock = new FakeClock(T0 * 1000);
    const reads: number[] = [];
    const readiness: boolean[] = [];
    // Any LoopMetrics will do: the loop does not need the Prometheus registry.
    const metrics: LoopMetrics = {
      recordDecision: () => undefined, recordWaiting: () => undefined, recordRescale: () => undefined, setHold: () => undefined,
      setReadiness: (ready) => { readiness.push(ready); }, recordActuationBlocked: () => undefined, setCircuitBreakerOpen: () => undefined,
      setActuationPaused: () => undefined,
    };
    const loop = new ControlLoop({
      source: { read: async () => { reads.push(clock.now() - T0 * 1000); throw new Error('connect ECONNREFUSED'); } },
      settings: testSettings({ intervalSeconds: 30 }), pipeline: { close: async () => undefined } as unknown as DecisionPipeline,
      actuator: new FakeActuator(), metrics, log: () => undefined, clock,
    });
    loop.start();
    await settle();
    expect(reads).toEqual([0]);
    await clock.advance(29_999);
    expect(reads).toEqual([0]);
    await clock.advance(1);
    expect(reads).toEqual([0, 30_000]);
    expect(readiness).toEqual([false, false]);
    // Stopping does not wait out the interval, and leaves nothing sleeping.
    await loop.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(60_000);
    expect(reads).toEqual([0, 30_000]);
  });
});
