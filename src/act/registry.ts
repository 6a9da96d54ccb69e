/**
 * The actuation modes, one adapter each (actuator-mode.ts): the configuration composes their
 * settings fragments into `actuation:` and asks the configured one what it needs; `phoebe run`
 * builds its actuator here.
 */
import type { z } from 'zod';
import type { Actuator, ActuationMode } from './actuator.js';
import type { ActuatorContext, ActuatorMode, ActuatorTarget, ConfigIssue } from './actuator-mode.js';
import { flinkRestMode } from './flink-rest/mode.js';
import { flinkDeploymentMode, taskManagerDeploymentMode } from './kubernetes/modes.js';
import { recommendMode } from './recommend-mode.js';

export const ACTUATOR_MODES: { readonly [M in ActuationMode]: ActuatorMode } = {
  recommend: recommendMode,
  'flink-rest': flinkRestMode,
  'flink-deployment': flinkDeploymentMode,
  'taskmanager-deployment': taskManagerDeploymentMode,
};

/** Every mode's settings, keyed as under `actuation:` (for the configuration's schema). */
export const actuationSettingsShape = {
  ...recommendMode.settings,
  ...flinkRestMode.settings,
  ...flinkDeploymentMode.settings,
  ...taskManagerDeploymentMode.settings,
};

/** Every mode's settings, validated and with their defaults. */
export type ActuationSettings = z.output<z.ZodObject<typeof actuationSettingsShape>>;

/** What the configured mode misses in the configuration (empty when nothing). */
export function actuationIssues(mode: ActuationMode, job: ActuatorTarget, settings: ActuationSettings): ConfigIssue[] {
  return ACTUATOR_MODES[mode].needs(job, settings);
}

/** The actuator of the configured mode. */
export function createActuator(mode: ActuationMode, settings: ActuationSettings, context: ActuatorContext): Actuator {
  return ACTUATOR_MODES[mode].create(settings, context);
}
