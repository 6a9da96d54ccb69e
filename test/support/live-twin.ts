/**
 * The one emulator of Flink REST and Kubernetes for unit tests: the live twin (src/sim/live) in
 * this process, on fake time. Its fault injector plays the scripted misbehaviours (failed or hung
 * savepoints, refused or lost requests, a stalled operator, …), and every request is recorded with
 * its headers and body so a test can say exactly what an actuator sent.
 *
 * Time: one FakeClock (auto-advancing: a sleep jumps at once) for the code under test, and the
 * twin is moved to that clock's time before every request it answers — so the twin is always
 * where the actuator's clock says, and a test that waits minutes of simulated time takes
 * milliseconds. Only request timeouts (AbortSignal.timeout in the clients) stay in real time.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKubeClients, type KubeClients } from '../../src/act/kubernetes/client.js';
import type { Scenario } from '../../src/config/scenario.js';
import { FaultInjector, isCancelRequest, type FaultSpec } from '../../src/sim/live/fault-injection.js';
import { CORE_EVENT, LiveCluster, type Scheduler } from '../../src/sim/live/live-cluster.js';
import type { KubeObject } from '../../src/sim/live/kube-store.js';
import { createLiveTwinApp } from '../../src/sim/live/server.js';
import { scenario } from './fixtures.js';
import { FakeClock } from './fake-clock.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The JSON body as the twin parsed it (undefined without one, or before it was read). */
  json: unknown;
}

export interface TwinOptions {
  scheduler?: Scheduler;
  /** scheduler-mode: reactive in the JobManager's configuration. */
  reactive?: boolean;
  /** The job's parallelism at the start (default 2). */
  parallelism?: number;
  /** The vertex's max parallelism (default 16). */
  maxParallelism?: number;
  /** Simulated seconds from a stop to the job running again (default 10). */
  rescaleDowntimeSeconds?: number;
  /** Simulated seconds a savepoint takes (default 2). */
  savepointSeconds?: number;
  /** Simulated seconds at which the job fails and restarts (30 s). */
  failuresAtSeconds?: number[];
  /** Time moves only by advance() (default: a sleep of the code under test moves it). */
  manualTime?: boolean;
}

/** Where the twin's objects live. */
export const NS = 'streaming';
export const APP = 'cars';
export const TM_NAME = `${APP}-taskmanager`;
export const SAVEPOINT_DIR = 's3://flink-data/savepoints';

export class LiveTwin {
  readonly requests: RecordedRequest[] = [];

  private constructor(
    readonly cluster: LiveCluster,
    readonly clock: FakeClock,
    readonly faults: FaultInjector,
    private readonly server: Server,
    private readonly watches: Set<() => void>,
    readonly url: string,
  ) {}

  static async start(options: TwinOptions = {}): Promise<LiveTwin> {
    const clock = new FakeClock(Date.UTC(2026, 0, 1), { autoAdvance: !options.manualTime });
    const base: Scenario = scenario({
      twin: {
        restartDowntimeSeconds: 30, rescaleDowntimeSeconds: options.rescaleDowntimeSeconds ?? 10,
        minParallelism: 1, maxParallelism: options.maxParallelism ?? 16, initialParallelism: options.parallelism ?? 2,
      },
      failures: options.failuresAtSeconds ?? [],
    });
    const cluster = new LiveCluster({
      scenario: { ...base, name: APP }, arrivals: new Float64Array(24 * 3600).fill(1000), seed: 7, speed: 1,
      startWallMs: clock.now(), scheduler: options.scheduler ?? 'default', reactive: options.reactive ?? false,
      savepointSeconds: options.savepointSeconds ?? 2, savepointDirectory: SAVEPOINT_DIR, namespace: NS,
    });
    const faults = new FaultInjector(cluster, () => clock.now());
    const watches = new Set<() => void>();
    let url = '';
    const app = createLiveTwinApp(cluster, () => url, { add: (c) => watches.add(c), delete: (c) => watches.delete(c) }, faults);
    let twin: LiveTwin | undefined;
    const server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const entry: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, json: undefined };
      twin?.requests.push(entry);
      // express.json() sets req.body on this same request; read it once the exchange is over (answered or dropped).
      res.once('close', () => { entry.json = (req as { body?: unknown }).body; });
      cluster.advanceTo(clock.now());
      app(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    twin = new LiveTwin(cluster, clock, faults, server, watches, url);
    return twin;
  }

  /** Moves time on (waking the sleepers due) and the twin with it, e.g. so its watchers see the operator's steps. */
  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    this.cluster.advanceTo(this.clock.now());
  }

  /** Arms faults (see src/sim/live/fault-injection.ts). */
  arm(...faults: FaultSpec[]): void {
    this.faults.arm(faults);
  }

  /** Requests matching method and path pattern. */
  find(method: string, pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path));
  }

  /** The Flink REST requests as "METHOD /path" with ids as {id}, repeats collapsed: the protocol an actuator followed. */
  sequence(): string[] {
    const seen: string[] = [];
    for (const r of this.requests) {
      if (r.path.startsWith('/api')) continue;
      const line = `${r.method} ${r.path.replace(/[0-9a-f]{32}/g, '{id}')}`;
      if (seen[seen.length - 1] !== line) seen.push(line);
    }
    return seen;
  }

  /** Requests that could have cancelled a job (there must be none). */
  cancelRequests(): RecordedRequest[] {
    return this.requests.filter((r) => isCancelRequest(r.method, r.path, r.json) || r.query.get('mode')?.toLowerCase() === 'cancel' || (r.method === 'PATCH' && !r.path.startsWith('/api')));
  }

  /** Kubernetes clients for the twin's API. */
  kube(): KubeClients {
    return createKubeClients({ kind: 'server', server: this.url });
  }

  /** The core/v1 Events recorded in the twin's namespace. */
  events(): KubeObject[] {
    return this.cluster.kube.list(CORE_EVENT, NS).items;
  }

  /** The FlinkDeployment as stored. */
  get flinkDeployment(): KubeObject {
    return this.cluster.flinkDeployment(NS, APP);
  }

  async close(): Promise<void> {
    for (const end of [...this.watches]) end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A 127.0.0.1 port with nothing listening (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
