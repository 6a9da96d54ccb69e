/** The Kubernetes modes' settings (actuation.flinkDeployment, actuation.taskManagerDeployment) and needs (see modes.ts for the actuators). */
import { z } from 'zod';
import { positive, positiveInt } from '../../util/schema-primitives.js';
import type { ActuatorTarget, ConfigIssue, ModeSettings } from '../actuator-mode.js';

const flinkDeploymentSettings = z.strictObject({
  timeoutSeconds: positive.default(600),
}).prefault({});

const taskManagerDeploymentSettings = z.strictObject({
  slotsPerTaskManager: positiveInt.default(1),
  timeoutSeconds: positive.default(600),
}).prefault({});

/** The job section's key naming the object a Kubernetes mode changes. */
export type ObjectKey = 'flinkDeployment' | 'taskManagerDeployment';

/** The mode needs job.<key> (the object it changes). */
function needsObject(mode: string, key: ObjectKey): (job: ActuatorTarget) => ConfigIssue[] {
  return (job) => (job[key] ? [] : [{ path: ['job', key], message: `is required when actuation.mode is ${mode} (namespace and name)` }]);
}

export const flinkDeploymentModeSettings: ModeSettings<{ flinkDeployment: typeof flinkDeploymentSettings }> = {
  mode: 'flink-deployment',
  settings: { flinkDeployment: flinkDeploymentSettings },
  needs: needsObject('flink-deployment', 'flinkDeployment'),
};

export const taskManagerDeploymentModeSettings: ModeSettings<{ taskManagerDeployment: typeof taskManagerDeploymentSettings }> = {
  mode: 'taskmanager-deployment',
  settings: { taskManagerDeployment: taskManagerDeploymentSettings },
  needs: needsObject('taskmanager-deployment', 'taskManagerDeployment'),
};
