/**
 * One actor: leader election over one coordination.k8s.io/v1 Lease, so that of several phoebe
 * instances watching the same job only one rescales it (the others decide and export, in effect
 * recommend-only).
 *
 * Protocol (the one client-go's leaderelection package follows, re-implemented here):
 * - every `renewEverySeconds` an instance reads the Lease;
 * - absent → it creates it with itself as holderIdentity (a 409 means another instance was first);
 * - held by itself → it renews: PUT with renewTime = now and the resourceVersion it read, so a
 *   concurrent change by anyone else fails with 409 (optimistic concurrency) instead of being lost;
 * - held by another → it waits until the Lease has not changed for leaseDurationSeconds *as
 *   measured on its own clock since it first saw the current version* (no comparison of clocks
 *   across machines), or until the holder released it (empty holderIdentity), then takes it over
 *   with the same optimistic PUT (acquireTime, leaseTransitions + 1).
 *
 * The holder considers itself leader only until `leaseDurationSeconds − renewEverySeconds` after
 * the start of its last successful renewal (its own monotonic clock). A holder that cannot renew
 * (API unreachable, 409) therefore stops acting at least renewEverySeconds before any other
 * instance may take over: at no time do two instances both believe they may act. `isLeader()` is
 * checked right before every actuation, so losing the Lease mid-flight stops any further one (a
 * rescale already under way is finished by its actuator: it cannot be abandoned halfway safely).
 *
 * Every API call has a deadline (callOptions). Nothing here logs a credential.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../util/clock.js';
import { describeError } from '../errors.js';
import { callOptions } from './client.js';
import { stderrLogger, type ActLogger } from '../logger.js';

/** The Lease calls phoebe makes (CoordinationV1Api satisfies it). */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderLeaseOptions {
  api: LeaseApi;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This instance's holderIdentity (the pod name in a cluster); unique per instance. */
  identity: string;
  /** How long the others wait after the last renewal they saw before taking over, s. */
  leaseDurationSeconds: number;
  /** Period of reads/renewals, s; at most half of leaseDurationSeconds. */
  renewEverySeconds: number;
  /** Deadline of one API call, ms. Default: min(renewEverySeconds, 5 s). */
  requestTimeoutMs?: number;
  logger?: ActLogger;
  /** Called on every change of leadership (true: now leader; false: no longer). */
  onChange?: (leader: boolean) => void;
  /**
   * Time: renewTime/acquireTime and the wait between attempts. Default: the system clock, with
   * performance.now() measuring expiry (monotonic: a wall-clock jump changes no leadership). Any
   * other clock (fake time in tests) measures expiry too.
   */
  clock?: Clock;
}

/** Where leadership stands, for /api/v1/status. */
export interface LeaderLeaseStatus {
  enabled: true;
  lease: string;
  identity: string;
  leader: boolean;
  /** The holder as last read (may be this instance), if any. */
  holder: string | null;
  /** Seconds this instance may still act without a renewal (0 when not leader). */
  validForSeconds: number;
  /** The last failed read or write, if the last attempt failed. */
  lastError: string | null;
}

/** A default holderIdentity: unique per process, also for two processes on one host. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** The Lease API of a Kubernetes configuration (in-cluster, kubeconfig, or a test server). */
export function leaseApi(kubeConfig: KubeConfig): LeaseApi {
  return kubeConfig.makeApiClient(CoordinationV1Api);
}

function httpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export class LeaderLease {
  private readonly api: LeaseApi;
  private readonly logger: ActLogger;
  private readonly monotonic: () => number;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** Monotonic ms until which this instance may act; 0 when it is not leader. */
  private leaderUntil = 0;
  /** What leadership was last reported as (onChange fires on a difference). */
  private reported = false;
  /** The version of the Lease last seen and when (monotonic ms, on receipt) it was first seen. */
  private observed: { version: string; at: number } | undefined;
  private holder: string | null = null;
  private lastError: string | null = null;
  private readonly clock: Clock;
  /** Aborts the wait between attempts on stop(). */
  private waiting: AbortController | undefined;
  private running = false;
  private stepping: Promise<void> | undefined;

  constructor(private readonly options: LeaderLeaseOptions) {
    if (!(options.leaseDurationSeconds > 0)) throw new Error('leaseDurationSeconds must be positive');
    if (!(options.renewEverySeconds > 0) || options.renewEverySeconds * 2 > options.leaseDurationSeconds) {
      throw new Error('renewEverySeconds must be positive and at most half of leaseDurationSeconds');
    }
    if (options.identity === '') throw new Error('the holder identity must not be empty');
    this.api = options.api;
    this.logger = options.logger ?? stderrLogger;
    this.clock = options.clock ?? systemClock;
    const clock = this.clock;
    this.monotonic = clock === systemClock ? () => performance.now() : () => clock.now();
    this.now = () => clock.now();
    this.timeoutMs = options.requestTimeoutMs ?? Math.min(options.renewEverySeconds * 1000, 5_000);
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Whether this instance may act now: it holds the Lease and its last renewal is recent enough. */
  isLeader(): boolean {
    const leader = this.leaderUntil > this.monotonic();
    if (!leader && this.reported) this.report(false, 'the lease was not renewed in time');
    return leader;
  }

  status(): LeaderLeaseStatus {
    const leader = this.isLeader();
    return {
      enabled: true,
      lease: `${this.options.namespace}/${this.options.name}`,
      identity: this.options.identity,
      leader,
      holder: this.holder,
      validForSeconds: leader ? Math.round((this.leaderUntil - this.monotonic()) / 100) / 10 : 0,
      lastError: this.lastError,
    };
  }

  /** First attempt now (resolves once it is done), then one every renewEverySeconds until stop(). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.runStep();
  }

  /**
   * Stops renewing. With `release` (a graceful shutdown, after the last actuation has ended), a
   * Lease this instance holds is handed back (empty holder) so another instance takes over at its
   * next attempt instead of waiting for the Lease to expire.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    this.waiting?.abort();
    await this.stepping;
    const wasLeader = this.isLeader();
    this.leaderUntil = 0;
    if (this.reported) this.report(false, 'stopped');
    if (options.release && wasLeader) await this.release();
  }

  /** One read-and-acquire-or-renew attempt (exposed for tests; the renewal loop calls it). */
  async step(): Promise<void> {
    const started = this.monotonic();
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace }, callOptions(this.timeoutMs));
    } catch (err) {
      if (httpStatus(err) !== 404) {
        this.failed('read', err);
        return;
      }
    }
    if (!lease) {
      await this.create(started);
      return;
    }
    const received = this.monotonic();
    const version = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.version !== version) this.observed = { version, at: received };
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    this.holder = holder === '' ? null : holder;
    const mine = holder === this.options.identity;
    if (holder !== '' && !mine) {
      // Another holder: wait for its Lease to go unrenewed for its duration, on our own clock.
      const duration = (spec.leaseDurationSeconds ?? this.options.leaseDurationSeconds) * 1000;
      if (received - this.observed.at < duration) {
        this.leaderUntil = 0;
        this.lastError = null;
        if (this.reported) this.report(false, `the lease is held by ${holder}`);
        return;
      }
    }
    const at = new V1MicroTime(this.now());
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.options.leaseDurationSeconds,
        renewTime: at,
        ...(mine ? {} : { acquireTime: at, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      const updated = await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body }, callOptions(this.timeoutMs));
      this.acquired(started, updated, mine ? undefined : holder === '' ? 'the lease was free' : `the lease of ${holder} expired`);
    } catch (err) {
      if (httpStatus(err) === 409) {
        // Someone else wrote the Lease since our read: it is theirs now, whatever we thought.
        this.leaderUntil = 0;
        this.observed = undefined;
        this.lastError = null;
        if (this.reported) this.report(false, 'the lease was changed by another instance');
        return;
      }
      this.failed(mine ? 'renew' : 'acquire', err);
    }
  }

  private async create(started: number): Promise<void> {
    const at = new V1MicroTime(this.now());
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace, labels: { 'app.kubernetes.io/managed-by': 'phoebe' } },
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.options.leaseDurationSeconds,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: 0,
      },
    };
    try {
      const created = await this.api.createNamespacedLease({ namespace: this.options.namespace, body }, callOptions(this.timeoutMs));
      this.acquired(started, created, 'created the lease');
    } catch (err) {
      if (httpStatus(err) === 409) {
        this.lastError = null;
        return; // Another instance created it first; read it at the next attempt.
      }
      this.failed('create', err);
    }
  }

  private acquired(started: number, lease: V1Lease, how: string | undefined): void {
    this.leaderUntil = started + (this.options.leaseDurationSeconds - this.options.renewEverySeconds) * 1000;
    this.observed = { version: lease.metadata?.resourceVersion ?? '', at: this.monotonic() };
    this.holder = this.options.identity;
    this.lastError = null;
    if (!this.reported) this.report(true, how ?? 'renewed');
  }

  private failed(what: string, err: unknown): void {
    this.lastError = `${what} failed: ${describeError(err)}`;
    const fields = { lease: `${this.options.namespace}/${this.options.name}`, error: describeError(err) };
    this.logger.warn(`leader election: ${what} of the lease failed`, fields);
    // Leadership is kept only while the last successful renewal is recent enough.
    this.isLeader();
  }

  private report(leader: boolean, why: string): void {
    this.reported = leader;
    const fields = { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity, why };
    if (leader) this.logger.info('leader election: this instance is now the leader and may act', fields);
    else this.logger.warn('leader election: this instance is no longer the leader; it recommends only', fields);
    this.options.onChange?.(leader);
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace }, callOptions(this.timeoutMs));
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      const at = new V1MicroTime(this.now());
      const body: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: at } };
      await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body }, callOptions(this.timeoutMs));
      this.holder = null;
      this.logger.info('leader election: released the lease', { lease: `${this.options.namespace}/${this.options.name}` });
    } catch (err) {
      // The others take over once it expires.
      this.logger.warn('leader election: could not release the lease (it expires by itself)', { error: describeError(err) });
    }
  }

  /** One attempt now; then, in the background, one every renewEverySeconds until stop(). */
  private async runStep(): Promise<void> {
    await this.attempt();
    void this.renewLoop();
  }

  private async attempt(): Promise<void> {
    this.stepping = this.step().catch((err: unknown) => this.failed('step', err));
    await this.stepping;
    this.stepping = undefined;
  }

  private async renewLoop(): Promise<void> {
    while (this.running) {
      this.waiting = new AbortController();
      await this.clock.sleep(this.options.renewEverySeconds * 1000, this.waiting.signal);
      if (!this.running) return;
      await this.attempt();
    }
  }
}
