/**
 * The actuation modes, one adapter each (actuator-mode.ts): `phoebe run` builds its actuator
 * here. Their settings and needs, which the configuration reads, are in mode-settings.ts.
 */
import type { Actuator, ActuationMode } from './actuator.js';
import type { ActuatorContext, ActuatorMode } from './actuator-mode.js';
import { flinkRestMode } from './flink-rest/mode.js';
import { flinkDeploymentMode, taskManagerDeploymentMode } from './kubernetes/modes.js';
import type { ActuationSettings } from './mode-settings.js';
import { recommendMode } from './recommend-mode.js';

export const ACTUATOR_MODES: { readonly [M in ActuationMode]: ActuatorMode } = {
  recommend: recommendMode,
  'flink-rest': flinkRestMode,
  'flink-deployment': flinkDeploymentMode,
  'taskmanager-deployment': taskManagerDeploymentMode,
};

/** The actuator of the configured mode. */
export function createActuator(mode: ActuationMode, settings: ActuationSettings, context: ActuatorContext): Actuator {
  return ACTUATOR_MODES[mode].create(settings, context);
}
