/** The `flink-rest` mode's settings under `actuation.flinkRest` and its needs (see mode.ts for the actuator). */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { nonEmpty, positive } from '../../util/schema-primitives.js';
import type { ConfigIssue, ModeSettings } from '../actuator-mode.js';

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

export const flinkRestModeSettings: ModeSettings<{ flinkRest: typeof flinkRestSettings }> = {
  mode: 'flink-rest',
  settings: { flinkRest: flinkRestSettings },

  needs(job, { flinkRest }) {
    const issues: ConfigIssue[] = [];
    if (!job.flinkRest) issues.push({ path: ['job', 'flinkRest', 'url'], message: 'is required when actuation.mode is flink-rest (or set PHOEBE_FLINK_REST_URL)' });
    if (!flinkRest) issues.push({ path: ['actuation', 'flinkRest'], message: 'is required when actuation.mode is flink-rest (jarId or jarName at least)' });
    return issues;
  }
};
