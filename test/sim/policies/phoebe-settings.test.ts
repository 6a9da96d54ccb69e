/**
 * The twin's phoebe is configured as `phoebe run` would be: through the configuration schema,
 * so its priors and the gate's limits are the configuration's defaults, written once.
 */
import { describe, expect, it } from 'vitest';
import { parsePhoebeConfig } from '../../../src/config/phoebe-config.js';
import { controllerSettings } from '../../../src/loop/controller-settings.js';
import { phoebeSettings } from '../../../src/sim/policies/phoebe.js';
import type { PolicyContext } from '../../../src/sim/policy.js';

const context: PolicyContext = {
  minParallelism: 2, maxParallelism: 24, initialParallelism: 12, slo: { recoveryTimeSeconds: 180, latencySeconds: 1 }, checkpointIntervalSeconds: 10,
};

describe('the twin\'s phoebe settings', () => {
  it('are the configuration defaults for what the scenario does not tell: restart prior 30 s, the gate\'s 60 s / 12 an hour', () => {
    const settings = phoebeSettings(context);
    const defaults = parsePhoebeConfig(JSON.stringify({
      prometheus: { url: 'http://p.invalid:9090' }, job: { name: 'j', checkpointIntervalSeconds: 10 },
      slo: { latencySeconds: 1, recoveryTimeSeconds: 180 }, parallelism: { max: 24 },
    }), 'defaults', {}, { checkFiles: false });
    expect(settings.pipeline.priors).toEqual({ checkpointIntervalSeconds: 10, restartDowntimeSeconds: defaults.priors.restartSeconds, rescaleDowntimeSeconds: defaults.priors.rescaleSeconds });
    expect(settings.pipeline.priors.restartDowntimeSeconds).toBe(30);
    expect(settings.limits).toEqual(defaults.actuation.limits);
    expect(settings.intervalSeconds).toBe(defaults.decision.intervalSeconds);
    // What `phoebe run` builds from the same configuration, but for the bounds and the rate window.
    const run = controllerSettings(defaults);
    expect(settings.pipeline).toEqual({ ...run.pipeline, planner: { ...run.pipeline.planner, minParallelism: 2 } });
    expect(settings.quality).toEqual({ ...run.quality, settleSeconds: 2 * defaults.decision.intervalSeconds });
  });

  it('carry decision.scaleDownDwellSeconds into the planner (default 600 s)', () => {
    const parse = (decision: object) => parsePhoebeConfig(JSON.stringify({
      prometheus: { url: 'http://p.invalid:9090' }, job: { name: 'j', checkpointIntervalSeconds: 10 },
      slo: { latencySeconds: 1, recoveryTimeSeconds: 180 }, parallelism: { max: 24 }, decision,
    }), 'c', {}, { checkFiles: false });
    expect(controllerSettings(parse({})).pipeline.planner.scaleDownDwellSeconds).toBe(600);
    expect(controllerSettings(parse({ scaleDownDwellSeconds: 45 })).pipeline.planner.scaleDownDwellSeconds).toBe(45);
    expect(() => parse({ scaleDownDwellSeconds: -1 })).toThrow(/scaleDownDwellSeconds/);
  });

  it('take the profile as a prior where the scenario has one', () => {
    const profile = [{ parallelism: 4, maxRate: 4000 }];
    expect(phoebeSettings({ ...context, profile }).pipeline.priors.profile).toEqual(profile);
  });
});
