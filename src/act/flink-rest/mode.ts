/**
 * The `flink-rest` adapter: its settings under `actuation.flinkRest` (the jar to resubmit, the
 * savepoint, the journal's directory), its needs (the JobManager's REST URL in job.flinkRest), and
 * the FlinkRestActuator built from them, with Events on the FlinkDeployment when one is named and
 * the Kubernetes API is configured.
 */
import { UserError } from '../../util/user-error.js';
import type { ActuatorMode } from '../actuator-mode.js';
import { KubernetesEventRecorder } from '../kubernetes/events.js';
import { FlinkRestActuator } from './actuator.js';
import { JournalError } from './journal.js';
import { flinkRestModeSettings } from './mode-settings.js';

export const flinkRestMode: ActuatorMode<(typeof flinkRestModeSettings)['settings']> = {
  ...flinkRestModeSettings,

  create({ flinkRest: rest }, { source, job, kubernetesConfigured, kube, logger, clock }) {
    if (!job.flinkRest || !rest) throw new UserError(`${source}: actuation mode flink-rest needs job.flinkRest.url and actuation.flinkRest`);
    // Events only when a FlinkDeployment names the object to attach them to and the Kubernetes
    // API is reachable (a kubeconfig, or running in a pod).
    const target = kubernetesConfigured ? job.flinkDeployment : undefined;
    const events = target
      ? { sink: new KubernetesEventRecorder({ core: kube().core, logger, ...(clock ? { clock } : {}) }), target: { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', ...target } }
      : undefined;
    try {
      return new FlinkRestActuator({
        restUrl: job.flinkRest.url,
        ...(job.id ? { jobId: job.id } : { jobName: job.name }),
        sourceTaskPattern: job.sourceTaskPattern,
        ...(rest.jarId ? { jarId: rest.jarId } : {}),
        ...(rest.jarName ? { jarName: rest.jarName } : {}),
        ...(rest.entryClass ? { entryClass: rest.entryClass } : {}),
        ...(rest.programArgs.length ? { programArgs: rest.programArgs } : {}),
        ...(rest.savepointDirectory ? { savepointDirectory: rest.savepointDirectory } : {}),
        savepointTimeoutMs: rest.savepointTimeoutSeconds * 1000,
        // The rescale journal: an interrupted stop/resubmit is resumed from it after a restart.
        stateDirectory: rest.stateDirectory,
        ...(events ? { events } : {}),
        logger,
        ...(clock ? { clock } : {}),
      });
    } catch (err) {
      if (err instanceof JournalError) throw new UserError(`${source}: "actuation.flinkRest.stateDirectory": ${err.message}`);
      throw err;
    }
  },
};
