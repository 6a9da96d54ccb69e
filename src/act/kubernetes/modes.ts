/**
 * The Kubernetes adapters: `flink-deployment` (settings under actuation.flinkDeployment; needs
 * job.flinkDeployment) and `taskmanager-deployment` (settings under actuation.taskManagerDeployment;
 * needs job.taskManagerDeployment), each recording its rescales as Events on the object it changes.
 */
import { UserError } from '../../util/user-error.js';
import type { Clock } from '../../util/clock.js';
import type { ActuatorContext, ActuatorMode } from '../actuator-mode.js';
import type { ActLogger } from '../logger.js';
import type { KubeClients } from './client.js';
import { KubernetesEventRecorder } from './events.js';
import { FlinkDeploymentActuator } from './flink-deployment-actuator.js';
import { flinkDeploymentModeSettings, taskManagerDeploymentModeSettings, type ObjectKey } from './mode-settings.js';
import { TaskManagerDeploymentActuator } from './taskmanager-deployment-actuator.js';

/** What a Kubernetes actuator is built from: the clients, the object it changes, and Events on it. */
interface KubernetesParts {
  kube: KubeClients;
  namespace: string;
  name: string;
  events: KubernetesEventRecorder;
  logger: ActLogger;
  clock?: Clock;
}

function parts(mode: string, key: ObjectKey, { source, job, kube, logger, clock }: ActuatorContext): KubernetesParts {
  const target = job[key];
  if (!target) throw new UserError(`${source}: actuation mode ${mode} needs job.${key} (namespace, name)`);
  const clients = kube();
  const timed = clock ? { clock } : {};
  return { kube: clients, ...target, events: new KubernetesEventRecorder({ core: clients.core, logger, ...timed }), logger, ...timed };
}

export const flinkDeploymentMode: ActuatorMode<(typeof flinkDeploymentModeSettings)['settings']> = {
  ...flinkDeploymentModeSettings,
  create: ({ flinkDeployment }, context) => new FlinkDeploymentActuator({
    ...parts('flink-deployment', 'flinkDeployment', context),
    readyTimeoutMs: flinkDeployment.timeoutSeconds * 1000,
  }),
};

export const taskManagerDeploymentMode: ActuatorMode<(typeof taskManagerDeploymentModeSettings)['settings']> = {
  ...taskManagerDeploymentModeSettings,
  create: ({ taskManagerDeployment }, context) => new TaskManagerDeploymentActuator({
    ...parts('taskmanager-deployment', 'taskManagerDeployment', context),
    slotsPerTaskManager: taskManagerDeployment.slotsPerTaskManager,
    readyTimeoutMs: taskManagerDeployment.timeoutSeconds * 1000,
  }),
};
