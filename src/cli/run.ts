import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import type { Actuator } from '../act/actuator.js';
import { FlinkRestActuator } from '../act/flink-rest/actuator.js';
import { createKubeClients, inClusterNamespace, type KubeClients } from '../act/kubernetes/client.js';
import { defaultIdentity, LeaderLease, leaseApi } from '../act/kubernetes/leader-lease.js';
import type { ActLogger } from '../act/logger.js';
import { createActuator } from '../act/registry.js';
import { loadPhoebeConfig, type PhoebeConfig } from '../config/phoebe-config.js';
import { adminRouter, readAdminToken } from '../export/admin.js';
import { PhoebeMetrics } from '../export/metrics.js';
import { createApp, startServer } from '../export/server.js';
import { EnsembleForecaster } from '../forecast/forecaster.js';
import { ControlLoop, type LoopEvent } from '../loop/control-loop.js';
import { controllerSettings } from '../loop/controller-settings.js';
import { DecisionPipeline } from '../loop/decision-pipeline.js';
import { prometheusSourceFromConfig } from './prometheus-from-config.js';
import { NoSignalsError } from '../observe/signal-quality.js';
import type { Signals } from '../observe/signals.js';
import { systemClock } from '../util/clock.js';
import { boundedShutdown } from './bounded-shutdown.js';
import { loadAugursMstl } from './load-augurs.js';
import { UserError } from '../util/user-error.js';

/**
 * How long a graceful stop may take after SIGTERM: under Kubernetes' default grace period (30 s),
 * so phoebe ends itself, logging why, before it is killed. An interrupted rescale is resumed from
 * its journal by the next run.
 */
export const SHUTDOWN_LIMIT_MS = 25_000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run beside a Flink job: read Prometheus, forecast, plan, export metrics and (when allowed) rescale')
    .requiredOption('--config <file>', 'phoebe.yaml (see config/phoebe.example.yaml)')
    .action(async (options: { config: string }) => {
      await runSidecar(loadPhoebeConfig(options.config, process.env));
    });
}

function actLogger(log: Logger): ActLogger {
  return { info: (message, fields) => log.info(fields ?? {}, message), warn: (message, fields) => log.warn(fields ?? {}, message) };
}

/** Kubernetes API clients through the kubeconfig if one is set, else in-cluster; `what` needs them (for the message). */
function kubeClients(config: PhoebeConfig, what: string): KubeClients {
  const kubeconfig = config.actuation.kubernetes.kubeconfig;
  try {
    return createKubeClients(kubeconfig ? { kind: 'kubeconfig', path: kubeconfig } : { kind: 'in-cluster' });
  } catch (err) {
    throw new UserError(`${config.source}: ${what} needs the Kubernetes API: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The actuator of the configured mode (act/registry.ts), with Kubernetes Events on the object it changes. */
export function actuatorFor(config: PhoebeConfig, log: Logger, observedParallelism: () => number | undefined): Actuator {
  const { actuation } = config;
  let clients: KubeClients | undefined;
  return createActuator(actuation.mode, actuation, {
    source: config.source,
    job: config.job,
    kubernetesConfigured: Boolean(actuation.kubernetes.kubeconfig) || Boolean(process.env.KUBERNETES_SERVICE_HOST),
    kube: () => (clients ??= kubeClients(config, `actuation mode ${actuation.mode}`)),
    logger: actLogger(log),
    observedParallelism,
  });
}

/** The Lease of leader election, when enabled: through the kubeconfig if one is set, else in-cluster. */
export function createLeaderLease(config: PhoebeConfig, log: Logger, onChange: (leader: boolean) => void): LeaderLease | undefined {
  const election = config.leaderElection;
  if (!election.enabled) return undefined;
  const namespace = election.namespace ?? inClusterNamespace();
  if (!namespace) throw new UserError(`${config.source}: leaderElection.namespace is required outside a pod (or set PHOEBE_LEASE_NAMESPACE)`);
  const clients = kubeClients(config, 'leader election');
  return new LeaderLease({
    api: leaseApi(clients.kubeConfig), namespace, name: election.leaseName as string,
    identity: election.identity ?? defaultIdentity(),
    leaseDurationSeconds: election.leaseDurationSeconds, renewEverySeconds: election.renewEverySeconds,
    logger: actLogger(log), onChange,
  });
}

function logLoopEvent(log: Logger, event: LoopEvent): void {
  const warn = event.event === 'source-error' || event.event === 'stale' || event.event === 'hold' || event.event === 'waiting' || event.event === 'error' || (event.event === 'circuit-breaker' && event.state === 'open');
  if (warn) log.warn(event);
  else log.info(event);
}

/** Runs until SIGTERM/SIGINT: backfill, then a decision every interval. */
export async function runSidecar(config: PhoebeConfig): Promise<void> {
  const log = pino({ base: { app: 'phoebe' } });
  loadAugursMstl();
  const source = prometheusSourceFromConfig(config);
  let latest: Signals | undefined;
  const actuator = actuatorFor(config, log, () => latest?.latest.parallelism);
  const metrics = new PhoebeMetrics({
    mode: config.actuation.mode, leaderElection: config.leaderElection.enabled, slo: config.slo,
    minParallelism: config.parallelism.min, maxParallelism: config.parallelism.max,
  });
  // A promise nobody waits for must neither end the sidecar nor go unnoticed: log and count it.
  process.on('unhandledRejection', (reason) => {
    metrics.recordUnhandledRejection();
    log.error({ event: 'unhandled-rejection', reason: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) }, 'unhandled promise rejection');
  });
  const lease = createLeaderLease(config, log, (leader) => metrics.setLeader(leader));
  let adminToken = config.admin.token;
  if (config.admin.enabled && !adminToken) {
    try {
      adminToken = readAdminToken(config.admin.tokenFile as string);
    } catch (err) {
      throw new UserError(`${config.source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const settings = controllerSettings(config);
  const forecaster = new EnsembleForecaster({ horizonSteps: settings.pipeline.horizonSteps, validationOrigins: 60, mstl: true });
  const loop = new ControlLoop({
    source: {
      read: async () => {
        const signals = await source.refresh();
        if (!signals) throw new NoSignalsError('Prometheus returned no samples for the job yet');
        latest = signals;
        return signals;
      },
      quality: () => source.quality(),
    },
    settings,
    pipeline: new DecisionPipeline(settings.pipeline, forecaster),
    actuator,
    metrics,
    log: (event: LoopEvent) => logLoopEvent(log, event),
    ...(lease ? { leadership: lease } : {}),
  });
  const admin = config.admin.enabled && adminToken ? adminRouter({
    token: adminToken, controller: loop, bounds: { min: config.parallelism.min, max: config.parallelism.max },
    log: (event) => (event.outcome === 'unauthenticated' || event.outcome === 'forbidden' ? log.warn(event) : log.info(event)),
  }) : undefined;
  const server = await startServer(createApp(metrics.registry, loop, admin ? { admin } : {}), config.exporter.listen);
  log.info({
    listen: `${config.exporter.host}:${server.port}`, mode: config.actuation.mode, job: config.job.name,
    leaderElection: lease ? { lease: lease.status().lease, identity: lease.identity } : false, admin: Boolean(admin),
  }, 'phoebe started');
  if (admin && !['127.0.0.1', 'localhost', '::1'].includes(config.exporter.host)) {
    log.warn({ listen: config.exporter.listen }, 'the admin API is reachable beyond this host over plain HTTP: the bearer token travels unencrypted; restrict access (NetworkPolicy, port-forward only)');
  }
  // Know who leads before the first decision (the first attempt is bounded by its request timeout).
  await lease?.start();
  // flink-rest: finish a rescale that an earlier run left unfinished (the journal), now and
  // whenever one is; only while this instance may act.
  let stopRecovery: (() => void) | undefined;
  if (actuator instanceof FlinkRestActuator) {
    log.info({ journal: actuator.journalLocation, unfinished: actuator.hasUnfinishedRescale }, 'rescale journal');
    stopRecovery = actuator.keepRecovering(config.decision.intervalSeconds * 1000, () => lease?.isLeader() ?? true);
  }
  loop.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      stopRecovery?.();
      // The last actuation ends first; then the Lease is handed back so another instance takes over at once.
      // Bounded: a step that hangs must not keep the stopped sidecar alive.
      void boundedShutdown(
        () => loop.stop().then(() => lease?.stop({ release: true })).then(() => server.close()),
        SHUTDOWN_LIMIT_MS, systemClock,
        () => {
          log.error({ event: 'shutdown-timeout', limitSeconds: SHUTDOWN_LIMIT_MS / 1000 }, 'stopping did not finish in time: exiting now');
          process.exit(1);
        },
      ).then(() => resolve());
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
