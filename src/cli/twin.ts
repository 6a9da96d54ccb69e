import { Command, InvalidArgumentError } from 'commander';
import { loadScenario } from '../config/scenario.js';
import { scenarioArrivals } from '../sim/runner.js';
import { loadTrace } from '../sim/trace.js';
import { warmUpFlinkDeploymentSchema } from '../sim/live/flinkdeployment-schema.js';
import { LiveCluster, type Scheduler } from '../sim/live/live-cluster.js';
import { startLiveTwinServer, type LiveTwinServer } from '../sim/live/server.js';
import { UserError } from '../util/user-error.js';

export interface TwinOptions {
  scenario: string;
  listen: string;
  speed: number;
  seed?: number;
  scheduler: Scheduler;
  namespace: string;
  name?: string;
  taskmanagerDeployment?: string;
  /** TEST-ONLY: serve POST/GET /__faults (src/sim/live/fault-injection.ts). */
  faults?: boolean;
}

const HELP = `
The live twin runs the digital twin of EVALUATION.md section 1 in wall-clock time and serves, on
one loopback address:
  GET /metrics                 Prometheus text: the Flink reporter's and kafka_exporter's metrics
  Flink REST                   /overview /config /jobmanager/config /jobs/overview /jobs/{id}
                               /jobs/{id}/status /jobs/{id}/stop /jobs/{id}/savepoints[/{trigger}]
                               /jars /jars/{jar}/run /jobs/{id}/resource-requirements (adaptive)
  Kubernetes API               FlinkDeployment (GET, PATCH, PUT, ?watch=true), the TaskManager
                               Deployment's /scale, core/v1 and events.k8s.io/v1 Events, Leases

Time (--speed X): the twin advances X simulated seconds per wall second and shows everything in
wall-clock units, exactly like a job X times faster: rates (records/s) are multiplied by X,
durations (latency, uptime, checkpoint and rescale downtimes, savepoint time) divided by X,
record counts (lag, offsets) unchanged.

Rescales: stop-with-savepoint then a jar run brings the job back at the new parallelism
after the scenario's rescale downtime counted from the stop (a late resubmission still
takes the downtime minus the savepoint time from its submission); a FlinkDeployment spec
change (job.parallelism or pipeline.jobvertex-parallelism-overrides) does the same as the
operator's savepoint upgrade; resource requirements (adaptive scheduler) and the scale
subresource rescale in place. Scenario failures restart the job with rollback (skipped
while no job runs). Requests while the job is down: a stop or savepoint is accepted (202)
and its operation fails ("Not all required tasks are currently running"), new resource
requirements or replicas apply to the restart under way, a FlinkDeployment change waits
until the job runs again, a jar run is refused (409) until the job has stopped.

The process ends by itself when the trace ends, and on SIGTERM or SIGINT.

Fault injection (--faults, for tests only): POST /__faults {"faults": [...]} from a loopback
client arms stop-error, run-error, savepoint-fails, savepoint-hangs, job-fails, unavailable,
slow or lose-answer on the Flink REST API; GET /__faults shows what fired, every request
that could cancel a job, the jobs and the record accounting. See src/sim/live/fault-injection.ts.

Example:
  phoebe twin --scenario config/scenarios/cars.yaml --listen 127.0.0.1:8081 --speed 10
`;

function parseSpeed(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw new InvalidArgumentError('expected a number in (0, 10000]');
  return n;
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

function parseScheduler(value: string): Scheduler {
  if (value !== 'default' && value !== 'adaptive') throw new InvalidArgumentError('expected "default" or "adaptive"');
  return value;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `127.0.0.1:8081` → host and port; only loopback addresses. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (!match) throw new UserError(`--listen ${value}: expected HOST:PORT, e.g. 127.0.0.1:8081`);
  const host = match[1] as string;
  const port = Number(match[2]);
  if (!LOOPBACK.has(host) && !/^127\.\d+\.\d+\.\d+$/.test(host)) {
    throw new UserError(`--listen ${value}: the live twin listens on loopback addresses only (127.0.0.0/8, ::1)`);
  }
  if (port > 65535) throw new UserError(`--listen ${value}: port ${port} is out of range`);
  return { host: host === 'localhost' ? '127.0.0.1' : host.replace(/^\[|\]$/g, ''), port };
}

export function registerTwin(program: Command): void {
  program
    .command('twin')
    .description('run the digital twin live: serve its metrics, a Flink REST API and a Kubernetes API on one address')
    .requiredOption('--scenario <file>', 'scenario YAML (see config/scenarios/)')
    .requiredOption('--listen <host:port>', 'loopback address to serve on, e.g. 127.0.0.1:8081 (port 0 picks a free one)')
    .option('--speed <x>', 'simulated seconds per wall second (rates × x, durations ÷ x)', parseSpeed, 1)
    .option('--seed <n>', 'random seed (default: the scenario\'s)', parseInteger)
    .option('--scheduler <name>', 'jobmanager.scheduler the JobManager reports: default or adaptive (adaptive enables resource-requirements)', parseScheduler, 'default' as Scheduler)
    .option('--namespace <ns>', 'namespace of the FlinkDeployment and TaskManager Deployment', 'flink')
    .option('--name <name>', 'FlinkDeployment name (default: the scenario name)')
    .option('--taskmanager-deployment <name>', 'TaskManager Deployment name (default: <name>-taskmanager)')
    .option('--faults', 'TEST ONLY: serve /__faults to inject Flink REST faults (loopback clients only)')
    .addHelpText('after', HELP)
    .action(async (options: TwinOptions) => {
      const server = await startTwin(options);
      await server.finished;
    });
}

/** Starts the live twin; resolves once it listens. Stops on SIGTERM/SIGINT and when the trace ends. */
export async function startTwin(options: TwinOptions): Promise<LiveTwinServer> {
  const { host, port } = parseListen(options.listen);
  const scenario = loadScenario(options.scenario);
  const trace = loadTrace(scenario.tracePath);
  const seed = options.seed ?? scenario.seed;
  warmUpFlinkDeploymentSchema();
  const cluster = new LiveCluster({
    scenario,
    arrivals: scenarioArrivals(scenario, trace),
    seed,
    traceStartTime: trace.startTime,
    speed: options.speed,
    startWallMs: Date.now(),
    scheduler: options.scheduler,
    namespace: options.namespace,
    ...(options.name ? { name: options.name } : {}),
    ...(options.taskmanagerDeployment ? { taskManagerDeployment: options.taskmanagerDeployment } : {}),
  });
  let server: LiveTwinServer;
  try {
    server = await startLiveTwinServer({ cluster, host, port, faults: options.faults === true });
  } catch (err) {
    throw new UserError(`cannot listen on ${options.listen}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const stop = (): void => { void server.close(); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  void server.finished.then(() => {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  });
  const wallSeconds = cluster.twin.duration / cluster.speed;
  process.stdout.write(
    `phoebe twin: ${scenario.name} (${cluster.twin.duration} s of trace, speed ${options.speed}, ends in ${wallSeconds.toFixed(0)} s) on ${server.url}\n` +
    `  metrics ${server.url}/metrics · Flink REST ${server.url}/jobs/overview · FlinkDeployment ` +
    `${server.url}/apis/flink.apache.org/v1beta1/namespaces/${cluster.namespace}/flinkdeployments/${cluster.name}\n` +
    `  job ${cluster.currentJob.id}, parallelism ${cluster.twin.parallelism}, scheduler ${cluster.scheduler}, ` +
    `TaskManager Deployment ${cluster.namespace}/${cluster.taskManagerDeployment}\n` +
    (server.faults ? `  fault injection ON (test only): ${server.url}/__faults\n` : ''),
  );
  return server;
}
