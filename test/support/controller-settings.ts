import type { ActuationLimitsConfig } from '../../src/act/actuation-gate.js';
import { parsePhoebeConfig } from '../../src/config/phoebe-config.js';
import { controllerSettings, type ControllerSettings } from '../../src/loop/controller-settings.js';
import type { QualityOptions } from '../../src/observe/signal-quality.js';

export interface TestSettings {
  intervalSeconds?: number;
  minHistorySeconds?: number;
  quality?: Partial<QualityOptions>;
  limits?: Partial<ActuationLimitsConfig>;
  parallelism?: { min: number; max: number };
}

/**
 * The controller's settings as `phoebe run` builds them from a configuration (a job at p 2…24,
 * latency SLO 1 s, recovery 180 s, checkpoints every 10 s), with what a test needs changed.
 */
export function testSettings(over: TestSettings = {}): ControllerSettings {
  const parallelism = over.parallelism ?? { min: 2, max: 24 };
  const config = parsePhoebeConfig(JSON.stringify({
    prometheus: { url: 'http://prometheus.invalid:9090' },
    job: { name: 'test', checkpointIntervalSeconds: 10 },
    slo: { latencySeconds: 1, recoveryTimeSeconds: 180 },
    parallelism,
    decision: { intervalSeconds: over.intervalSeconds ?? 30 },
  }), 'test settings', {}, { checkFiles: false });
  const settings = controllerSettings(config);
  return {
    ...settings,
    minHistorySeconds: over.minHistorySeconds ?? settings.minHistorySeconds,
    quality: { ...settings.quality, ...over.quality },
    limits: { ...settings.limits, ...over.limits },
  };
}
