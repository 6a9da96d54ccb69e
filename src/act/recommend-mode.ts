/** The `recommend` adapter: no settings, no needs; the actuator reports the parallelism the metrics show. */
import type { ActuatorMode } from './actuator-mode.js';
import { recommendModeSettings } from './mode-settings.js';
import { RecommendActuator } from './recommend-actuator.js';

export const recommendMode: ActuatorMode<{}> = {
  ...recommendModeSettings,
  create: (_settings, context) => new RecommendActuator({ observedParallelism: context.observedParallelism }),
};
