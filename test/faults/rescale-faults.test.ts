/**
 * The flink-rest rescale under injected faults, each scenario against a fresh live twin with fault
 * injection, served over HTTP by the twin host process (the CLI's `phoebe twin --faults` start-up).
 * In-process: the actuator with a file journal meets each fault of the twin's /__faults route.
 * SIGKILL: a driver process (rescale-driver.ts) is killed right after each step of the protocol
 * and a new actuator in another process (the driver's --serve mode) resumes from the journal it
 * left. Every scenario ends with the invariants of harness.settled().
 *
 * The scenarios run concurrently (vitest's maxConcurrency at a time): each has its own twin,
 * journal directory and driver processes, and none measures wall time against another; the
 * timing bounds some of them assert are relative to their own timeouts and fault durations.
 * The results become a table (reliability-table.ts) written to a temporary file — or to
 * $PHOEBE_FAULTS_REPORT, from which `npm run bench:faults` copies it into BENCHMARKS.md.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import type { RescaleResult } from '../../src/act/actuator.js';
import { FlinkRestActuator, type FlinkRestActuatorOptions } from '../../src/act/flink-rest/actuator.js';
import { FileJournalStore, RescaleJournal, type RescaleRecord } from '../../src/act/flink-rest/journal.js';
import { JAR_NAME } from '../../src/sim/live/live-cluster.js';
import type { FaultSpec } from '../../src/sim/live/fault-injection.js';
import {
  DriverHost, INITIAL_P, JOB, SPEED, TwinHost, countRequests, ensureFaultsBuilt, injectFaults, runDriver, settled, sleep, trail, twinState,
  waitForTwin, writeScenario, type DriverRun, type TwinProcess,
} from './harness.js';
import { REPO_ROOT, reportSection, writeBenchmarkSection } from '../bench/benchmarks-file.js';
import { reliabilitySection, type ReliabilityRow } from './reliability-table.js';
import { RecordingLogger } from '../support/recording-logger.js';

const base = mkdtempSync(join(tmpdir(), 'phoebe-faults-'));
const rows = new Map<string, ReliabilityRow>();
/** Every scenario's fault, in the order declared (the table's order; scenarios end in any order). */
const declared: string[] = [];
let host: TwinHost;
let takeover: DriverHost;
let scenarioFile: string;
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

/** A new journal directory and an actuator on the twin, once `faults` are armed there; rescale() asks for 6. */
async function armed(twin: TwinProcess, faults: FaultSpec[], options: Partial<FlinkRestActuatorOptions> = {}): Promise<{ dir: string; actuator: FlinkRestActuator; rescale: () => Promise<RescaleResult> }> {
  const dir = stateDir();
  const actuator = actuatorFor(twin, dir, options);
  await injectFaults(twin.url, faults);
  return { dir, actuator, rescale: () => actuator.rescale({ parallelism: 6, reason: 'r' }) };
}

/** The journal as a new process would read it from disk. */
function journalOnDisk(directory: string): RescaleRecord | undefined {
  return new RescaleJournal(new FileJournalStore(directory, JOB), JOB).latest;
}

type ScenarioBody = (twin: TwinProcess, expect: ExpectStatic) => Promise<{ did: string; parallelism: number }>;

/** A test that runs `body` on a fresh twin, checks the invariants at its end and records its row. */
function scenario(title: string, fault: string, body: ScenarioBody): void {
  declared.push(fault);
  it(title, ({ expect }) => runScenario(fault, body, expect));
}

async function runScenario(fault: string, body: ScenarioBody, expect: ExpectStatic): Promise<void> {
  const twin = await host.twin(scenarioFile);
  try {
    const { did, parallelism } = await body(twin, expect);
    const end = await settled(twin.url, parallelism);
    const restores = end.state.jobs.slice(1);
    const failed = restores.filter((j) => j.state === 'FAILED').length;
    const finalState = `${end.job.state}, ${end.state.activeJobs} job active; ${restores.length} submission(s)${failed ? ` (${failed} FAILED)` : ''}, ${restores.length ? 'all' : 'none'} from the latest stop's savepoint`;
    rows.set(fault, { fault, did, finalState, parallelism: `${INITIAL_P} → ${end.job.parallelism}`, lost: end.lost });
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- twin ---\n${twin.log().slice(-2_000)}`);
  } finally {
    // Not in the way of the scenario's own error: if the host is gone, so is the twin.
    await twin.stop().catch(() => undefined);
  }
}

const outcome = (r: RescaleResult | undefined | null): string => (r ? r.outcome : 'nothing to do');

beforeAll(async () => {
  ensureFaultsBuilt();
  scenarioFile = writeScenario(join(base, 'scenario'));
  host = new TwinHost();
  takeover = new DriverHost();
  // The host's start-up (module loading, schema compilation) is no scenario's: one twin now.
  await (await host.twin(scenarioFile, 60_000)).stop();
}, 120_000);

afterAll(async () => {
  await Promise.all([host?.close(), takeover?.close()]);
  rmSync(base, { recursive: true, force: true });
  // The table only from a run of every scenario, all passed; `npm run bench:faults` copies the
  // report into BENCHMARKS.md (a test run cannot write it).
  if (rows.size === declared.length) {
    reportSection('faults', reliabilitySection(declared.map((fault) => rows.get(fault)!), { seconds: (Date.now() - startedAt) / 1000, speed: SPEED }));
  }
}, 30_000);

it('a test run cannot write BENCHMARKS.md: the table goes there from npm run bench:faults only', ({ expect }) => {
  const file = join(REPO_ROOT, 'BENCHMARKS.md');
  const before = readFileSync(file, 'utf8');
  expect(() => writeBenchmarkSection('faults', '## not from a test')).toThrow('never by a test run');
  expect(readFileSync(file, 'utf8')).toBe(before);
});

describe.concurrent('flink-rest rescale against injected faults (actuator in process, journal on disk)', () => {
  scenario('no fault: the reference rescale journals every step and ends done', 'none (reference)', async (twin, expect) => {
    const dir = stateDir();
    const actuator = actuatorFor(twin, dir);
    const r = await actuator.rescale({ parallelism: 6, reason: 'reference' });
    expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
    const j = journalOnDisk(dir)!;
    expect(j.steps.map((s) => s.phase)).toEqual(['requested', 'savepoint-triggered', 'savepoint-completed', 'job-stopped', 'resubmitting', 'resubmitted', 'done']);
    expect(j).toMatchObject({ phase: 'done', from: 4, to: 6, resultParallelism: 6, resultJobId: actuator.jobId });
    return { did: `rescale ${outcome(r)}; journal ${trail(j)}`, parallelism: 6 };
  });

  scenario('savepoint fails: the job keeps running, the rescale is aborted, the next one succeeds', 'savepoint fails', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'savepoint-fails' }]);
    const job = (await twinState(twin.url)).jobs[0]!.id;
    const r1 = await rescale();
    expect(r1).toMatchObject({ outcome: 'failed', parallelism: 4 });
    expect(r1.detail).toMatch(/savepoint failed .*Failure to finalize checkpoint.*is RUNNING, not resubmitted/);
    const j1 = journalOnDisk(dir)!;
    expect(j1.phase).toBe('aborted');
    await settled(twin.url, 4); // untouched: same job, still at 4
    expect((await twinState(twin.url)).jobs.map((j) => j.id)).toEqual([job]);
    const r2 = await rescale();
    expect(r2).toMatchObject({ outcome: 'completed', parallelism: 6 });
    return { did: `rescale ${outcome(r1)}: savepoint failed, job kept running at 4 [${trail(j1)}]; next rescale ${outcome(r2)} [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
  });

  scenario('savepoint never completes: bounded wait, no second stop while it hangs, then it expires and the next rescale succeeds', 'savepoint never completes (hangs 2.5 s, then expires)', async (twin, expect) => {
    const { dir, actuator, rescale } = await armed(twin, [{ fault: 'savepoint-hangs', seconds: 2.5 }], { savepointTimeoutMs: 700 });
    const t0 = Date.now();
    const r1 = await rescale();
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(r1.outcome).toBe('failed');
    expect(r1.detail).toMatch(/savepoint not completed within 0\.7 s \(last: IN_PROGRESS\); job [0-9a-f]{32} is RUNNING/);
    expect(journalOnDisk(dir)!.phase).toBe('savepoint-triggered');
    expect(actuator.hasUnfinishedRescale).toBe(true);
    const r2 = await rescale();
    expect(r2.detail).toContain('still in progress; not starting another');
    expect(await countRequests(twin.url, 'stop')).toBe(1);
    const outcomes = [outcome(r1), `${outcome(r2)} (still in progress)`];
    let last: RescaleResult = r2;
    for (let i = 0; i < 8 && last.outcome !== 'completed'; i++) {
      last = await rescale();
      outcomes.push(last.outcome);
    }
    expect(last).toMatchObject({ outcome: 'completed', parallelism: 6 });
    expect(await countRequests(twin.url, 'stop')).toBe(2);
    return { did: `rescales: ${outcomes.join(', ')} — the hung savepoint expired (aborted, job kept running), then a fresh stop [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
  });

  scenario('stop request fails (HTTP 500): the trigger is unknown and the job runs, so the rescale is aborted; the next one succeeds', 'stop request fails (HTTP 500)', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'stop-error', status: 500 }]);
    const r1 = await rescale();
    expect(r1).toMatchObject({ outcome: 'failed', parallelism: 4 });
    expect(r1.detail).toMatch(/HTTP 500.*is RUNNING, not stopped/);
    const j1 = journalOnDisk(dir)!;
    expect(j1.phase).toBe('aborted');
    await settled(twin.url, 4);
    const r2 = await rescale();
    expect(r2).toMatchObject({ outcome: 'completed', parallelism: 6 });
    return { did: `rescale ${outcome(r1)}: trigger unknown, job untouched at 4 [${trail(j1)}]; next rescale ${outcome(r2)}`, parallelism: 6 };
  });

  scenario('jar run fails (HTTP 500): resubmitted at the old parallelism from the same savepoint', 'jar run fails (HTTP 500)', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'run-error', status: 500 }]);
    const r = await rescale();
    expect(r).toMatchObject({ outcome: 'failed', parallelism: 4 });
    expect(r.detail).toMatch(/resubmission at 6 failed \(.*HTTP 500.*\); restored from savepoint .* running at 4/);
    const j = journalOnDisk(dir)!;
    expect(j).toMatchObject({ phase: 'rolled-back', submissions: 2, resultParallelism: 4 });
    const state = await twinState(twin.url);
    expect(state.jobs).toHaveLength(2);
    expect(state.jobs[1]!.savepointPath).toBe(j.savepoint);
    return { did: `rescale ${outcome(r)}: run refused, rolled back to 4 from the same savepoint [${trail(j)}]`, parallelism: 4 };
  });

  scenario('the resubmitted job fails at the new parallelism: rolled back to the old one from the same savepoint', 'new job fails at 6 (no resources)', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'job-fails', parallelism: 6 }]);
    const r = await rescale();
    expect(r).toMatchObject({ outcome: 'failed', parallelism: 4 });
    expect(r.detail).toMatch(/as job [0-9a-f]{32}, but it ended \(job FAILED.*restored from savepoint .* running at 4/);
    const j = journalOnDisk(dir)!;
    expect(j).toMatchObject({ phase: 'rolled-back', resultParallelism: 4 });
    const state = await twinState(twin.url);
    expect(state.jobs.map((x) => x.state)).toEqual(['FINISHED', 'FAILED', 'RUNNING']);
    return { did: `rescale ${outcome(r)}: job at 6 FAILED, rolled back to 4 [${trail(j)}]`, parallelism: 4 };
  });

  scenario('REST unreachable for 1.5 s after the stop (connections dropped): the polls ride it out', 'REST unreachable 1.5 s after the stop (dropped connections)', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'unavailable', seconds: 1.5, after: 'stop', mode: 'drop' }]);
    const r = await rescale();
    expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
    expect((await twinState(twin.url)).fired.map((f) => f.fault)).toEqual(['unavailable']);
    return { did: `rescale ${outcome(r)} after the outage [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
  });

  scenario('REST answers 503 for 1.5 s after the run: the wait for RUNNING rides it out', 'REST 503 for 1.5 s after the jar run', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'unavailable', seconds: 1.5, after: 'run', mode: '503' }]);
    const r = await rescale();
    expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
    return { did: `rescale ${outcome(r)} after the outage [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
  });

  scenario('REST unreachable longer than the savepoint timeout: the rescale gives up unfinished, the recovery loop finishes it', 'REST unreachable 3 s after the stop (beyond phoebe\'s timeouts)', async (twin, expect) => {
    const { dir, actuator, rescale } = await armed(twin, [{ fault: 'unavailable', seconds: 3, after: 'stop', mode: 'drop' }], { savepointTimeoutMs: 800 });
    const r1 = await rescale();
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

  scenario('slow responses (every answer 300 ms late): completes, slower', 'slow responses (+300 ms each)', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'slow', ms: 300, on: 'any' }]);
    const r = await rescale();
    expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
    expect(r.seconds).toBeGreaterThan(2); // ~10 requests, each 300 ms late
    return { did: `rescale ${outcome(r)}, every request 300 ms late [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
  });

  scenario('stop and run slower than the request timeout: found by the ids phoebe chose, sent at most twice, one job', 'stop and run answered after phoebe\'s request timeout', async (twin, expect) => {
    const { dir, rescale } = await armed(twin, [{ fault: 'slow', ms: 1_200, on: 'stop', count: 1 }, { fault: 'slow', ms: 1_200, on: 'run', count: 1 }], { requestTimeoutMs: 600 });
    const r = await rescale();
    expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
    // The first stop and run are executed late (held 1.2 s): the stop is de-duplicated, the run
    // refused as a duplicate job id. Judge once the twin holds no request back any more.
    const state = await waitForTwin(twin.url, 'the held stop and run to be executed', (s) => s.heldRequests === 0 && (s.routeCounts.stop ?? 0) >= 2 && (s.routeCounts.run ?? 0) >= 2);
    expect(state.routeCounts.stop).toBe(2);
    expect(state.routeCounts.run).toBe(2);
    expect(state.jobs).toHaveLength(2);
    return { did: `rescale ${outcome(r)}: unanswered stop and run re-sent with the same trigger/job id (2 each; one job) [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
  });

  const LOST_ANSWERS = [
    { on: 'run', title: 'the answer to the jar run is lost after the job was submitted: found by its job id, not submitted twice', fault: 'jar run executed, answer lost', did: 'job found by the id phoebe chose, 1 submission' },
    { on: 'stop', title: 'the answer to the stop is lost after it was registered: followed by its trigger id', fault: 'stop executed, answer lost', did: 'the savepoint found by phoebe\'s trigger id, 1 stop' },
  ] as const;
  for (const lost of LOST_ANSWERS) {
    scenario(lost.title, lost.fault, async (twin, expect) => {
      const { dir, rescale } = await armed(twin, [{ fault: 'lose-answer', on: lost.on }]);
      const r = await rescale();
      expect(r).toMatchObject({ outcome: 'completed', parallelism: 6 });
      expect(await countRequests(twin.url, lost.on)).toBe(1);
      return { did: `rescale ${outcome(r)}: ${lost.did} [${trail(journalOnDisk(dir))}]`, parallelism: 6 };
    });
  }
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

describe.concurrent('phoebe SIGKILLed between the steps of a rescale; another process resumes or rolls back from the journal', () => {
  for (const c of KILLS) {
    scenario(c.name, c.name, async (twin, expect) => {
      const dir = stateDir();
      if (c.faults) await injectFaults(twin.url, c.faults);
      const common = { restUrl: twin.url, stateDirectory: dir, jobName: JOB, jarName: JAR_NAME };
      const killed: DriverRun = await runDriver({ ...common, action: 'rescale', parallelism: 6, pauseAfter: c.pauseAfter });
      expect(killed.paused, killed.stderr).toBe(c.pauseAfter);
      expect(killed.signal).toBe('SIGKILL');
      const left = journalOnDisk(dir)!;
      expect(left.phase === 'done' || left.phase === 'rolled-back' || left.phase === 'aborted').toBe(false);

      const resumed = await takeover.run({ ...common, ...c.then });
      expect(resumed.code, resumed.stderr).toBe(0);
      const j = resumed.journal!;
      expect(j.id).toBe(left.id); // the same rescale, resumed
      expect(j.phase).toBe(c.expectPhase);
      expect(journalOnDisk(dir)!.phase).toBe(c.expectPhase);
      const state = await twinState(twin.url);
      expect(state.routeCounts.stop ?? 0).toBe(c.expectStops);
      expect(state.routeCounts.run ?? 0).toBe(c.expectRuns);
      const next = c.then.action === 'recover' ? 'another process: recover' : `another process: rescale to ${c.then.parallelism}`;
      return {
        did: `killed at \`${c.pauseAfter}\` (journal: ${left.phase}); ${next} → ${outcome(resumed.result)} [${trail(j)}]`,
        parallelism: c.expectParallelism,
      };
    });
  }
});
