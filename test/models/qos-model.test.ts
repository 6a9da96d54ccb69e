import { describe, expect, it } from 'vitest';
import { QosLearner } from '../../src/models/qos-model.js';
import { constant, scenario } from '../support/fixtures.js';
import { runTwin, slice } from '../support/twin-history.js';

describe('QosLearner', () => {
  const priors = { checkpointIntervalSeconds: 10, restartDowntimeSeconds: 60, rescaleDowntimeSeconds: 30 };

  it('is undefined before a capacity is known, then uses the downtime priors', () => {
    const sc = scenario({ twin: { baseLatencySeconds: 0.3 } });
    const full = runTwin(sc, constant(6000, 100)).signals().history;
    const learner = new QosLearner(priors);
    expect(learner.update(slice(full, 0, 4))).toBeUndefined(); // 4 samples: not enough
    const model = learner.update(slice(full, 0, 100))!;
    expect(model.capacity.mean(10)).toBeCloseTo(10000, 6);
    expect(model.latency.b).toBeCloseTo(0.3, 9);
    expect(model).toMatchObject({
      restartDowntimeSeconds: 60, rescaleDowntimeSeconds: 30, checkpointIntervalSeconds: 10, observedRestarts: 0, observedRescales: 0,
    });
  });

  it('replaces the priors by the observed restart and rescale downtimes', () => {
    const sc = scenario({ twin: { restartDowntimeSeconds: 45, rescaleDowntimeSeconds: 15 }, failures: [200] });
    const twin = runTwin(sc, constant(6000, 600), { rescaleAt: new Map([[399, 12]]) });
    const model = new QosLearner(priors).update(twin.signals().history)!;
    expect(model).toMatchObject({ restartDowntimeSeconds: 45, rescaleDowntimeSeconds: 15, observedRestarts: 1, observedRescales: 1 });
    // Both parallelisms seen: μ = 1000·p recovered as a line.
    expect(model.capacity.kind).toBe('linear');
    expect(model.capacity.mean(20)).toBeCloseTo(20000, 3);
  });

  it('starts from a profile when one is given', () => {
    const model = new QosLearner({ ...priors, profile: [{ parallelism: 2, maxRate: 3000 }, { parallelism: 6, maxRate: 7000 }] })
      .update(slice(runTwin(scenario(), constant(100, 3)).signals().history, 0, 3))!;
    expect(model.capacity.kind).toBe('profile');
    expect(model.capacity.mean(10)).toBeCloseTo(11000, 6);
  });
});
