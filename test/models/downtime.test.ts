import { describe, expect, it } from 'vitest';
import { estimateDowntime, observeDowntimes } from '../../src/models/downtime.js';
import { JOB_STATUS_CODE } from '../../src/observe/signals.js';
import { constant, scenario } from '../support/fixtures.js';
import { history, runTwin, slice } from '../support/twin-history.js';

const { RUNNING, RESTARTING, RESCALING } = JOB_STATUS_CODE;

describe('observeDowntimes', () => {
  it('measures the restart and rescale spells of a twin run', () => {
    const sc = scenario({ twin: { restartDowntimeSeconds: 45, rescaleDowntimeSeconds: 15 }, failures: [100, 700] });
    // Rescale to 12 requested after second 299 (down 300–314), back to 10 after 499.
    const twin = runTwin(sc, constant(6000, 1000), { rescaleAt: new Map([[299, 12], [499, 10]]) });
    expect(observeDowntimes(twin.signals().history)).toEqual({ restarts: [45, 45], rescales: [15, 15] });
  });

  it('does not count a spell still under way at the end of the history', () => {
    const sc = scenario({ twin: { restartDowntimeSeconds: 30, rescaleDowntimeSeconds: 10 }, failures: [100, 290] });
    const twin = runTwin(sc, constant(6000, 300));
    expect(twin.record.status[299]).toBe(RESTARTING);
    expect(observeDowntimes(twin.signals().history)).toEqual({ restarts: [30], rescales: [] });
  });

  it('uses the sample times, so a coarser scrape interval still gives seconds', () => {
    // One sample every 15 s: RESCALING at t = 30 and 45, RUNNING again at 60 → 30 s.
    const status = [RUNNING, RUNNING, RESCALING, RESCALING, RUNNING, RUNNING];
    const h = history(6, { t: (i) => 1000 + 15 * i, status: (i) => status[i]! });
    expect(observeDowntimes(h)).toEqual({ restarts: [], rescales: [30] });
  });

  it('a failure during a rescale ends the rescale spell and starts a restart spell', () => {
    const status = [RUNNING, RESCALING, RESCALING, RESTARTING, RESTARTING, RESTARTING, RUNNING];
    const h = history(status.length, { status: (i) => status[i]! });
    expect(observeDowntimes(h)).toEqual({ restarts: [3], rescales: [2] });
  });

  // BUG (src/models/downtime.ts, observeDowntimes): the doc promises "every complete spell",
  // and a spell still under way at the end is indeed left out, but a spell already under way at
  // the START of the history (a sliding Prometheus window that begins mid-restart) is counted
  // from the window's first sample, i.e. as a shorter complete spell. Here a 30-s restart cut
  // to its last 5 s by the window comes out as restarts: [5]; as the only observation it
  // replaces the prior in estimateDowntime, so the planner would plan for 5-s restarts.
  it('does not count a spell that began before the history window (truncated at its start)', () => {
    const sc = scenario({ twin: { restartDowntimeSeconds: 30 }, failures: [100] });
    const full = runTwin(sc, constant(6000, 300)).signals().history;
    const window = slice(full, 125, 300); // starts 25 s into the 30-s restart
    expect(window.status[0]).toBe(RESTARTING);
    expect(observeDowntimes(window)).toEqual({ restarts: [], rescales: [] });
  });
});

describe('estimateDowntime', () => {
  it('is the prior until something is observed', () => {
    expect(estimateDowntime([], 60)).toBe(60);
  });

  it('is a high (0.9) quantile of the observations, not the prior, once there are some', () => {
    expect(estimateDowntime([20], 60)).toBe(20);
    // One quick restart does not make it optimistic: the slower one counts.
    expect(estimateDowntime([5, 40], 60)).toBe(40);
    // Ten values: the 9th smallest (ceil(0.9·10) = 9).
    const observed = [100, 10, 90, 20, 80, 30, 70, 40, 60, 50];
    expect(estimateDowntime(observed, 1)).toBe(90);
    expect(observed[0]).toBe(100); // the input is not sorted in place
    // Twenty values: the 18th smallest.
    expect(estimateDowntime(Array.from({ length: 20 }, (_, i) => i + 1), 1)).toBe(18);
  });
});
