import { JOB_STATUS_CODE, type SignalHistory } from '../observe/signals.js';

/** Observed lengths (s) of the job's down spells: restarts after failures and rescales. */
export interface DowntimeObservations {
  restarts: number[];
  rescales: number[];
}

/** Finds every complete RESTARTING and RESCALING spell in the history. */
export function observeDowntimes(history: SignalHistory): DowntimeObservations {
  const result: DowntimeObservations = { restarts: [], rescales: [] };
  let spellStart = 0;
  let spellCode = history.length > 0 ? (history.status[0] as number) : JOB_STATUS_CODE.RUNNING;
  for (let i = 0; i < history.length; i++) {
    const code = history.status[i] as number;
    if (code === spellCode) continue;
    // A spell already under way when the history starts has an unknown length: skip it.
    if (spellCode !== JOB_STATUS_CODE.RUNNING && spellStart > 0) {
      const seconds = (history.t[i] as number) - (history.t[spellStart] as number);
      (spellCode === JOB_STATUS_CODE.RESTARTING ? result.restarts : result.rescales).push(seconds);
    }
    spellCode = code;
    spellStart = i;
  }
  return result;
}

/**
 * A downtime estimate: the prior until something was observed, then a high quantile of the
 * observations, so one quick restart does not make the planner optimistic.
 */
export function estimateDowntime(observed: readonly number[], prior: number): number {
  if (observed.length === 0) return prior;
  const sorted = [...observed].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)] as number;
}
