import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import { flinkErrorHandler, flinkNotFound, flinkRestRouter } from './flink-rest-routes.js';
import { FaultInjector } from './fault-injection.js';
import { kubernetesErrorHandler, kubernetesNotFound, kubernetesRouter, type WatchRegistry } from './kubernetes-routes.js';
import type { LiveCluster } from './live-cluster.js';
import { metricsRouter } from './metrics-exposition.js';

/**
 * One HTTP address serving the three faces of the live twin: /metrics (Prometheus), the Flink
 * REST API and the Kubernetes API (/api, /apis, /version). The clock is a timer that calls
 * cluster.advanceTo(Date.now()); with `manualClock` there is none and the caller drives time.
 */

export interface LiveTwinServerOptions {
  cluster: LiveCluster;
  /** Loopback only: 127.0.0.1 unless told otherwise (e.g. ::1). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The caller advances the cluster itself (tests); no timer. */
  manualClock?: boolean;
  /** Wall clock for the timer (default Date.now). */
  now?: () => number;
  /** Timer period, ms (default: 1/10 of a simulated second in wall time, within [10, 100]). */
  tickMs?: number;
  /** TEST-ONLY: serve /__faults and apply injected faults (fault-injection.ts). Default false. */
  faults?: boolean;
}

export interface LiveTwinServer {
  readonly url: string;
  readonly port: number;
  readonly app: Express;
  /** Resolves when the trace has ended (the server then closes by itself) or close() was called. */
  readonly finished: Promise<void>;
  /** The fault injector, when `faults` is on. */
  readonly faults: FaultInjector | undefined;
  close(): Promise<void>;
}

export function createLiveTwinApp(cluster: LiveCluster, address: () => string, watches: WatchRegistry, faults?: FaultInjector): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ type: ['application/json', 'application/*+json'], limit: '2mb', strict: false }));
  if (faults) {
    app.use(faults.router());
    app.use(faults.middleware());
  }
  app.use(metricsRouter(cluster));
  const kube = express.Router();
  kube.use(kubernetesRouter(cluster, watches));
  kube.use(['/api', '/apis'], kubernetesNotFound);
  kube.use(kubernetesErrorHandler);
  app.use((req, res, next) => {
    const path = req.path;
    if (path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/') || path === '/version') kube(req, res, next);
    else next();
  });
  app.use(flinkRestRouter(cluster, { address }));
  app.use(flinkNotFound);
  app.use(flinkErrorHandler);
  return app;
}

export async function startLiveTwinServer(options: LiveTwinServerOptions): Promise<LiveTwinServer> {
  const { cluster } = options;
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const open = new Set<() => void>();
  const watches: WatchRegistry = { add: (c) => open.add(c), delete: (c) => open.delete(c) };
  let url = '';
  const faults = options.faults ? new FaultInjector(cluster) : undefined;
  const app = createLiveTwinApp(cluster, () => url, watches, faults);

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  let resolveFinished: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => { resolveFinished = resolve; });

  const close = (): Promise<void> => {
    if (!closing) {
      if (timer) clearInterval(timer);
      for (const end of [...open]) end();
      closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => resolveFinished());
    }
    return closing;
  };

  if (!options.manualClock) {
    const tick = options.tickMs ?? Math.min(100, Math.max(10, 100 / cluster.speed));
    timer = setInterval(() => {
      cluster.advanceTo(now());
      if (cluster.done) void close();
    }, tick);
  }
  return { url, port, app, finished, faults, close };
}
