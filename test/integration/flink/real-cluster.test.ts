import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPrometheus } from '../../support/prometheus-harness.js';
import { startRealCluster, type RealCluster } from '../../support/real-cluster/cluster.js';
import {
  getJob, getResourceRequirements, putResourceRequirements, runJar, stopWithSavepoint, uploadJar,
  waitForCheckpoints, waitForJobRunning, waitForJobState, type ResourceRequirements,
} from '../../support/real-cluster/flink-rest.js';
import { cacheDir, FLINK_LINES, repoRoot } from '../../support/real-cluster/maven.js';
import { liveProcesses } from '../../support/real-cluster/processes.js';
import { instant, metricNames, range, waitForSeries, type Sample } from '../../support/real-cluster/prom-query.js';
import { groupOffsets, startGenerator, verifyOutput, type GeneratorRun, type GroupOffsets } from '../../support/real-cluster/tools.js';

/**
 * The real-cluster test (EVALUATION.md §4, first part: the harness): a real Flink session
 * cluster (from Maven Central's artifacts) runs the job of test/flink-job on a real Kafka 4
 * broker, scraped by a real Prometheus; a load generator replays a bundled trace.
 *
 * Per Flink line ($PHOEBE_FLINK_LINES, default `1.20,2`), in order:
 *   1. the job (source unpinned, parallelism 2) runs under load; Flink's metrics reach
 *      Prometheus; the output topic, read with read_committed, holds every record sent once;
 *   2. stop-with-savepoint, resubmit from the savepoint at parallelism 3 with the source
 *      pinned to the 12 input partitions, under load; still exactly once;
 *   3. the Flink cluster restarts with the adaptive scheduler, the job resumes from a savepoint
 *      and is rescaled in place with PUT /jobs/:id/resource-requirements; still exactly once.
 * What it sees (metric names and labels, lag over time, timings) goes to
 * <cache>/real-cluster/observations-<line>.json.
 *
 * Each step depends on the one before (same job, same topics). Every process is ended in
 * afterAll, also when a step fails; the last check is that none is left.
 */

const LINES = (process.env.PHOEBE_FLINK_LINES ?? '1.20,2').split(',').map((l) => l.trim()).filter(Boolean);
/** Wall seconds of load in step 1 (the trace at 60× is an hour of it). */
const LOAD_SECONDS = Number(process.env.PHOEBE_REAL_CLUSTER_LOAD_SECONDS ?? 60);
const STEP_LOAD_SECONDS = Number(process.env.PHOEBE_REAL_CLUSTER_STEP_LOAD_SECONDS ?? 20);
const TRACE = join(repoRoot, 'config', 'traces', 'cars_measured_workload.csv');
/** 2 ms per record: one "cost" subtask handles 500 records/s. */
const COST_MICROS = 2000;
/**
 * The first hour of cars_measured_workload is 50k–54k records/s: × 0.02 is 1000–1080/s, just
 * over the 1000/s of 2 "cost" subtasks, so step 1 shows saturation and a growing backlog
 * (pendingRecords), and the larger parallelisms of steps 2 and 3 drain it.
 */
const SCALE = 0.02;
const COMPRESSION = 60;
const CHECKPOINT_MS = 3000;
/**
 * Records of about 1 KB, not the generator's bare 30 bytes: Flink's 32 KiB network buffers
 * between source and "cost" would otherwise hold tens of thousands of records, so a backlog
 * would sit in Flink (invisible to the source's pendingRecords) instead of in Kafka.
 */
const RECORD_BYTES = 1000;
const JOB_NAME = 'phoebe-cost-job';
const GROUP_ID = 'phoebe-cost-job';
/**
 * Flink's PrometheusReporter rewrites label values: every character outside [A-Za-z0-9_:]
 * becomes `_` (job_name="phoebe_cost_job", task_name="cost____output:_Writer____output:_Committer").
 */
const promLabel = (value: string): string => value.replace(/[^A-Za-z0-9_:]/g, '_');

const prometheusMissing = findPrometheus() === undefined;
if (prometheusMissing) console.warn('real-cluster test skipped: no prometheus binary (npm run pretest:flink installs it)');

for (const lineName of LINES) {
  const line = FLINK_LINES[lineName];
  if (!line) throw new Error(`unknown Flink line ${lineName} (known: ${Object.keys(FLINK_LINES).join(', ')})`);

  describe.skipIf(prometheusMissing)(`real Flink ${line.flinkVersion} + Kafka + Prometheus`, () => {
    let cluster: RealCluster | undefined;
    let jarId = '';
    let jobId = '';
    /** The next seq the generator writes = records sent so far (seqs 0..nextSeq-1). */
    let nextSeq = 0;
    const observations: Record<string, unknown> = { line: line.line, flinkVersion: line.flinkVersion };
    const timings: Record<string, number> = {};

    const c = (): RealCluster => {
      if (!cluster) throw new Error('cluster not started');
      return cluster;
    };
    const jobArgs = (sourceParallelism: number): string[] => [
      '--bootstrap-servers', c().kafka.bootstrapServers, '--input', c().inputTopic, '--output', c().outputTopic,
      '--cost-micros', String(COST_MICROS), '--source-parallelism', String(sourceParallelism),
      '--checkpoint-interval-ms', String(CHECKPOINT_MS), '--job-name', JOB_NAME, '--group-id', GROUP_ID,
    ];
    const generate = (name: string, seconds: number, traceOffsetSeconds: number): GeneratorRun => {
      const run = startGenerator(c().tools, {
        topic: c().inputTopic, trace: TRACE, compression: COMPRESSION, scale: SCALE, durationSeconds: seconds,
        traceOffsetSeconds, firstSeq: nextSeq, recordBytes: RECORD_BYTES, name,
      });
      return run;
    };
    const expectExactlyOnce = async (): Promise<void> => {
      // The last records become visible with the first checkpoint after they are processed.
      const check = await verifyOutput(c().tools, c().outputTopic, nextSeq, 120_000);
      expect(check, JSON.stringify(check)).toMatchObject({ distinct: nextSeq, missing: 0, duplicates: 0, outside: 0, unparsable: 0, complete: true });
      expect(check.records).toBe(nextSeq);
    };
    /** After a load phase: everything was sent, and the next phase's records follow on. */
    const settleLoad = async (generator: GeneratorRun): Promise<Awaited<GeneratorRun['done']>> => {
      const summary = await generator.done;
      expect(summary.failed).toBe(0);
      nextSeq = summary.nextSeq;
      return summary;
    };
    /** The end of every step: the output holds each record sent exactly once, and the job runs. */
    const expectIntact = async (rest: string): Promise<void> => {
      await expectExactlyOnce();
      expect((await getJob(rest, jobId)).state).toBe('RUNNING');
    };
    /**
     * Polls the REST API every 100 ms until `done()` holds; returns the milliseconds during
     * which the job (whichever is current) was not fully RUNNING.
     */
    const watchDowntime = async (currentJob: () => string, done: () => boolean, timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      let downSince: number | undefined;
      let down = 0;
      while (!done() && Date.now() < deadline) {
        const t = Date.now();
        let running = false;
        try {
          const job = await getJob(c().flink().restUrl, currentJob());
          running = job.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING');
        } catch {
          running = false;
        }
        if (!running && downSince === undefined) downSince = t;
        if (running && downSince !== undefined) {
          down += t - downSince;
          downSince = undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (downSince !== undefined) down += Date.now() - downSince;
      return down;
    };

    beforeAll(async () => {
      const started = Date.now();
      cluster = await startRealCluster({ line, slotsPerTaskManager: 12 });
      timings.clusterStartMillis = Date.now() - started;
      Object.assign(observations, { startTimings: cluster.timings, kafkaVersion: cluster.kafka.version, kafkaExporter: cluster.kafkaExporter ? 'running' : `not available: ${cluster.kafkaExporterMissing}` });
      jarId = await uploadJar(cluster.flink().restUrl, cluster.jobJar);
    }, 10 * 60_000);

    afterAll(async () => {
      observations.timings = timings;
      try {
        const file = join(cacheDir(), `observations-${line.line}.json`);
        mkdirSync(cacheDir(), { recursive: true });
        writeFileSync(file, `${JSON.stringify(observations, null, 2)}\n`);
        console.log(`real-cluster ${line.flinkVersion}: timings ${JSON.stringify(timings)}; observations in ${file}`);
      } finally {
        await cluster?.stop();
      }
      // Nothing the harness started is left.
      expect(liveProcesses().map((p) => p.name)).toEqual([]);
    }, 120_000);

    it('runs the job under load: RUNNING, metrics in Prometheus, output exactly once', async () => {
      const rest = c().flink().restUrl;
      const submitted = Date.now();
      jobId = await runJar(rest, jarId, { parallelism: 2, programArgsList: jobArgs(0) });
      const job = await waitForJobRunning(rest, jobId, 120_000);
      timings.jobStartMillis = Date.now() - submitted;
      observations.schedulerTypeDefault = job.schedulerType ?? null;
      observations.vertices = job.vertices.map((v) => ({ name: v.name, parallelism: v.parallelism }));
      expect(job.vertices.map((v) => v.name)).toEqual(['Source: input', 'cost -> output: Writer -> output: Committer']);

      const loadStart = Math.floor(Date.now() / 1000);
      const generator = generate('step1', LOAD_SECONDS, 0);
      // Kafka-side lag (end offsets − the group's committed offsets, what kafka_exporter's
      // kafka_consumergroup_lag reports) sampled every 5 s while the load runs.
      const kafkaLag: Array<{ t: number } & GroupOffsets> = [];
      let generatorDone = false;
      void generator.done.finally(() => { generatorDone = true; });
      for (let i = 0; i < LOAD_SECONDS / 5 + 2 && !generatorDone; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5000));
        try {
          kafkaLag.push({ t: Math.round((Date.now() / 1000 - loadStart) * 10) / 10, ...await groupOffsets(c().tools, c().inputTopic, GROUP_ID) });
        } catch (err) {
          kafkaLag.push({ t: -1, end: -1, committed: -1, lag: -1, error: (err as Error).message.slice(0, 200) } as never);
        }
      }
      const summary = await settleLoad(generator);
      observations.step1Generator = { ...summary, firstSeconds: generator.seconds().slice(0, 5) };
      observations.kafkaGroupLagGroundTruth = kafkaLag;

      // Metrics: names, one sample each (with labels) of the interesting ones, series over the run.
      const prom = c().prometheus.url;
      const jobSel = `job_name="${promLabel(JOB_NAME)}"`;
      await waitForSeries(prom, `flink_taskmanager_job_task_busyTimeMsPerSecond{${jobSel}}`, 4, 30_000);
      const pending = await waitForSeries(prom, `flink_taskmanager_job_task_operator_pendingRecords{${jobSel}}`, 1, 30_000);
      expect(pending.length).toBeGreaterThanOrEqual(1);
      const names = (await metricNames(prom)).filter((n) => n.startsWith('flink_') || n.startsWith('kafka_'));
      observations.metricNames = names;
      const interesting = names.filter((n) => /^flink_taskmanager_job_task_(operator_)?(busyTimeMsPerSecond|idleTimeMsPerSecond|backPressuredTimeMsPerSecond|numRecordsInPerSecond|numRecordsOutPerSecond|numRecordsIn|numRecordsOut|pendingRecords|currentEmitEventTimeLag|currentFetchEventTimeLag|numRecordsSend|numRecordsSendErrors|numRecordsOutErrors|KafkaSourceReader_KafkaConsumer_records_lag_max|KafkaSourceReader_KafkaConsumer_records_consumed_rate|KafkaSourceReader_topic_partition_currentOffset|KafkaSourceReader_topic_partition_committedOffset)$/.test(n)
        || /^flink_jobmanager_job_(lastCheckpointDuration|numberOfCompletedCheckpoints|numRestarts|uptime|downtime|restartingTime|runningTime|numberOfFailedCheckpoints)$/.test(n)
        || n.startsWith('kafka_consumergroup_lag'));
      const samples: Record<string, Sample[]> = {};
      for (const name of interesting) {
        const all = await instant(prom, `${name}{${name.startsWith('flink_') ? jobSel : ''}}`);
        // One sample per distinct task/operator name, so source, "cost" and sink each show.
        const byOwner = new Map<string, Sample>();
        for (const s of all) byOwner.set(`${s.metric.task_name ?? ''}|${s.metric.operator_name ?? ''}`, s);
        samples[name] = [...byOwner.values()];
      }
      observations.samples = samples;
      const end = Math.ceil(Date.now() / 1000);
      const series = async (expr: string): Promise<Array<[number, number]>> => {
        const result = await range(prom, expr, loadStart - 5, end, 1);
        return (result[0]?.values ?? []).map(([t, v]) => [t - loadStart, v]);
      };
      observations.series = {
        pendingRecordsSum: await series(`sum(flink_taskmanager_job_task_operator_pendingRecords{${jobSel}})`),
        recordsLagMax: await series(`max(flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max{${jobSel}})`),
        currentMinusCommittedOffset: await series(`sum(flink_taskmanager_job_task_operator_KafkaSourceReader_topic_partition_currentOffset{${jobSel}}) - sum(flink_taskmanager_job_task_operator_KafkaSourceReader_topic_partition_committedOffset{${jobSel}})`),
        sourceTaskNumRecordsInPerSecond: await series(`sum(flink_taskmanager_job_task_numRecordsInPerSecond{${jobSel},task_name=~"Source.*"})`),
        sourceOperatorNumRecordsOutPerSecond: await series(`sum(flink_taskmanager_job_task_operator_numRecordsOutPerSecond{${jobSel},operator_name=~"Source.*"})`),
        costTaskNumRecordsInPerSecond: await series(`sum(flink_taskmanager_job_task_numRecordsInPerSecond{${jobSel},task_name=~"cost.*"})`),
        sourceBackPressuredTimeMsPerSecondMax: await series(`max(flink_taskmanager_job_task_backPressuredTimeMsPerSecond{${jobSel},task_name=~"Source.*"})`),
        costBusyTimeMsPerSecondMax: await series(`max(flink_taskmanager_job_task_busyTimeMsPerSecond{${jobSel},task_name=~"cost.*"})`),
        generatorSentPerSecond: generator.seconds().map((s) => [s.second, s.sent]),
        ...(c().kafkaExporter ? { kafkaConsumergroupLag: await series(`sum(kafka_consumergroup_lag{consumergroup="${GROUP_ID}"})`) } : {}),
      };
      if (c().kafkaExporter) await waitForSeries(prom, `kafka_consumergroup_lag{consumergroup="${GROUP_ID}"}`, 1, 30_000);

      await expectIntact(rest);
    }, 10 * 60_000);

    it('stops with a savepoint and resumes from it at another parallelism, source pinned to the partitions', async () => {
      const rest = c().flink().restUrl;
      // Load runs through the rescale: records sent while the job is down are processed after.
      const generator = generate('step2', STEP_LOAD_SECONDS, LOAD_SECONDS * COMPRESSION);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const t0 = Date.now();
      let current = jobId;
      let resumed = false;
      const downtime = watchDowntime(() => current, () => resumed, 180_000);
      const savepoint = await stopWithSavepoint(rest, jobId, `file://${c().flink().savepointDir}`, 120_000);
      timings.savepointStopMillis = Date.now() - t0;
      await waitForJobState(rest, jobId, ['FINISHED', 'CANCELED'], 60_000);
      const t1 = Date.now();
      current = await runJar(rest, jarId, { parallelism: 3, savepointPath: savepoint, programArgsList: jobArgs(12) });
      const job = await waitForJobRunning(rest, current, 120_000);
      resumed = true;
      timings.resubmitToRunningMillis = Date.now() - t1;
      timings.stopAndResubmitMillis = Date.now() - t0;
      timings.stopAndResubmitDowntimeMillis = await downtime;
      jobId = current;
      expect(job.vertices.map((v) => [v.name, v.parallelism])).toEqual([['Source: input', 12], ['cost -> output: Writer -> output: Committer', 3]]);
      await settleLoad(generator);
      await waitForCheckpoints(rest, jobId, 1, 60_000);
      await expectIntact(rest);
    }, 10 * 60_000);

    it('rescales in place with PUT /jobs/:id/resource-requirements under the adaptive scheduler', async () => {
      const rest0 = c().flink().restUrl;
      const savepoint = await stopWithSavepoint(rest0, jobId, `file://${c().flink().savepointDir}`, 120_000);
      await waitForJobState(rest0, jobId, ['FINISHED', 'CANCELED'], 60_000);
      // The scheduler is a cluster setting: restart Flink on the same ports with the adaptive one.
      const t0 = Date.now();
      const flink = await c().restartFlink('adaptive');
      timings.adaptiveClusterRestartMillis = Date.now() - t0;
      const rest = flink.restUrl;
      const adaptiveJar = await uploadJar(rest, c().jobJar);
      jobId = await runJar(rest, adaptiveJar, { parallelism: 2, savepointPath: savepoint, programArgsList: jobArgs(0) });
      const job = await waitForJobRunning(rest, jobId, 120_000, (v) => v.parallelism === 2);
      observations.schedulerTypeAdaptive = job.schedulerType ?? null;
      const before = await getResourceRequirements(rest, jobId);
      observations.resourceRequirementsBefore = before;

      const generator = generate('step3', STEP_LOAD_SECONDS, (LOAD_SECONDS + STEP_LOAD_SECONDS) * COMPRESSION);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const wanted: ResourceRequirements = Object.fromEntries(Object.keys(before).map((id) => [id, { parallelism: { lowerBound: 1, upperBound: 4 } }]));
      let rescaled = false;
      const t1 = Date.now();
      const downtime = watchDowntime(() => jobId, () => rescaled, 180_000);
      await putResourceRequirements(rest, jobId, wanted);
      const after = await waitForJobRunning(rest, jobId, 180_000, (v) => v.parallelism === 4);
      rescaled = true;
      timings.inPlaceRescaleMillis = Date.now() - t1;
      timings.inPlaceRescaleDowntimeMillis = await downtime;
      observations.resourceRequirementsAfter = await getResourceRequirements(rest, jobId);
      expect(after.vertices.map((v) => v.parallelism)).toEqual([4, 4]);
      await settleLoad(generator);
      await waitForCheckpoints(rest, jobId, 1, 60_000);
      await expectIntact(rest);
    }, 10 * 60_000);
  });
}
