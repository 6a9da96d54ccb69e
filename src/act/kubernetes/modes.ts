/**
 * The Kubernetes adapters: `flink-deployment` (settings under actuation.flinkDeployment; needs
 * job.flinkDeployment) and `taskmanager-deployment` (settings under actuation.taskManagerDeployment;
 * needs job.taskManagerDeployment), each recording its rescales as Events on the object it changes.
 */
import { z } from 'zod';
import { positive, positiveInt } from '../../util/schema-primitives.js';
import { UserError } from '../../util/user-error.js';
import type { ActuatorMode, ActuatorTarget, ConfigIssue } from '../actuator-mode.js';
import { KubernetesEventRecorder } from './events.js';
import { FlinkDeploymentActuator } from './flink-deployment-actuator.js';
import { TaskManagerDeploymentActuator } from './taskmanager-deployment-actuator.js';

const flinkDeploymentSettings = z.strictObject({
  timeoutSeconds: positive.default(600),
}).prefault({});

const taskManagerDeploymentSettings = z.strictObject({
  slotsPerTaskManager: positiveInt.default(1),
  timeoutSeconds: positive.default(600),
}).prefault({});

type ObjectKey = 'flinkDeployment' | 'taskManagerDeployment';

/** The mode needs job.<key> (the object it changes). */
function needsObject(mode: string, key: ObjectKey): (job: ActuatorTarget) => ConfigIssue[] {
  return (job) => (job[key] ? [] : [{ path: ['job', key], message: `is required when actuation.mode is ${mode} (namespace and name)` }]);
}

function objectOf(mode: string, key: ObjectKey, job: ActuatorTarget, source: string): { namespace: string; name: string } {
  const target = job[key];
  if (!target) throw new UserError(`${source}: actuation mode ${mode} needs job.${key} (namespace, name)`);
  return target;
}

export const flinkDeploymentMode: ActuatorMode<{ flinkDeployment: typeof flinkDeploymentSettings }> = {
  mode: 'flink-deployment',
  settings: { flinkDeployment: flinkDeploymentSettings },
  needs: needsObject('flink-deployment', 'flinkDeployment'),
  create({ flinkDeployment }, { source, job, kube, logger, clock }) {
    const { namespace, name } = objectOf('flink-deployment', 'flinkDeployment', job, source);
    const clients = kube();
    return new FlinkDeploymentActuator({
      kube: clients, namespace, name,
      readyTimeoutMs: flinkDeployment.timeoutSeconds * 1000,
      events: new KubernetesEventRecorder({ core: clients.core, logger }), logger,
      ...(clock ? { clock } : {}),
    });
  },
};

export const taskManagerDeploymentMode: ActuatorMode<{ taskManagerDeployment: typeof taskManagerDeploymentSettings }> = {
  mode: 'taskmanager-deployment',
  settings: { taskManagerDeployment: taskManagerDeploymentSettings },
  needs: needsObject('taskmanager-deployment', 'taskManagerDeployment'),
  create({ taskManagerDeployment }, { source, job, kube, logger, clock }) {
    const { namespace, name } = objectOf('taskmanager-deployment', 'taskManagerDeployment', job, source);
    const clients = kube();
    return new TaskManagerDeploymentActuator({
      kube: clients, namespace, name,
      slotsPerTaskManager: taskManagerDeployment.slotsPerTaskManager,
      readyTimeoutMs: taskManagerDeployment.timeoutSeconds * 1000,
      events: new KubernetesEventRecorder({ core: clients.core, logger }), logger,
      ...(clock ? { clock } : {}),
    });
  },
};
