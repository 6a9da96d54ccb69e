import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../prometheus-harness.js';
import { FLINK_JAVA17_OPTS, javaBinary, log4j2Properties } from './java.js';
import { jobProjectDir, mavenClasspath, type FlinkLine } from './maven.js';
import { runProcess, startProcess, type ManagedProcess } from './processes.js';

/**
 * A Flink session cluster from Maven Central's artifacts: one JobManager
 * (StandaloneSessionClusterEntrypoint) and one or more TaskManagers (TaskManagerRunner), each a
 * JVM started here as Flink's start scripts would start it, with a generated config.yaml, the
 * PrometheusReporter on a free port per process, checkpoints and savepoints under `dir`.
 *
 * The TaskManager's memory and CPU keys are computed the way the scripts do: Flink's
 * BashJavaUtils GET_TM_RESOURCE_PARAMS (and GET_JM_RESOURCE_PARAMS) over the same config,
 * whose JVM flags and `-D` dynamic properties are passed on.
 */

export type SchedulerType = 'default' | 'adaptive';

export interface FlinkPorts {
  rest: number;
  rpc: number;
  blob: number;
  jobManagerMetrics: number;
  taskManagerMetrics: number[];
}

export interface FlinkClusterOptions {
  dir: string;
  line: FlinkLine;
  taskManagers?: number;
  slotsPerTaskManager?: number;
  scheduler?: SchedulerType;
  /** Reuse these ports (a restart with another configuration keeps the Prometheus targets). */
  ports?: FlinkPorts;
  taskManagerProcessSize?: string;
  jobManagerProcessSize?: string;
  /** Extra config.yaml entries (flat keys). */
  config?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface FlinkCluster {
  readonly restUrl: string;
  readonly ports: FlinkPorts;
  readonly line: FlinkLine;
  readonly scheduler: SchedulerType;
  readonly dir: string;
  /** host:port of each process's PrometheusReporter. */
  readonly metricsTargets: string[];
  readonly jobManager: ManagedProcess;
  readonly taskManagers: ManagedProcess[];
  readonly savepointDir: string;
  /** Milliseconds from the first JVM start to all TaskManagers registered. */
  readonly startMillis: number;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function allocatePorts(taskManagers: number): Promise<FlinkPorts> {
  const taskManagerMetrics: number[] = [];
  for (let i = 0; i < taskManagers; i++) taskManagerMetrics.push(await freePort());
  return { rest: await freePort(), rpc: await freePort(), blob: await freePort(), jobManagerMetrics: await freePort(), taskManagerMetrics };
}

function configYaml(options: FlinkClusterOptions, ports: FlinkPorts, dir: string): string {
  const scheduler = options.scheduler ?? 'default';
  const entries: Record<string, string> = {
    'jobmanager.rpc.address': '127.0.0.1',
    'jobmanager.rpc.port': String(ports.rpc),
    'jobmanager.bind-host': '127.0.0.1',
    'jobmanager.memory.process.size': options.jobManagerProcessSize ?? '1024m',
    'taskmanager.bind-host': '127.0.0.1',
    'taskmanager.host': '127.0.0.1',
    'taskmanager.numberOfTaskSlots': String(options.slotsPerTaskManager ?? 12),
    'taskmanager.memory.process.size': options.taskManagerProcessSize ?? '1280m',
    // The job keeps its state on the heap (hashmap backend): managed memory would be unused.
    'taskmanager.memory.managed.size': '32m',
    'rest.address': '127.0.0.1',
    'rest.bind-address': '127.0.0.1',
    'rest.port': String(ports.rest),
    'blob.server.port': String(ports.blob),
    'parallelism.default': '1',
    'web.submit.enable': 'true',
    'web.upload.dir': join(dir, 'web-upload'),
    // The REST API caches a job's execution graph for this long (default 3 s): the test watches
    // state changes during rescales at 100 ms, so the cache must not hide them.
    'web.refresh-interval': '200ms',
    'io.tmp.dirs': join(dir, 'tmp'),
    // Checkpoint and savepoint directories: 2.x keys and the 1.20 keys they replace (each
    // version ignores the keys it does not know).
    'execution.checkpointing.dir': `file://${join(dir, 'checkpoints')}`,
    'execution.checkpointing.savepoint-dir': `file://${join(dir, 'savepoints')}`,
    'state.checkpoints.dir': `file://${join(dir, 'checkpoints')}`,
    'state.savepoints.dir': `file://${join(dir, 'savepoints')}`,
    'metrics.reporter.prom.factory.class': 'org.apache.flink.metrics.prometheus.PrometheusReporterFactory',
    'jobmanager.scheduler': scheduler,
    // A TaskManager killed with SIGKILL is declared lost after heartbeat.timeout (default 50 s):
    // shorter, so the job restarts on the remaining TaskManager within seconds, as on a
    // Kubernetes cluster whose pod is gone.
    'heartbeat.interval': '2000',
    'heartbeat.timeout': '10000',
    // Restarts after a failure: explicit, so the restart downtime measured is Flink's, not a
    // backoff grown over earlier failures.
    'restart-strategy.type': 'fixed-delay',
    'restart-strategy.fixed-delay.attempts': '1000',
    'restart-strategy.fixed-delay.delay': '1s',
    // The adaptive scheduler waits 30 s between rescales by default (1.20: scaling-interval.min;
    // 2.x: executing.cooldown-after-rescaling); the test rescales right after the job starts.
    'jobmanager.adaptive-scheduler.scaling-interval.min': '1s',
    'jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling': '1s',
    'jobmanager.adaptive-scheduler.resource-stabilization-timeout': '5s',
    'jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout': '5s',
    ...options.config,
  };
  return `${Object.entries(entries).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n')}\n`;
}

/** Runs Flink's BashJavaUtils for a command; returns [jvmArgs, dynamicProperties]. */
async function resourceParams(classpath: string, confDir: string, command: 'GET_TM_RESOURCE_PARAMS' | 'GET_JM_RESOURCE_PARAMS', logFile: string): Promise<[string[], string[]]> {
  const { log } = await runProcess({
    name: `flink BashJavaUtils ${command}`,
    command: javaBinary(),
    args: ['-cp', classpath, 'org.apache.flink.runtime.util.bash.BashJavaUtils', command, '--configDir', confDir],
    logFile,
    timeoutMs: 60_000,
  });
  const prefix = 'BASH_JAVA_UTILS_EXEC_RESULT:';
  const results = log.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
  const [jvm, dynamic] = results.slice(-2);
  if (jvm === undefined || dynamic === undefined) throw new Error(`BashJavaUtils ${command} printed no result:\n${log.slice(-3000)}`);
  // "-D key=value -D key=value": the pairs are separate arguments, as the scripts pass them.
  return [jvm.split(/\s+/).filter(Boolean), dynamic.split(/\s+/).filter(Boolean)];
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

export async function startFlinkCluster(options: FlinkClusterOptions): Promise<FlinkCluster> {
  const started = Date.now();
  const taskManagerCount = options.taskManagers ?? 1;
  const slots = options.slotsPerTaskManager ?? 12;
  const dir = options.dir;
  const confDir = join(dir, 'conf');
  for (const sub of ['conf', 'log', 'tmp', 'web-upload', 'checkpoints', 'savepoints']) mkdirSync(join(dir, sub), { recursive: true });
  const ports = options.ports ?? await allocatePorts(taskManagerCount);
  if (ports.taskManagerMetrics.length < taskManagerCount) throw new Error('fewer metrics ports than TaskManagers');
  writeFileSync(join(confDir, 'config.yaml'), configYaml(options, ports, dir));
  const log4j = join(confDir, 'log4j2.properties');
  writeFileSync(log4j, log4j2Properties(['org.apache.kafka', 'org.apache.pekko', 'akka', 'org.apache.flink.shaded', 'org.apache.zookeeper', 'org.apache.flink.runtime.rest.handler.legacy']));

  const jars = await mavenClasspath(join(jobProjectDir, 'classpaths', 'flink-cluster'), { 'flink.version': options.line.flinkVersion }, dir);
  const classpath = jars.join(':');
  const [[jmJvm, jmDynamic], [tmJvm, tmDynamic]] = await Promise.all([
    resourceParams(classpath, confDir, 'GET_JM_RESOURCE_PARAMS', join(dir, 'log', 'bash-java-utils-jm.out')),
    resourceParams(classpath, confDir, 'GET_TM_RESOURCE_PARAMS', join(dir, 'log', 'bash-java-utils-tm.out')),
  ]);

  const jvmCommon = (logFile: string): string[] => [
    ...FLINK_JAVA17_OPTS,
    `-Dlog.file=${logFile}`,
    `-Dlog4j.configurationFile=file:${log4j}`,
    `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
    '-cp', classpath,
  ];
  const jmLog = join(dir, 'log', 'jobmanager.log');
  const jobManager = startProcess({
    name: 'flink-jobmanager',
    command: javaBinary(),
    args: [...jmJvm, ...jvmCommon(jmLog), 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
      '--configDir', confDir, ...jmDynamic, '-D', `metrics.reporter.prom.port=${ports.jobManagerMetrics}`],
    logFile: join(dir, 'log', 'jobmanager.out'),
  });
  const taskManagers: ManagedProcess[] = [];
  for (let i = 0; i < taskManagerCount; i++) {
    const tmLog = join(dir, 'log', `taskmanager-${i}.log`);
    taskManagers.push(startProcess({
      name: `flink-taskmanager-${i}`,
      command: javaBinary(),
      args: [...tmJvm, ...jvmCommon(tmLog), 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner',
        '--configDir', confDir, ...tmDynamic, '-D', `metrics.reporter.prom.port=${ports.taskManagerMetrics[i]}`],
      logFile: join(dir, 'log', `taskmanager-${i}.out`),
    }));
  }
  const all = [jobManager, ...taskManagers];
  const stop = async (): Promise<void> => {
    await Promise.all(all.map((p) => p.stop(15_000)));
  };
  const restUrl = `http://127.0.0.1:${ports.rest}`;
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  // Ready = the REST API answers and every TaskManager has registered all its slots.
  let last = '';
  for (;;) {
    const dead = all.find((p) => !p.running());
    if (dead) {
      await stop();
      throw new Error(`${dead.name} exited before the cluster was ready:\n${dead.tail()}`);
    }
    try {
      const overview = await getJson(`${restUrl}/overview`) as { taskmanagers?: number; 'slots-total'?: number };
      last = JSON.stringify(overview);
      if (overview.taskmanagers === taskManagerCount && overview['slots-total'] === taskManagerCount * slots) break;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`flink cluster not ready within ${timeoutMs} ms (last: ${last}); jobmanager:\n${jobManager.tail()}`);
    }
    await sleep(250);
  }
  const metricsTargets = [ports.jobManagerMetrics, ...ports.taskManagerMetrics.slice(0, taskManagerCount)].map((p) => `127.0.0.1:${p}`);
  return {
    restUrl, ports, line: options.line, scheduler: options.scheduler ?? 'default', dir, metricsTargets, jobManager, taskManagers,
    savepointDir: join(dir, 'savepoints'), startMillis: Date.now() - started, stop,
  };
}
