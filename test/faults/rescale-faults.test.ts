/**
 * The flink-rest rescale under injected faults, against real `phoebe twin --faults` processes.
 * In-process: the actuator with a file journal meets each fault of the twin's /__faults route.
 * SIGKILL: a driver process (rescale-driver.ts) is killed right after each step of the protocol
 * and a new one resumes from the journal it left. Every scenario ends with the invariants of
 * harness.settled(); the results become the `faults` section of BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RescaleResult } from '../../src/act/actuator.js';
import { FlinkRestActuator, type FlinkRestActuatorOptions } from '../../src/act/flink-rest/actuator.js';
import { FileJournalStore, RescaleJournal, type RescaleRecord } from '../../src/act/flink-rest/journal.js';
import { JAR_NAME } from '../../src/sim/live/live-cluster.js';
import type { FaultSpec } from '../../src/sim/live/fault-injection.js';
import {
  INITIAL_P, JOB, SPEED, TwinPool, countRequests, ensureFaultsBuilt, injectFaults, runDriver, settled, sleep, trail, twinState,
  writeScenario, type DriverRun, type TwinProcess,
} from './harness.js';
import { writeReliabilitySection, type ReliabilityRow } from './reliability-table.js';
import { RecordingLogger } from '../support/recording-logger.js';

const base = mkdtempSync(join(tmpdir(), 'phoebe-faults-'));
const rows = new Map<string, ReliabilityRow>();
let pool: TwinPool;
const startedAt = Date.now();


let dirs = 0;
function stateDir(): string {
  return mkdtempSync(join(base, `journal-${++dirs}-`));
}

function actuatorFor(twin: TwinProcess, directory: string, options: Partial<FlinkRestActuatorOptions> = {}): FlinkRestActuator {
  return new FlinkRestActuator({
    restUrl: twin.url, jobName: JOB, jarName: JAR_NAME, stateDirectory: directory,
    pollIntervalMs: 25, requestTimeoutMs: 1_500, savepointTimeoutMs: 3_000, runningTimeoutMs: 4_000,
    logger: new RecordingLogger(), ...options,
  });
}

/** The journal as a new process would read it from disk. */
function journalOnDisk(directory: string): RescaleRecord | undefined {
  return new RescaleJournal(new FileJournalStore(directory, JOB), JOB).latest;
}

const TOTAL_SCENARIOS = 23;

/** Runs a scenario on a fresh twin and records its row. */
async function scenario(fault: string, body: (twin: TwinProcess) => Promise<{ did: string; parallelism: number }>): Promise<void> {
  const twin = await pool.next();
  try {
    const { did, parallelism } = await body(twin);
    const end = await settled(twin.url, parallelism);
    const restores = end.state.jobs.slice(1);
    const failed = restores.filter((j) => j.state === 'FAILED').length;
    const finalState = `${end.job.state}, ${end.state.activeJobs} job active; ${restores.length} submission(s)${failed ? ` (${failed} FAILED)` : ''}, ${restores.length ? 'all' : 'none'} from the latest stop's savepoint`;
    rows.set(fault, { fault, did, finalState, parallelism: `${INITIAL_P} → ${end.job.parallelism}`, lost: end.lost });
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- twin ---\n${twin.log().slice(-2_000)}`);
  } finally {
    pool.release(twin);
  }
}

const outcome = (r: RescaleResult | undefined | null): string => (r ? r.outcome : 'nothing to do');

beforeAll(async () => {
  ensureFaultsBuilt();
  pool = new TwinPool(writeScenario(join(base, 'scenario')));
  // Start the first twins now (their start-up is not any scenario's).
  pool.release(await pool.next());
}, 120_000);

afterAll(async () => {
  await pool?.close();
  rmSync(base, { recursive: true, force: true });
  if (rows.size === TOTAL_SCENARIOS && process.env.PHOEBE_FAULTS_NO_WRITE !== '1') {
    writeReliabilitySection([...rows.values()], { seconds: (Date.now() - startedAt) / 1000, speed: SPEED });
  }
}, 30_000);

describe('flink-rest rescale against injected faults (actuator in process, journal on disk)', () => {
  it('no fault: the reference rescale journals every step and ends done', async () => {
    await scenario('none (reference)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      const r = await actuator.rescale({ parallelism: 6, reason: 'reference' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      const j = journalOnDisk(dir)!;
      expect(j.steps.map((s) => s.phase)).toEqual(['requested', 'savepoint-triggered', 'savepoint-completed', 'job-stopped', 'resubmitting', 'resubmitted', 'done']);
      expect(j).toMatchObject({ phase: 'done', from: 4, to: 6, resultParallelism: 6, resultJobId: actuator.jobId });
      return { did: `rescale ${outcome(r)}; journal ${trail(j)}`, parallelism: 6 };
    });
  });

  it('savepoint fails: the job keeps running, the rescale is aborted, the next one succeeds', async () => {
    await scenario('savepoint fails', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'savepoint-fails' }]);
      const job = (await twinState(twin.url)).jobs[0]!.id;
      const r1 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r1).toMatchObject({ outcome: 'failed', parallelism: 4 });
      expect(r1.detail).toMatch(/savepoint failed .*Failure to finalize checkpoint.*is RUNNING, not resubmitted/);
      const j1 = journalOnDisk(dir)!;
      expect(j1.phase).toBe('aborted');
      await settled(twin.url, 4); // untouched: same job, still at 4
      expect((await twinState(twin.url)).jobs.map((j) => j.id)).toEqual([job]);
      const r2 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r2).toMatchObject({ outcome: 'completed', parallelism: 6 });
      return { did: `rescale ${outcome(r1)}: savepoint failed, job kept running at 4 [${trail(j1)}]; next rescale ${outcome(r2)} [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('savepoint never completes: bounded wait, no second stop while it hangs, then it expires and the next rescale succeeds', async () => {
    await scenario('savepoint never completes (hangs 2.5 s, then expires)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir, { savepointTimeoutMs: 700 });
      await injectFaults(twin.url, [{ fault: 'savepoint-hangs', seconds: 2.5 }]);
      const t0 = Date.now();
      const r1 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(Date.now() - t0).toBeLessThan(3_000);
      expect(r1.outcome).toBe('failed');
      expect(r1.detail).toMatch(/savepoint not completed within 0\.7 s \(last: IN_PROGRESS\); job [0-9a-f]{32} is RUNNING/);
      expect(journalOnDisk(dir)!.phase).toBe('savepoint-triggered');
      expect(actuator.hasUnfinishedRescale).toBe(true);
      const r2 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r2.detail).toContain('still in progress; not starting another');
      expect(await countRequests(twin.url, 'stop')).toBe(1);
      const outcomes = [outcome(r1), `${outcome(r2)} (still in progress)`];
      let last: RescaleResult = r2;
      for (let i = 0; i < 8 && last.outcome !== 'completed'; i++) {
        last = await actuator.rescale({ parallelism: 6, reason: 'r' });
        outcomes.push(last.outcome);
      }
      expect(last).toMatchObject({ outcome: 'completed', parallelism: 6 });
      expect(await countRequests(twin.url, 'stop')).toBe(2);
      return { did: `rescales: ${outcomes.join(', ')} — the hung savepoint expired (aborted, job kept running), then a fresh stop [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('stop request fails (HTTP 500): the trigger is unknown and the job runs, so the rescale is aborted; the next one succeeds', async () => {
    await scenario('stop request fails (HTTP 500)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'stop-error', status: 500 }]);
      const r1 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r1).toMatchObject({ outcome: 'failed', parallelism: 4 });
      expect(r1.detail).toMatch(/HTTP 500.*is RUNNING, not stopped/);
      const j1 = journalOnDisk(dir)!;
      expect(j1.phase).toBe('aborted');
      await settled(twin.url, 4);
      const r2 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r2).toMatchObject({ outcome: 'completed', parallelism: 6 });
      return { did: `rescale ${outcome(r1)}: trigger unknown, job untouched at 4 [${trail(j1)}]; next rescale ${outcome(r2)}`, parallelism: 6 };
    });
  });

  it('jar run fails (HTTP 500): resubmitted at the old parallelism from the same savepoint', async () => {
    await scenario('jar run fails (HTTP 500)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'run-error', status: 500 }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'failed', parallelism: 4 });
      expect(r.detail).toMatch(/resubmission at 6 failed \(.*HTTP 500.*\); restored from savepoint .* running at 4/);
      const j = journalOnDisk(dir)!;
      expect(j).toMatchObject({ phase: 'rolled-back', submissions: 2, resultParallelism: 4 });
      const state = await twinState(twin.url);
      expect(state.jobs).toHaveLength(2);
      expect(state.jobs[1]!.savepointPath).toBe(j.savepoint);
      return { did: `rescale ${outcome(r)}: run refused, rolled back to 4 from the same savepoint [${trail(j)}]`, parallelism: 4 };
    });
  });

  it('the resubmitted job fails at the new parallelism: rolled back to the old one from the same savepoint', async () => {
    await scenario('new job fails at 6 (no resources)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'job-fails', parallelism: 6 }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'failed', parallelism: 4 });
      expect(r.detail).toMatch(/as job [0-9a-f]{32}, but it ended \(job FAILED.*restored from savepoint .* running at 4/);
      const j = journalOnDisk(dir)!;
      expect(j).toMatchObject({ phase: 'rolled-back', resultParallelism: 4 });
      const state = await twinState(twin.url);
      expect(state.jobs.map((x) => x.state)).toEqual(['FINISHED', 'FAILED', 'RUNNING']);
      return { did: `rescale ${outcome(r)}: job at 6 FAILED, rolled back to 4 [${trail(j)}]`, parallelism: 4 };
    });
  });

  it('REST unreachable for 1.5 s after the stop (connections dropped): the polls ride it out', async () => {
    await scenario('REST unreachable 1.5 s after the stop (dropped connections)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'unavailable', seconds: 1.5, after: 'stop', mode: 'drop' }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      expect((await twinState(twin.url)).fired.map((f) => f.fault)).toEqual(['unavailable']);
      return { did: `rescale ${outcome(r)} after the outage [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('REST answers 503 for 1.5 s after the run: the wait for RUNNING rides it out', async () => {
    await scenario('REST 503 for 1.5 s after the jar run', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'unavailable', seconds: 1.5, after: 'run', mode: '503' }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      return { did: `rescale ${outcome(r)} after the outage [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('REST unreachable longer than the savepoint timeout: the rescale gives up unfinished, the recovery loop finishes it', async () => {
    await scenario('REST unreachable 3 s after the stop (beyond phoebe\'s timeouts)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir, { savepointTimeoutMs: 800 });
      await injectFaults(twin.url, [{ fault: 'unavailable', seconds: 3, after: 'stop', mode: 'drop' }]);
      const r1 = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r1.outcome).toBe('failed');
      expect(r1.detail).toContain('savepoint not completed within 0.8 s');
      expect(journalOnDisk(dir)!.phase).toBe('savepoint-triggered');
      // What `phoebe run` does: resume whenever a rescale is unfinished.
      const stop = actuator.keepRecovering(200);
      try {
        const until = Date.now() + 15_000;
        while (actuator.hasUnfinishedRescale && Date.now() < until) await sleep(50);
      } finally {
        stop();
      }
      const j = journalOnDisk(dir)!;
      expect(j).toMatchObject({ phase: 'done', resultParallelism: 6 });
      return { did: `rescale ${outcome(r1)} (savepoint timeout, journal kept); the recovery loop resumed it after the outage [${trail(j)}]`, parallelism: 6 };
    });
  });

  it('slow responses (every answer 300 ms late): completes, slower', async () => {
    await scenario('slow responses (+300 ms each)', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'slow', ms: 300, on: 'any' }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      expect(r.seconds).toBeGreaterThan(2); // ~10 requests, each 300 ms late
      return { did: `rescale ${outcome(r)}, every request 300 ms late [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('stop and run slower than the request timeout: found by the ids phoebe chose, sent at most twice, one job', async () => {
    await scenario('stop and run answered after phoebe\'s request timeout', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir, { requestTimeoutMs: 600 });
      await injectFaults(twin.url, [{ fault: 'slow', ms: 1_200, on: 'stop', count: 1 }, { fault: 'slow', ms: 1_200, on: 'run', count: 1 }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      await sleep(1_500); // the late requests arrive: the stop is de-duplicated, the run refused as a duplicate job id
      const state = await twinState(twin.url);
      expect(state.routeCounts.stop).toBe(2);
      expect(state.routeCounts.run).toBe(2);
      expect(state.jobs).toHaveLength(2);
      return { did: `rescale ${outcome(r)}: unanswered stop and run re-sent with the same trigger/job id (2 each; one job) [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('the answer to the jar run is lost after the job was submitted: found by its job id, not submitted twice', async () => {
    await scenario('jar run executed, answer lost', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'lose-answer', on: 'run' }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      expect(await countRequests(twin.url, 'run')).toBe(1);
      return { did: `rescale ${outcome(r)}: job found by the id phoebe chose, 1 submission [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });

  it('the answer to the stop is lost after it was registered: followed by its trigger id', async () => {
    await scenario('stop executed, answer lost', async (twin) => {
      const dir = stateDir();
      const actuator = actuatorFor(twin, dir);
      await injectFaults(twin.url, [{ fault: 'lose-answer', on: 'stop' }]);
      const r = await actuator.rescale({ parallelism: 6, reason: 'r' });
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      expect(await countRequests(twin.url, 'stop')).toBe(1);
      return { did: `rescale ${outcome(r)}: the savepoint found by phoebe's trigger id, 1 stop [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  });
});

interface KillCase {
  name: string;
  pauseAfter: string;
  faults?: FaultSpec[];
  /** What the replacement process does: recover (phoebe run at start) or a new decision. */
  then: { action: 'recover' } | { action: 'rescale'; parallelism: number };
  expectPhase: RescaleRecord['phase'];
  expectParallelism: number;
  expectStops: number;
  expectRuns: number;
}

const KILLS: KillCase[] = [
  { name: 'SIGKILL after `requested` (stop not sent yet)', pauseAfter: 'requested', then: { action: 'recover' }, expectPhase: 'aborted', expectParallelism: 4, expectStops: 0, expectRuns: 0 },
  { name: 'SIGKILL after the stop was accepted, before it was journalled', pauseAfter: 'stop-sent', then: { action: 'recover' }, expectPhase: 'done', expectParallelism: 6, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after `savepoint-triggered`', pauseAfter: 'savepoint-triggered', then: { action: 'recover' }, expectPhase: 'done', expectParallelism: 6, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after `savepoint-completed`', pauseAfter: 'savepoint-completed', then: { action: 'recover' }, expectPhase: 'done', expectParallelism: 6, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after `job-stopped`; the next decision asks for 5', pauseAfter: 'job-stopped', then: { action: 'rescale', parallelism: 5 }, expectPhase: 'done', expectParallelism: 5, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after `resubmitting` (run not sent yet)', pauseAfter: 'resubmitting', then: { action: 'recover' }, expectPhase: 'done', expectParallelism: 6, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after the run was accepted, before it was journalled', pauseAfter: 'run-sent', then: { action: 'recover' }, expectPhase: 'done', expectParallelism: 6, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after `resubmitted`', pauseAfter: 'resubmitted', then: { action: 'recover' }, expectPhase: 'done', expectParallelism: 6, expectStops: 1, expectRuns: 1 },
  { name: 'SIGKILL after `resubmitted`; the new job fails at 6', pauseAfter: 'resubmitted', faults: [{ fault: 'job-fails', parallelism: 6 }], then: { action: 'recover' }, expectPhase: 'rolled-back', expectParallelism: 4, expectStops: 1, expectRuns: 2 },
  { name: 'SIGKILL during the rollback, after `resubmitting` at 4', pauseAfter: 'resubmitting:rollback', faults: [{ fault: 'job-fails', parallelism: 6 }], then: { action: 'recover' }, expectPhase: 'rolled-back', expectParallelism: 4, expectStops: 1, expectRuns: 2 },
];

describe('phoebe SIGKILLed between the steps of a rescale; a new process resumes or rolls back from the journal', () => {
  for (const c of KILLS) {
    it(c.name, async () => {
      await scenario(c.name, async (twin) => {
        const dir = stateDir();
        if (c.faults) await injectFaults(twin.url, c.faults);
        const common = { restUrl: twin.url, stateDirectory: dir, jobName: JOB, jarName: JAR_NAME };
        const killed: DriverRun = await runDriver({ ...common, action: 'rescale', parallelism: 6, pauseAfter: c.pauseAfter });
        expect(killed.paused, killed.stderr).toBe(c.pauseAfter);
        expect(killed.signal).toBe('SIGKILL');
        const left = journalOnDisk(dir)!;
        expect(left.phase === 'done' || left.phase === 'rolled-back' || left.phase === 'aborted').toBe(false);

        const resumed = await runDriver({ ...common, ...c.then });
        expect(resumed.code, resumed.stderr).toBe(0);
        const j = resumed.journal!;
        expect(j.id).toBe(left.id); // the same rescale, resumed
        expect(j.phase).toBe(c.expectPhase);
        expect(journalOnDisk(dir)!.phase).toBe(c.expectPhase);
        const state = await twinState(twin.url);
        expect(state.routeCounts.stop ?? 0).toBe(c.expectStops);
        expect(state.routeCounts.run ?? 0).toBe(c.expectRuns);
        const next = c.then.action === 'recover' ? 'new process: recover' : `new process: rescale to ${c.then.parallelism}`;
        return {
          did: `killed at \`${c.pauseAfter}\` (journal: ${left.phase}); ${next} → ${outcome(resumed.result)} [${trail(j)}]`,
          parallelism: c.expectParallelism,
        };
      });
    });
  }
});
