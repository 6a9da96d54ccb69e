import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrometheus, type PrometheusHarness } from '../prometheus-harness.js';
import { startFlinkCluster, type FlinkCluster, type SchedulerType } from './flink.js';
import { startKafka, type KafkaBroker } from './kafka.js';
import { findKafkaExporter, startKafkaExporter, type KafkaExporter } from './kafka-exporter.js';
import { buildJobJar, type FlinkLine } from './maven.js';
import { adoptChild, forgetOnExit, installCleanupHooks, removeOnExit, stopAllProcesses } from './processes.js';
import { createTopics, type ToolsContext } from './tools.js';

/**
 * The whole real cluster of the test: Kafka (KRaft), the job jar, a Flink session cluster,
 * kafka_exporter (when it can be had) and a real Prometheus scraping all of them every second.
 * Everything on 127.0.0.1 at free ports, in one temporary directory; `stop()` ends every
 * process (and is safe to call twice, or after a failed start).
 */

export interface RealClusterOptions {
  line: FlinkLine;
  inputTopic?: string;
  inputPartitions?: number;
  outputTopic?: string;
  taskManagers?: number;
  slotsPerTaskManager?: number;
  scheduler?: SchedulerType;
  /** Extra Flink config.yaml entries (flat keys), also after restartFlink. */
  flinkConfig?: Record<string, string>;
  /** Keep the run directory (logs, checkpoints) after stop. Default: $PHOEBE_KEEP_RUN_DIR=1. */
  keepDir?: boolean;
}

export interface StartTimings {
  buildMillis: number;
  kafkaMillis: number;
  flinkMillis: number;
  prometheusMillis: number;
  totalMillis: number;
}

export interface RealCluster {
  readonly dir: string;
  readonly line: FlinkLine;
  readonly jobJar: string;
  readonly kafka: KafkaBroker;
  readonly tools: ToolsContext;
  readonly prometheus: PrometheusHarness;
  /** Undefined when kafka_exporter could not be had (see kafkaExporterMissing). */
  readonly kafkaExporter: KafkaExporter | undefined;
  readonly kafkaExporterMissing: string | undefined;
  readonly inputTopic: string;
  readonly outputTopic: string;
  readonly timings: StartTimings;
  /** The current Flink cluster (replaced by restartFlink). */
  flink(): FlinkCluster;
  /**
   * Stops the Flink cluster and starts it again with another scheduler, on the same ports (so
   * Prometheus keeps scraping the same targets). Jobs do not survive: stop them with a
   * savepoint first.
   */
  restartFlink(scheduler: SchedulerType): Promise<FlinkCluster>;
  stop(): Promise<void>;
}

export async function startRealCluster(options: RealClusterOptions): Promise<RealCluster> {
  installCleanupHooks();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `phoebe-real-cluster-${options.line.line}-`));
  const keepDir = options.keepDir ?? process.env.PHOEBE_KEEP_RUN_DIR === '1';
  // An interrupted run (signal, or exit without afterAll) removes its directory too.
  if (!keepDir) removeOnExit(dir);
  const inputTopic = options.inputTopic ?? 'input';
  const outputTopic = options.outputTopic ?? 'output';
  let kafka: KafkaBroker | undefined;
  let flink: FlinkCluster | undefined;
  let exporter: KafkaExporter | undefined;
  let prometheus: PrometheusHarness | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Flink first (its sink and source close their Kafka clients), then Kafka; Prometheus last.
    await flink?.stop();
    await exporter?.stop();
    await kafka?.stop();
    await prometheus?.stop();
    if (prometheus) forgetOnExit(prometheus.dir);
    // Anything a failed step left behind (a generator, a Maven run).
    await stopAllProcesses();
    if (!keepDir) {
      rmSync(dir, { recursive: true, force: true });
      forgetOnExit(dir);
    }
  };
  try {
    const t0 = Date.now();
    mkdirSync(join(dir, 'tools'), { recursive: true });
    // The build and the broker's start overlap: Maven is mostly waiting on the cache.
    const [jobJar, broker] = await Promise.all([
      buildJobJar(options.line, dir),
      startKafka({ dir: join(dir, 'kafka') }),
    ]);
    kafka = broker;
    const buildAndKafka = Date.now() - t0;
    const tools: ToolsContext = { jobJar, brokerClasspath: broker.classpath, bootstrapServers: broker.bootstrapServers, dir: join(dir, 'tools') };
    const t1 = Date.now();
    const [, lookup] = await Promise.all([
      createTopics(tools, { [inputTopic]: options.inputPartitions ?? 12, [outputTopic]: options.inputPartitions ?? 12 }),
      findKafkaExporter(dir),
    ]);
    const kafkaMillis = buildAndKafka + (Date.now() - t1);
    let kafkaExporterMissing: string | undefined;
    if (lookup.binary !== undefined) exporter = await startKafkaExporter(lookup.binary, broker.bootstrapServers, dir);
    else kafkaExporterMissing = lookup.reason;

    flink = await startFlinkCluster({
      dir: join(dir, 'flink-0'), line: options.line, taskManagers: options.taskManagers,
      slotsPerTaskManager: options.slotsPerTaskManager, scheduler: options.scheduler, config: options.flinkConfig,
    });
    const flinkMillis = flink.startMillis;
    const t2 = Date.now();
    prometheus = await startPrometheus({
      targets: [...flink.metricsTargets, broker.metricsTarget, ...(exporter ? [exporter.target] : [])],
      scrapeIntervalSeconds: 1,
      jobName: 'real-cluster',
    });
    adoptChild(prometheus.process);
    removeOnExit(prometheus.dir);
    const prometheusMillis = Date.now() - t2;
    let restarts = 0;
    const restartFlink = async (scheduler: SchedulerType): Promise<FlinkCluster> => {
      const previous = flink;
      if (!previous) throw new Error('no flink cluster');
      await previous.stop();
      flink = undefined;
      flink = await startFlinkCluster({
        dir: join(dir, `flink-${++restarts}`), line: options.line, taskManagers: options.taskManagers,
        slotsPerTaskManager: options.slotsPerTaskManager, scheduler, ports: previous.ports, config: options.flinkConfig,
      });
      return flink;
    };
    const prom = prometheus;
    return {
      dir, line: options.line, jobJar, kafka: broker, tools, prometheus: prom, kafkaExporter: exporter, kafkaExporterMissing,
      inputTopic, outputTopic,
      timings: { buildMillis: buildAndKafka, kafkaMillis, flinkMillis, prometheusMillis, totalMillis: Date.now() - started },
      flink: () => {
        if (!flink) throw new Error('flink cluster is not running');
        return flink;
      },
      restartFlink, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
