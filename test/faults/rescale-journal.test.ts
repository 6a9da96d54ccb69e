/**
 * The rescale journal (atomic file, refusal of unreadable state) and the recovery rules the
 * SIGKILL matrix does not reach, against the live twin served in process (fast) with fault
 * injection on. A "crash" in process: the step hook never returns, the actuator is abandoned and
 * a new one is built on the same directory. The tests run concurrently, each with its own twin
 * and state directory.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, type TestContext } from 'vitest';
import { FlinkRestActuator, type FlinkRestActuatorOptions } from '../../src/act/flink-rest/actuator.js';
import { silentLogger } from '../../src/act/logger.js';
import {
  FileJournalStore, JournalError, MemoryJournalStore, RescaleJournal, journalFileName, parseRecord, type RescaleRecord,
} from '../../src/act/flink-rest/journal.js';
import type { Scenario } from '../../src/config/scenario.js';
import { JAR_NAME, LiveCluster } from '../../src/sim/live/live-cluster.js';
import { startLiveTwinServer, type LiveTwinServer } from '../../src/sim/live/server.js';

const base = mkdtempSync(join(tmpdir(), 'phoebe-journal-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const newDir = (): string => mkdtempSync(join(base, `d${++n}-`));

function scenario(): Scenario {
  return {
    name: 'journal', trace: { file: 'inline', scale: 1 }, tracePath: 'inline', source: 'inline', seed: 3,
    twin: {
      capacity: { model: 'linear', intercept: 0, perSlot: 1000 }, noise: { capacity: 0 }, checkpointIntervalSeconds: 10,
      restartDowntimeSeconds: 10, rescaleDowntimeSeconds: 4, baseLatencySeconds: 0.2, minParallelism: 1, maxParallelism: 16, initialParallelism: 2,
    },
    failures: { atSeconds: [] },
    slo: { recoveryTimeSeconds: 60, latencySeconds: 1 },
  };
}

/** A twin for one test, closed when that test ends (the tests run concurrently, each with its own). */
async function twin(onTestFinished: TestContext['onTestFinished']): Promise<{ cluster: LiveCluster; server: LiveTwinServer }> {
  const cluster = new LiveCluster({ scenario: scenario(), arrivals: new Float64Array(3_600).fill(1_500), seed: 3, speed: 20, startWallMs: Date.now() });
  const server = await startLiveTwinServer({ cluster, port: 0, faults: true });
  onTestFinished(() => server.close());
  return { cluster, server };
}

function actuator(url: string, dir: string, options: Partial<FlinkRestActuatorOptions> = {}): FlinkRestActuator {
  return new FlinkRestActuator({
    restUrl: url, jobName: 'journal', jarName: JAR_NAME, stateDirectory: dir,
    pollIntervalMs: 20, requestTimeoutMs: 1_000, savepointTimeoutMs: 2_000, runningTimeoutMs: 3_000, logger: silentLogger, ...options,
  });
}

/** An actuator that "crashes" right after `step`: the hook never returns. Resolves when it got there. */
function crashingAt(url: string, dir: string, step: string): { actuator: FlinkRestActuator; reached: Promise<RescaleRecord> } {
  let reach: (r: RescaleRecord) => void = () => undefined;
  const reached = new Promise<RescaleRecord>((resolve) => { reach = resolve; });
  const a = actuator(url, dir, {
    onStep: (s, record) => {
      if (s !== step) return undefined;
      reach(record);
      return new Promise<void>(() => undefined); // never: this "process" is gone
    },
  });
  return { actuator: a, reached };
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.concurrent('rescale journal file', () => {
  it('writes atomically: one JSON file, mode 0600, no temporary files left, every step recorded', async ({ expect, onTestFinished }) => {
    const { server } = await twin(onTestFinished);
    const dir = newDir();
    const result = await actuator(server.url, dir).rescale({ parallelism: 4, reason: 'test' });
    expect(result.outcome).toBe('completed');
    expect(readdirSync(dir)).toEqual([journalFileName('journal')]);
    const path = join(dir, journalFileName('journal'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const record = parseRecord(readFileSync(path, 'utf8'), path);
    expect(record).toMatchObject({ version: 1, key: 'journal', phase: 'done', from: 2, to: 4, resultParallelism: 4, submissions: 1 });
    expect(record.triggerId).toMatch(/^[0-9a-f]{32}$/);
    expect(record.submission).toMatchObject({ kind: 'forward', parallelism: 4 });
    expect(record.savepoint).toMatch(/^file:\/flink-data\/savepoints\/savepoint-/);
    expect(record.steps.map((s) => s.phase)).toEqual(['requested', 'savepoint-triggered', 'savepoint-completed', 'job-stopped', 'resubmitting', 'resubmitted', 'done']);
  });

  it('file names keep different jobs apart', ({ expect }) => {
    expect(journalFileName('orders/enrichment')).not.toBe(journalFileName('orders_enrichment'));
    expect(journalFileName('../../etc/passwd')).toMatch(/^flink-rest-rescale-etc_passwd-[0-9a-f]{8}\.json$/);
  });

  it('an unwritable state directory fails at construction, naming the directory', ({ expect }) => {
    const file = join(newDir(), 'a-file');
    writeFileSync(file, 'x');
    expect(() => actuator('http://127.0.0.1:9', join(file, 'journal'))).toThrow(JournalError);
    expect(() => actuator('http://127.0.0.1:9', join(file, 'journal'))).toThrow(/state directory .*a-file\/journal is not writable \(ENOTDIR\)/);
  });

  it('a corrupt or foreign journal stops rescales (nothing sent) until it is fixed', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const path = join(dir, journalFileName('journal'));
    writeFileSync(path, '{"version": 1, "phase": "resubm');
    const a = actuator(server.url, dir);
    const refused = await a.rescale({ parallelism: 4, reason: 'r' });
    expect(refused.outcome).toBe('failed');
    expect(refused.detail).toMatch(/rescale journal unusable \(rescale journal .* is not valid JSON\); fix or remove it, nothing was done/);
    expect(cluster.jobs).toHaveLength(1);
    expect(cluster.twin.parallelism).toBe(2);

    const other = new RescaleJournal(new MemoryJournalStore(), 'another-job');
    const foreign = other.begin({ id: 'x', from: 2, to: 3, reason: 'r', oldJobId: cluster.currentJob.id, jobName: 'another-job', jarId: cluster.jarId, triggerId: 'a'.repeat(32) });
    writeFileSync(path, JSON.stringify(foreign));
    expect((await a.rescale({ parallelism: 4, reason: 'r' })).detail).toContain('belongs to job "another-job"');

    rmSync(path); // the operator removed it: the next rescale reads the directory again
    expect(await a.rescale({ parallelism: 4, reason: 'r' })).toMatchObject({ outcome: 'completed', parallelism: 4 });
  });

  it('parseRecord names what is wrong', ({ expect }) => {
    expect(() => parseRecord('{"version": 2}', 'f.json')).toThrow('has version 2, expected 1');
    expect(() => parseRecord('{"version": 1, "phase": "dancing"}', 'f.json')).toThrow(/malformed \(phase/);
  });

  it('a journal that cannot be written before the stop: the job is not touched', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const journal = new RescaleJournal({ location: 'broken', load: () => undefined, save: () => { throw new JournalError('disk full'); } }, 'journal');
    expect(() => journal.begin({ id: 'x', from: 2, to: 4, reason: 'r', oldJobId: cluster.currentJob.id, jobName: 'journal', jarId: cluster.jarId, triggerId: 'b'.repeat(32) })).toThrow('disk full');
    expect(journal.unfinished).toBeUndefined(); // a failed begin leaves no unfinished rescale behind
    // Through the actuator: the directory disappears after construction, so no record can be written.
    const dir = newDir();
    const a = actuator(server.url, dir);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory any more');
    const result = await a.rescale({ parallelism: 4, reason: 'r' });
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/cannot record the rescale \(cannot write rescale journal .*\); job [0-9a-f]{32} left running/);
    expect(server.faults!.requests.filter((r) => r.route === 'stop')).toHaveLength(0);
    expect(cluster.twin.parallelism).toBe(2);
  });

  it('a journal write failing after the stop does not leave the job down: the rescale goes on from memory', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const a = actuator(server.url, dir, {
      onStep: (step) => {
        if (step !== 'savepoint-triggered') return;
        rmSync(dir, { recursive: true });
        writeFileSync(dir, 'not a directory any more');
      },
    });
    const result = await a.rescale({ parallelism: 4, reason: 'r' });
    expect(result, result.detail).toMatchObject({ outcome: 'completed', parallelism: 4 });
    expect(cluster.twin.parallelism).toBe(4);
    expect(a.lastRescale?.phase).toBe('done');
  });
});

describe.concurrent('recovery rules', () => {
  it('after a restart, the journal tells the job id: a jobId-configured phoebe follows the resubmitted job', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const first = cluster.currentJob.id;
    const options = { jobId: first, jobName: undefined } as Partial<FlinkRestActuatorOptions>;
    const before = actuator(server.url, dir, options);
    expect((await before.rescale({ parallelism: 4, reason: 'r' })).outcome).toBe('completed');
    const restarted = actuator(server.url, dir, options);
    expect(restarted.jobId).toBe(cluster.currentJob.id);
    expect(restarted.jobId).not.toBe(first);
    expect(await restarted.currentParallelism()).toBe(4);

    // A journal from another cluster names a job this one does not know: the configured id still works.
    const other = await twin(onTestFinished);
    const dir2 = newDir();
    const configured = other.cluster.currentJob.id; // the journal's key is the configured job id
    const stale = new RescaleJournal(new FileJournalStore(dir2, configured), configured);
    stale.begin({ id: 'old', from: 2, to: 4, reason: 'r', oldJobId: configured, jobName: 'journal', jarId: 'j', triggerId: 'c'.repeat(32) });
    stale.advance('done', { resultJobId: 'a'.repeat(32), resultParallelism: 4 });
    const fresh = actuator(other.server.url, dir2, { jobId: configured, jobName: undefined });
    expect(fresh.jobId).toBe('a'.repeat(32));
    expect(await fresh.currentParallelism()).toBe(2);
    expect(fresh.jobId).toBe(configured);
  });

  it('a job of that name started by someone else after the stop is adopted, not doubled', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const crash = crashingAt(server.url, dir, 'job-stopped');
    void crash.actuator.rescale({ parallelism: 4, reason: 'r' });
    const record = await crash.reached;
    // While phoebe is gone, an operator starts the job again from that savepoint, at 3.
    const run = await post(server.url, `/jars/${cluster.jarId}/run`, { savepointPath: record.savepoint, parallelism: 3 });
    expect(run.status).toBe(200);
    const recovered = await actuator(server.url, dir).recover();
    expect(recovered).toMatchObject({ outcome: 'failed', parallelism: 3 });
    expect(recovered!.detail).toMatch(/was started by someone else after the stop and runs at 3; phoebe adopted it and submitted nothing/);
    const journal = new RescaleJournal(new FileJournalStore(dir, 'journal'), 'journal').latest!;
    expect(journal).toMatchObject({ phase: 'done', resultJobId: run.body.jobid, resultParallelism: 3, submissions: 0 });
    expect(cluster.jobs).toHaveLength(2);
    expect(server.faults!.requests.filter((r) => r.route === 'run')).toHaveLength(1);
  });

  it('a trigger the JobManager does not know while the job is stopped: phoebe refuses to guess and says what to do', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const jobId = cluster.currentJob.id;
    // Someone stopped the job with their own trigger; the journal claims one Flink never saw (or forgot).
    expect((await post(server.url, `/jobs/${jobId}/stop`, {})).status).toBe(202);
    await until(() => cluster.jobState(cluster.jobs[0]!) === 'FINISHED');
    const journal = new RescaleJournal(new FileJournalStore(dir, 'journal'), 'journal');
    journal.begin({ id: 'forgotten', from: 2, to: 4, reason: 'r', oldJobId: jobId, jobName: 'journal', jarId: cluster.jarId, triggerId: 'c'.repeat(32) });
    journal.advance('savepoint-triggered');
    const a = actuator(server.url, dir);
    const recovered = await a.recover();
    expect(recovered!.outcome).toBe('failed');
    expect(recovered!.detail).toMatch(/trigger c{32} is unknown to the JobManager .* is FINISHED: the savepoint location cannot be told; resubmit the job from its latest savepoint and remove .*\.json/);
    expect(a.hasUnfinishedRescale).toBe(true);
    expect((await a.rescale({ parallelism: 5, reason: 'r' })).outcome).toBe('failed');
    expect(server.faults!.requests.filter((r) => r.route === 'run')).toHaveLength(0);
  });

  it('resuming while Flink is unreachable changes nothing and says so; once it is back the rescale completes', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const crash = crashingAt(server.url, dir, 'resubmitting');
    void crash.actuator.rescale({ parallelism: 4, reason: 'r' });
    await crash.reached;
    server.faults!.arm([{ fault: 'unavailable', seconds: 1, mode: 'drop' }]);
    const a = actuator(server.url, dir);
    const down = await a.recover();
    expect(down!.outcome).toBe('failed');
    expect(down!.detail).toMatch(/cannot tell whether job [0-9a-f]{32} was submitted \(Flink unreachable\)/);
    expect(new RescaleJournal(new FileJournalStore(dir, 'journal'), 'journal').latest!.phase).toBe('resubmitting');
    await until(() => server.faults!.state().unavailableForMs === 0); // Flink is back
    expect(await a.recover()).toMatchObject({ outcome: 'completed', parallelism: 4 });
    expect(cluster.twin.parallelism).toBe(4);
  });

  it('keepRecovering resumes only while the instance may act (e.g. holds the leader lease)', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    const dir = newDir();
    const crash = crashingAt(server.url, dir, 'resubmitted');
    void crash.actuator.rescale({ parallelism: 4, reason: 'r' });
    await crash.reached;
    const follower = actuator(server.url, dir);
    let leader = false;
    const stop = follower.keepRecovering(30, () => leader);
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(follower.hasUnfinishedRescale).toBe(true);
      leader = true;
      await until(() => !follower.hasUnfinishedRescale, 5_000);
    } finally {
      stop();
    }
    expect(follower.lastRescale).toMatchObject({ phase: 'done', resultParallelism: 4 });
    await until(() => cluster.twin.parallelism === 4 && cluster.twin.status === 'RUNNING');
  });

  it('a second rescale never starts while one is unfinished, in this process or the next', async ({ expect, onTestFinished }) => {
    const { server } = await twin(onTestFinished);
    const dir = newDir();
    const crash = crashingAt(server.url, dir, 'savepoint-completed');
    void crash.actuator.rescale({ parallelism: 4, reason: 'r' });
    await crash.reached;
    const journal = new RescaleJournal(new FileJournalStore(dir, 'journal'), 'journal');
    expect(() => journal.begin({ id: 'y', from: 2, to: 5, reason: 'r', oldJobId: 'd'.repeat(32), jobName: 'journal', jarId: 'j', triggerId: 'e'.repeat(32) })).toThrow(/unfinished \(savepoint-completed\); not starting another/);
    // A new decision for 5 finishes the interrupted rescale (at 5: nothing was resubmitted yet) instead of starting another.
    const next = await actuator(server.url, dir).rescale({ parallelism: 5, reason: 'r' });
    expect(next).toMatchObject({ outcome: 'completed', parallelism: 5 });
    expect(next.detail).toMatch(/^resumed rescale /);
    expect(server.faults!.requests.filter((r) => r.route === 'stop')).toHaveLength(1);
    expect(existsSync(join(dir, journalFileName('journal')))).toBe(true);
  });

  it('a journal about jobs this JobManager never knew (another cluster, or lost without HA): a running job of that name is adopted', async ({ expect, onTestFinished }) => {
    const { server, cluster } = await twin(onTestFinished);
    for (const phase of ['savepoint-triggered', 'resubmitted'] as const) {
      const dir = newDir();
      const journal = new RescaleJournal(new FileJournalStore(dir, 'journal'), 'journal');
      journal.begin({ id: `stale-${phase}`, from: 2, to: 4, reason: 'r', oldJobId: 'f'.repeat(32), jobName: 'journal', jarId: cluster.jarId, triggerId: 'c'.repeat(32) });
      if (phase === 'resubmitted') {
        journal.advance('savepoint-completed', { savepoint: 'file:/elsewhere/savepoint-1' });
        journal.advance('resubmitting', { submission: { jobId: 'e'.repeat(32), parallelism: 4, kind: 'forward' }, submissions: 1 });
      }
      journal.advance(phase);
      const recovered = await actuator(server.url, dir).recover();
      expect(recovered!.detail, phase).toMatch(/started by someone else after the stop and runs at 2; phoebe adopted it and submitted nothing/);
      expect(new RescaleJournal(new FileJournalStore(dir, 'journal'), 'journal').latest).toMatchObject({ phase: 'done', resultJobId: cluster.currentJob.id });
    }
    expect(cluster.jobs).toHaveLength(1);
    expect(server.faults!.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});
