/**
 * The `flink-rest` adapter: its settings under `actuation.flinkRest` (the jar to resubmit, the
 * savepoint, the journal's directory), its needs (the JobManager's REST URL in job.flinkRest), and
 * the FlinkRestActuator built from them, with Events on the FlinkDeployment when one is named and
 * the Kubernetes API is configured.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { nonEmpty, positive } from '../../util/schema-primitives.js';
import { UserError } from '../../util/user-error.js';
import type { ActuatorMode, ConfigIssue } from '../actuator-mode.js';
import { KubernetesEventRecorder } from '../kubernetes/events.js';
import { FlinkRestActuator } from './actuator.js';
import { JournalError } from './journal.js';

/** Where the rescale journal lives unless configured (actuation.flinkRest.stateDirectory). */
export const DEFAULT_STATE_DIRECTORY = join(tmpdir(), 'phoebe');

const flinkRestSettings = z.strictObject({
  jarId: nonEmpty.optional(),
  jarName: nonEmpty.optional(),
  entryClass: nonEmpty.optional(),
  programArgs: z.array(z.string()).default([]),
  savepointDirectory: nonEmpty.optional(),
  savepointTimeoutSeconds: positive.default(600),
  // The rescale journal (an interrupted rescale is resumed from it after a restart). The OS temp
  // directory works without setup and survives a process restart; in Kubernetes mount a volume.
  stateDirectory: nonEmpty.default(DEFAULT_STATE_DIRECTORY),
}).superRefine((f, ctx) => {
  if ((f.jarId === undefined) === (f.jarName === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['jarId'], message: 'give exactly one of jarId and jarName' });
  }
}).optional();

export const flinkRestMode: ActuatorMode<{ flinkRest: typeof flinkRestSettings }> = {
  mode: 'flink-rest',
  settings: { flinkRest: flinkRestSettings },

  needs(job, { flinkRest }) {
    const issues: ConfigIssue[] = [];
    if (!job.flinkRest) issues.push({ path: ['job', 'flinkRest', 'url'], message: 'is required when actuation.mode is flink-rest (or set PHOEBE_FLINK_REST_URL)' });
    if (!flinkRest) issues.push({ path: ['actuation', 'flinkRest'], message: 'is required when actuation.mode is flink-rest (jarId or jarName at least)' });
    return issues;
  },

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
