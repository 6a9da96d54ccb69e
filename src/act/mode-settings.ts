/**
 * Every actuation mode's settings and needs, for the configuration (config/phoebe-config.ts):
 * it composes the fragments into `actuation:` and asks the configured mode what it misses. No
 * actuator is loaded here (registry.ts builds them for `phoebe run`).
 */
import type { z } from 'zod';
import type { ActuationMode } from './actuator.js';
import type { ActuatorTarget, ConfigIssue, ModeSettings } from './actuator-mode.js';
import { flinkRestModeSettings } from './flink-rest/mode-settings.js';
import { flinkDeploymentModeSettings, taskManagerDeploymentModeSettings } from './kubernetes/mode-settings.js';

/** `recommend` has no settings and needs nothing. */
export const recommendModeSettings: ModeSettings<{}> = { mode: 'recommend', settings: {}, needs: () => [] };

export const MODE_SETTINGS: { readonly [M in ActuationMode]: ModeSettings } = {
  recommend: recommendModeSettings,
  'flink-rest': flinkRestModeSettings,
  'flink-deployment': flinkDeploymentModeSettings,
  'taskmanager-deployment': taskManagerDeploymentModeSettings,
};

/** Every mode's settings, keyed as under `actuation:` (for the configuration's schema). */
export const actuationSettingsShape = {
  ...recommendModeSettings.settings,
  ...flinkRestModeSettings.settings,
  ...flinkDeploymentModeSettings.settings,
  ...taskManagerDeploymentModeSettings.settings,
};

/** Every mode's settings, validated and with their defaults. */
export type ActuationSettings = z.output<z.ZodObject<typeof actuationSettingsShape>>;

/** What the configured mode misses in the configuration (empty when nothing). */
export function actuationIssues(mode: ActuationMode, job: ActuatorTarget, settings: ActuationSettings): ConfigIssue[] {
  return MODE_SETTINGS[mode].needs(job, settings);
}
