import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobParallelism } from '../../../src/act/flink-rest/vertices.js';
import { parsePhoebeConfig } from '../../../src/config/phoebe-config.js';
import { loadScenario } from '../../../src/config/scenario.js';
import { reportSection } from '../../bench/benchmarks-file.js';
import { findPrometheus } from '../../support/prometheus-harness.js';
import { startRealCluster, type RealCluster } from '../../support/real-cluster/cluster.js';
import {
  getJob, runJar, stopWithSavepoint, uploadJar, waitForCheckpoints, waitForJobRunning, waitForJobState, type JobDetails,
} from '../../support/real-cluster/flink-rest.js';
import { cacheDir, FLINK_LINES, repoRoot } from '../../support/real-cluster/maven.js';
import { ADMIN_TOKEN, startPhoebe, type PhoebeLogLine, type PhoebeProcess } from '../../support/real-cluster/phoebe.js';
import { liveProcesses } from '../../support/real-cluster/processes.js';
import { instant, metricNames, range } from '../../support/real-cluster/prom-query.js';
import { formatRealFlinkSection, type LineReport, type RescaleMeasurement } from '../../support/real-cluster/report.js';
import { mean, relativeError, watchDowntime, type DowntimeWatch } from '../../support/real-cluster/run-watch.js';
import { constantRateTrace, startGenerator, verifyOutput, watchOffsets, type GeneratorRun, type OffsetWatch } from '../../support/real-cluster/tools.js';

/**
 * phoebe against a real Flink job on a real Kafka, scraped by a real Prometheus (EVALUATION.md
 * §4): a Flink session cluster from Maven Central's artifacts (two TaskManagers) runs the job of
 * test/flink-job — KafkaSource → keyBy → "cost" (2 ms per record, so 500 records/s per
 * subtask) → exactly-once KafkaSink — while a generator writes a stepped load (1,100 records/s,
 * then 150). Per Flink line ($PHOEBE_FLINK_LINES, default `1.20,2`), in order:
 *   1. signals: the job at parallelism 1 falls behind; `phoebe run` in recommend mode reads it
 *      from Prometheus; every signal agrees with the ground truth over 30 s windows (arrival
 *      with what the generator sent, lag with Kafka's end offsets minus the group's committed
 *      offsets, parallelism with the REST API), and phoebe recommends a scale-up;
 *   2. `phoebe run` in flink-rest mode on the default scheduler scales up (stop-with-savepoint
 *      and a jar run from it);
 *   3. a TaskManager is killed with SIGKILL: the restart is counted, phoebe holds while the job
 *      restarts, makes no rescale on the gap, and resumes;
 *   4. the load falls: a scale-down by the same path — phoebe's, or, when its planner does not
 *      give the capacity back within a minute, an operator's through the admin API (pause, then
 *      force-parallelism; what the planner said is reported);
 *   5. the cluster restarts with the adaptive scheduler, the job resumes with its source pinned
 *      to the 12 partitions, and phoebe rescales in place (PUT resource-requirements) up and
 *      down the same way, the pinned source kept;
 *   6. the twin's scenarios assume no shorter downtimes than were measured.
 * After each step the output topic, read with read_committed, holds every record sent exactly
 * once and the job is RUNNING. What phoebe did and what it cost go to the "real-flink" section of
 * BENCHMARKS.md (through `npm run bench:flink`) and to <cache>/real-cluster/observations-<line>.json.
 * Every process is ended in afterAll, also when a step fails; the last check is that none is left.
 */

const LINES = (process.env.PHOEBE_FLINK_LINES ?? '1.20,2').split(',').map((l) => l.trim()).filter(Boolean);
/** 2 ms per record: one "cost" subtask handles 500 records/s. */
const COST_MICROS = 2000;
const HIGH_RATE = 1100;
const LOW_RATE = 150;
const CHECKPOINT_MS = 3000;
/**
 * Records of about 1 KB: Flink's 32 KiB network buffers between source and "cost" would
 * otherwise hold tens of thousands of records, so a backlog would sit in Flink (invisible to the
 * source's pendingRecords) instead of in Kafka.
 */
const RECORD_BYTES = 1000;
const JOB_NAME = 'phoebe-cost-job';
const GROUP_ID = 'phoebe-cost-job';
const PARTITIONS = 12;
/** The signal windows of step 1, and the tolerance the issue sets. */
const WINDOW_SECONDS = 30;
const TOLERANCE = 0.1;

const prometheusMissing = findPrometheus() === undefined;
if (prometheusMissing) console.warn('real-cluster test skipped: no prometheus binary (npm run pretest:flink installs it)');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const reports: LineReport[] = [];

for (const lineName of LINES) {
  const line = FLINK_LINES[lineName];
  if (!line) throw new Error(`unknown Flink line ${lineName} (known: ${Object.keys(FLINK_LINES).join(', ')})`);

  describe.skipIf(prometheusMissing)(`phoebe on a real Flink ${line.flinkVersion} + Kafka + Prometheus`, () => {
    let cluster: RealCluster | undefined;
    let jarId = '';
    let jobId = '';
    /** The next seq the generator writes = records sent so far (seqs 0..nextSeq-1). */
    let nextSeq = 0;
    let traces = { high: '', low: '' };
    let offsets: OffsetWatch | undefined;
    let downtime: DowntimeWatch | undefined;
    let observer: PhoebeProcess | undefined;
    let actor: PhoebeProcess | undefined;
    const observations: Record<string, unknown> = { line: line.line, flinkVersion: line.flinkVersion };
    const report: LineReport = {
      flinkVersion: line.flinkVersion, kafkaVersion: '', kafkaExporter: '', rescales: [], restarts: [], signals: [], parallelismChecks: [], exactlyOnce: [], plannerHeldScaleDown: [],
    };

    const c = (): RealCluster => {
      if (!cluster) throw new Error('cluster not started');
      return cluster;
    };
    const rest = (): string => c().flink().restUrl;
    const jobArgs = (sourceParallelism: number): string[] => [
      '--bootstrap-servers', c().kafka.bootstrapServers, '--input', c().inputTopic, '--output', c().outputTopic,
      '--cost-micros', String(COST_MICROS), '--source-parallelism', String(sourceParallelism),
      '--checkpoint-interval-ms', String(CHECKPOINT_MS), '--job-name', JOB_NAME, '--group-id', GROUP_ID,
    ];
    /** `phoebe run`'s configuration for this cluster, in the given mode. */
    const phoebeConfig = (mode: 'recommend' | 'flink-rest', sourceParallelism: number): string => [
      `prometheus: { url: "${c().prometheus.url}", timeoutSeconds: 5 }`,
      'job:',
      `  name: ${JOB_NAME}`,
      '  checkpointIntervalSeconds: 3',
      `  kafka: { topic: ${c().inputTopic}, consumerGroup: ${GROUP_ID} }`,
      `  flinkRest: { url: "${rest()}" }`,
      // 30 s of latency is 15,000 records of backlog at parallelism 1: step 1 (600 records/s more
      // than one subtask takes) breaks it within a minute, while a rescale at the low load
      // (a few seconds of downtime, 150 records/s) does not, so a scale-down can pay off.
      'slo: { latencySeconds: 30, recoveryTimeSeconds: 60 }',
      // The two TaskManagers have 8 slots each: the job fits on one after the other is killed.
      'parallelism: { min: 1, max: 6 }',
      // Minutes, not hours: decisions every 5 s, a scale-down 30 s after the last rescale.
      'decision: { intervalSeconds: 5, scaleDownDwellSeconds: 30 }',
      'priors: { restartSeconds: 10, rescaleSeconds: 5 }',
      mode === 'recommend'
        ? 'actuation: { mode: recommend }'
        : `actuation: { mode: flink-rest, flinkRest: { jarName: "${basename(c().jobJar)}", programArgs: ${JSON.stringify(jobArgs(sourceParallelism))}, savepointDirectory: "file://${c().flink().savepointDir}" }, limits: { minSecondsBetweenRescales: 10 } }`,
      'queries: { rateWindow: 10s }',
      'history: { backfillSeconds: 900, stepSeconds: 1 }',
      'admin: { enabled: true }',
    ].join('\n');
    /** The queries phoebe runs, from the same configuration as phoebe parses it. */
    const phoebeQueries = () => parsePhoebeConfig(phoebeConfig('recommend', 0), 'queries', { PHOEBE_ADMIN_TOKEN: ADMIN_TOKEN }, { checkFiles: false }).queries;

    const generate = (name: string, trace: string, seconds: number): { run: GeneratorRun; startedMs: number } => {
      const startedMs = Date.now();
      const run = startGenerator(c().tools, {
        topic: c().inputTopic, trace, compression: 1, scale: 1, durationSeconds: seconds, firstSeq: nextSeq, recordBytes: RECORD_BYTES, name,
      });
      return { run, startedMs };
    };
    /** After a load phase: everything was sent, and the next phase's records follow on. */
    const settleLoad = async (generator: GeneratorRun): Promise<void> => {
      const summary = await generator.done;
      expect(summary.failed).toBe(0);
      nextSeq = summary.nextSeq;
    };
    /** The end of every step: the output holds each record sent exactly once, and the job runs. */
    const expectIntact = async (step: string): Promise<void> => {
      // The last records become visible with the first checkpoint after they are processed.
      const check = await verifyOutput(c().tools, c().outputTopic, nextSeq, 180_000);
      report.exactlyOnce.push({ step, sent: nextSeq, lost: check.missing, duplicated: check.duplicates });
      expect(check, JSON.stringify(check)).toMatchObject({ distinct: nextSeq, missing: 0, duplicates: 0, outside: 0, unparsable: 0, complete: true });
      expect(check.records).toBe(nextSeq);
      expect((await currentJob()).state).toBe('RUNNING');
    };
    /** The job of that name that is running now (its id changes with every resubmission). */
    const currentJob = async (): Promise<JobDetails> => {
      const overview = await (await fetch(`${rest()}/jobs/overview`)).json() as { jobs: Array<{ jid: string; name: string; state: string }> };
      const active = overview.jobs.filter((j) => j.name === JOB_NAME && !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state));
      expect(active.length, JSON.stringify(overview)).toBe(1);
      jobId = active[0]!.jid;
      return getJob(rest(), jobId);
    };
    /** phoebe's parallelism signal now equals the job's parallelism in the REST API. */
    const checkParallelism = async (when: string): Promise<void> => {
      const job = await waitForJobRunning(rest(), (await currentJob()).jid, 60_000);
      const fromRest = jobParallelism({ vertices: job.vertices.map((v) => ({ id: v.id, name: v.name, parallelism: v.parallelism })) });
      // The reporter needs a scrape or two to drop the old subtasks' series.
      let signal: number | undefined;
      for (let i = 0; i < 20; i++) {
        signal = (await instant(c().prometheus.url, phoebeQueries().parallelism))[0]?.value;
        if (signal === fromRest) break;
        await sleep(1000);
      }
      report.parallelismChecks.push({ when, rest: fromRest ?? -1, signal: signal ?? -1, vertices: job.vertices.map((v) => v.parallelism) });
      expect(signal, `${when}: vertices ${JSON.stringify(job.vertices.map((v) => [v.name, v.parallelism]))}`).toBe(fromRest);
    };
    /**
     * The scale-down after the load fell: phoebe's own if its planner makes one within
     * `planSeconds`; otherwise an operator's, through the admin API (the same gate, actuator and
     * journal). On a history of minutes the planner's forecast is too uncertain to give back
     * capacity (what it said is recorded), and the test cannot wait the hour it would take.
     */
    const scaleDown = async (who: PhoebeProcess, to: number, planSeconds: number): Promise<PhoebeLogLine> => {
      const before = who.events('rescale').length;
      const planned = await who.awaitRescale((l) => l.outcome === 'completed' && Number(l.to) < Number(l.from), planSeconds * 1000).catch(() => undefined);
      if (planned) return planned;
      const status = await who.status();
      report.plannerHeldScaleDown.push({ at: who.name, decision: status.lastDecision?.decision.reason ?? '', inputs: status.lastDecision?.decision.inputs });
      // An operator who overrides the plan pauses it first, or phoebe would scale back up.
      expect((await who.admin('pause')).status).toBe(200);
      const forced = await who.force(to);
      expect(forced.status, JSON.stringify(forced.body)).toBe(202);
      return who.awaitRescale((l, index) => index >= before && l.source === 'force' && l.outcome === 'completed', 180_000);
    };
    /** A completed rescale as measured: downtime from the REST API, and from decision to RUNNING. */
    const measure = (who: PhoebeProcess, mechanism: RescaleMeasurement['mechanism'], event: PhoebeLogLine): RescaleMeasurement => {
      const end = event.time;
      const seconds = Number(event.seconds ?? 0);
      // The decision that asked for it: the planner's, or the operator's request (admin log line).
      const decision = event.source === 'force'
        ? who.log().filter((l) => l.time <= end && l.event === 'admin' && String(l.action ?? l.path ?? '').includes('force')).at(-1)
        : who.events('decision').filter((d) => d.time <= end && d.recommended === event.to).at(-1);
      const m: RescaleMeasurement = {
        mechanism, from: Number(event.from), to: Number(event.to), by: event.source === 'force' ? 'admin API' : 'planner',
        downtimeMs: downtime?.downWithin(end - seconds * 1000 - 1000, end + 1000) ?? Number.NaN,
        decisionToRunningMs: decision ? end - decision.time : Number.NaN,
        detail: String(event.detail ?? ''),
      };
      report.rescales.push(m);
      return m;
    };

    beforeAll(async () => {
      const started = Date.now();
      cluster = await startRealCluster({
        line, taskManagers: 2, slotsPerTaskManager: 8, inputPartitions: PARTITIONS,
        // The 2.x run also names vertices with their index ("[vertex-0]Source: input"), which
        // phoebe's source pattern must still match.
        ...(line.line === '2' ? { flinkConfig: { 'pipeline.vertex-name-include-index-prefix': 'true' } } : {}),
      });
      observations.clusterStartMillis = Date.now() - started;
      report.kafkaVersion = cluster.kafka.version;
      report.kafkaExporter = cluster.kafkaExporter ? 'running' : `not available (${cluster.kafkaExporterMissing})`;
      Object.assign(observations, { startTimings: cluster.timings, kafkaExporter: report.kafkaExporter });
      // Constant-rate traces (one value a second, as the bundled ones): the generator replays them 1:1.
      traces = { high: constantRateTrace(cluster.dir, 'high', HIGH_RATE), low: constantRateTrace(cluster.dir, 'low', LOW_RATE) };
      jarId = await uploadJar(rest(), cluster.jobJar);
      offsets = watchOffsets(cluster.tools, cluster.inputTopic, GROUP_ID, 1000, 1800, line.line);
      downtime = watchDowntime(rest, JOB_NAME, 1800);
    }, 10 * 60_000);

    afterAll(async () => {
      try {
        observations.downIntervals = downtime?.intervals();
        observations.report = report;
        observations.observerLog = observer?.log().filter((l) => l.event && l.event !== 'waiting').slice(-200);
        observations.actorLog = actor?.log().filter((l) => l.event && l.event !== 'waiting').slice(-200);
        await Promise.all([observer?.stop(), actor?.stop(), offsets?.stop(), downtime?.stop()]);
        const file = join(cacheDir(), `observations-${line.line}.json`);
        mkdirSync(cacheDir(), { recursive: true });
        writeFileSync(file, `${JSON.stringify(observations, null, 2)}\n`);
        console.log(`real-cluster ${line.flinkVersion}: ${JSON.stringify(report.rescales.map((r) => [r.mechanism, r.from, r.to, r.downtimeMs, r.decisionToRunningMs]))}; observations in ${file}`);
        reports.push(report);
        reportSection('real-flink', formatRealFlinkSection(reports));
      } finally {
        await cluster?.stop();
      }
      // Nothing the harness started is left.
      expect(liveProcesses().map((p) => p.name)).toEqual([]);
    }, 180_000);

    it('1. signals: what phoebe reads from Prometheus agrees with the ground truth; in recommend mode it recommends a scale-up', async () => {
      jobId = await runJar(rest(), jarId, { parallelism: 1, programArgsList: jobArgs(0) });
      const job = await waitForJobRunning(rest(), jobId, 120_000);
      observations.schedulerTypeDefault = job.schedulerType ?? null;
      observations.vertices = job.vertices.map((v) => ({ name: v.name, parallelism: v.parallelism }));
      expect(job.vertices.map((v) => v.name.replace(/^\[vertex-\d+\]/, ''))).toEqual(['Source: input', 'cost -> output: Writer -> output: Committer']);

      observer = await startPhoebe(c().dir, `phoebe-recommend-${line.line}`, phoebeConfig('recommend', 0));
      const load = generate('step1', traces.high, 75);
      await settleLoad(load.run);
      const loadStart = Math.round(load.startedMs / 1000);

      // Two 30 s windows once the rate windows are full: window means of phoebe's signals (its
      // own queries, at 1 s) against the ground truth.
      const queries = phoebeQueries();
      const sent = load.run.seconds();
      const offsetSamples = offsets!.samples();
      for (const from of [loadStart + 15, loadStart + 45]) {
        const to = from + WINDOW_SECONDS;
        const values = async (expr: string): Promise<Array<[number, number]>> => (await range(c().prometheus.url, expr, from, to, 1))[0]?.values ?? [];
        const arrival = mean((await values(queries.arrivalRate)).map(([, v]) => v));
        const sentRate = mean(sent.filter((s) => load.startedMs / 1000 + s.second >= from && load.startedMs / 1000 + s.second < to).map((s) => s.sent));
        const lagValues = await values(queries.lag);
        const truthLag = offsetSamples.filter((o) => o.t / 1000 >= from && o.t / 1000 <= to);
        // Each ground-truth sample against phoebe's lag at the same second.
        const paired = truthLag.map((o) => [o.lag, lagValues.find(([t]) => t === Math.round(o.t / 1000))?.[1]] as const).filter(([, v]) => v !== undefined);
        const lagTruth = mean(paired.map(([truth]) => truth));
        const lagSignal = mean(paired.map(([, v]) => v as number));
        const signal = { window: `${from - loadStart}–${to - loadStart} s`, arrival, sentRate, arrivalError: relativeError(arrival, sentRate), lagSignal, lagTruth, lagError: relativeError(lagSignal, lagTruth), pairs: paired.length };
        report.signals.push(signal);
        expect(paired.length, 'ground-truth lag samples in the window').toBeGreaterThanOrEqual(20);
        expect(signal.arrivalError, JSON.stringify(signal)).toBeLessThanOrEqual(TOLERANCE);
        expect(signal.lagError, JSON.stringify(signal)).toBeLessThanOrEqual(TOLERANCE);
      }
      await checkParallelism('step 1: parallelism 1');
      const status = await observer.status();
      observations.recommendStatus = status.lastDecision && { ...status.lastDecision.decision, candidates: undefined };
      expect(status.mode).toBe('recommend');
      expect(status.lastDecision?.decision.currentParallelism).toBe(1);
      expect(status.lastDecision?.decision.recommendedParallelism).toBeGreaterThan(1);
      // Recommend mode never touched the job.
      expect((await currentJob()).jid).toBe(jobId);
      expect(observer.events('rescale')).toEqual([]);
      observations.metricNames = (await metricNames(c().prometheus.url)).filter((n) => n.startsWith('flink_taskmanager_job_task_operator_') || n.startsWith('kafka_'));
      await expectIntact('step 1');
    }, 10 * 60_000);

    it('2. flink-rest on the default scheduler: phoebe scales up by stop-with-savepoint and jar run', async () => {
      const high = generate('step2-high', traces.high, 40);
      actor = await startPhoebe(c().dir, `phoebe-flink-rest-${line.line}`, phoebeConfig('flink-rest', 0));
      const up = await actor.awaitRescale((l) => l.outcome === 'completed' && Number(l.to) > Number(l.from), 180_000);
      const upMeasured = measure(actor, 'stop-with-savepoint + jar run', up);
      expect(upMeasured.detail).toContain('stop-with-savepoint');
      await settleLoad(high.run);
      await checkParallelism('step 2: after the scale-up');
      expect(actor.events('rescale').filter((l) => l.outcome !== 'completed' && l.outcome !== 'skipped')).toEqual([]);
      await waitForCheckpoints(rest(), jobId, 1, 60_000);
      await expectIntact('step 2');
    }, 15 * 60_000);

    it('3. a TaskManager killed with SIGKILL: the restart is counted, phoebe holds while the job restarts, rescales nothing on the gap, resumes', async () => {
      const queries = phoebeQueries();
      const restartsBefore = (await instant(c().prometheus.url, queries.numRestarts))[0]?.value ?? 0;
      const load = generate('step3', traces.low, 90);
      await sleep(10_000);
      // The TaskManager that runs the most subtasks (by the Prometheus target its metrics come from).
      const byInstance = await instant(c().prometheus.url, `count by (instance) (flink_taskmanager_job_task_busyTimeMsPerSecond{job_name="phoebe_cost_job"})`);
      const busiest = byInstance.sort((a, b) => b.value - a.value)[0]?.metric.instance;
      const index = c().flink().metricsTargets.indexOf(busiest ?? '') - 1;
      expect(index, `task managers by instance: ${JSON.stringify(byInstance)}`).toBeGreaterThanOrEqual(0);
      const rescalesBefore = actor!.events('rescale').length;
      const killedAt = Date.now();
      await c().flink().taskManagers[index]!.kill();

      // The job restarts on the other TaskManager.
      let restarted: JobDetails | undefined;
      for (let i = 0; i < 90 && !restarted; i++) {
        await sleep(1000);
        const job = await currentJob().catch(() => undefined);
        const count = (await instant(c().prometheus.url, queries.numRestarts))[0]?.value ?? 0;
        if (job?.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING') && count > restartsBefore) restarted = job;
      }
      expect(restarted, 'the job restarted and its restart was counted').toBeDefined();
      const restartDowntimeMs = downtime!.downWithin(killedAt, Date.now());
      const restartsAfter = (await instant(c().prometheus.url, queries.numRestarts))[0]?.value ?? 0;
      report.restarts.push({ cause: 'TaskManager SIGKILL', downtimeMs: restartDowntimeMs, restartsCounted: restartsAfter - restartsBefore });

      // phoebe saw the restart, held, and resumed; no rescale was made on the gap.
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline && !actor!.events('resume').some((l) => l.time > killedAt)) await sleep(1000);
      const holds = actor!.events('hold').filter((l) => l.time >= killedAt);
      const resume = actor!.events('resume').find((l) => l.time > killedAt);
      observations.killHolds = holds.slice(0, 5);
      observations.killResume = resume;
      expect(holds.length, 'phoebe held after the kill').toBeGreaterThan(0);
      expect(resume, 'phoebe resumed').toBeDefined();
      expect(actor!.events('rescale').length, 'no rescale on the gap').toBe(rescalesBefore);
      for (let i = 0; i < 15 && !actor!.events('decision').some((d) => d.time >= (resume?.time ?? Infinity)); i++) await sleep(1000);
      expect(actor!.events('decision').some((d) => d.time >= (resume?.time ?? Infinity)), 'decisions after the resume').toBe(true);
      await settleLoad(load.run);
      await checkParallelism('step 3: after the TaskManager kill');
      await waitForCheckpoints(rest(), jobId, 1, 60_000);
      await expectIntact('step 3');
    }, 10 * 60_000);

    it('4. the load falls: a scale-down by stop-with-savepoint and jar run', async () => {
      const low = generate('step4-low', traces.low, 120);
      const down = await scaleDown(actor!, 2, 60);
      expect(measure(actor!, 'stop-with-savepoint + jar run', down).detail).toContain('stop-with-savepoint');
      await settleLoad(low.run);
      await checkParallelism('step 4: after the scale-down');
      expect(actor!.events('rescale').filter((l) => l.outcome !== 'completed' && l.outcome !== 'skipped')).toEqual([]);
      await waitForCheckpoints(rest(), jobId, 1, 60_000);
      await expectIntact('step 4');
    }, 10 * 60_000);

    it('5. adaptive scheduler, source pinned to the partitions: phoebe rescales in place up and down, the source kept at 12', async () => {
      await actor?.stop();
      actor = undefined;
      const savepoint = await stopWithSavepoint(rest(), jobId, `file://${c().flink().savepointDir}`, 120_000);
      await waitForJobState(rest(), jobId, ['FINISHED', 'CANCELED'], 60_000);
      // The scheduler is a cluster setting: restart Flink on the same ports with the adaptive one.
      const t0 = Date.now();
      await c().restartFlink('adaptive');
      observations.adaptiveClusterRestartMillis = Date.now() - t0;
      const adaptiveJar = await uploadJar(rest(), c().jobJar);
      jobId = await runJar(rest(), adaptiveJar, { parallelism: 1, savepointPath: savepoint, programArgsList: jobArgs(PARTITIONS) });
      const job = await waitForJobRunning(rest(), jobId, 120_000);
      observations.schedulerTypeAdaptive = job.schedulerType ?? null;
      expect(job.vertices.map((v) => v.parallelism)).toEqual([PARTITIONS, 1]);

      const high = generate('step5-high', traces.high, 60);
      actor = await startPhoebe(c().dir, `phoebe-in-place-${line.line}`, phoebeConfig('flink-rest', PARTITIONS));
      const up = await actor.awaitRescale((l) => l.outcome === 'completed' && Number(l.to) > Number(l.from), 180_000);
      expect(measure(actor, 'in place (adaptive scheduler)', up).detail).toContain('in place');
      expect(jobId).toBe((await currentJob()).jid);
      await settleLoad(high.run);
      await checkParallelism('step 5: after the in-place scale-up');
      expect((await currentJob()).vertices[0]?.parallelism, 'the pinned source').toBe(PARTITIONS);

      const low = generate('step5-low', traces.low, 120);
      const down = await scaleDown(actor, 2, 60);
      expect(measure(actor, 'in place (adaptive scheduler)', down).detail).toContain('in place');
      await settleLoad(low.run);
      await checkParallelism('step 5: after the in-place scale-down');
      expect((await currentJob()).vertices[0]?.parallelism, 'the pinned source').toBe(PARTITIONS);
      await waitForCheckpoints(rest(), jobId, 1, 60_000);
      await expectIntact('step 5');
    }, 15 * 60_000);

    it('6. the twin\'s scenarios assume no shorter downtimes than this cluster showed', () => {
      // A local cluster with a few MB of state is the fast end of production (no object store,
      // no pod to schedule): the twin may assume longer downtimes, never shorter ones.
      const dir = join(repoRoot, 'config', 'scenarios');
      const scenarios = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => loadScenario(join(dir, f)));
      const rescaleMax = Math.max(...report.rescales.map((r) => r.downtimeMs)) / 1000;
      const restartMax = Math.max(...report.restarts.map((r) => r.downtimeMs)) / 1000;
      observations.scenarioDowntimes = scenarios.map((sc) => ({ name: sc.name, rescale: sc.twin.rescaleDowntimeSeconds, restart: sc.twin.restartDowntimeSeconds }));
      for (const sc of scenarios) {
        expect(sc.twin.rescaleDowntimeSeconds, `${sc.name}: rescale downtime vs measured ${rescaleMax.toFixed(1)} s`).toBeGreaterThanOrEqual(rescaleMax);
        expect(sc.twin.restartDowntimeSeconds, `${sc.name}: restart downtime vs measured ${restartMax.toFixed(1)} s`).toBeGreaterThanOrEqual(restartMax);
      }
    });
  });
}
