/**
 * LeaderLease against the live twin's Kubernetes API (test/support/live-twin.ts: Leases with
 * resourceVersion optimistic concurrency, 409 on a stale PUT or an existing name), in this
 * process, with one fake clock shared by the instances so expiry is exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createLeaderLease } from '../../../src/cli/run.js';
import { parsePhoebeConfig } from '../../../src/config/phoebe-config.js';
import { LeaderLease, leaseApi, type LeaseApi } from '../../../src/act/kubernetes/leader-lease.js';
import { silentLogger, type ActLogger } from '../../../src/act/logger.js';
import { FakeClock } from '../../support/fake-clock.js';
import { LiveTwin, NS } from '../../support/live-twin.js';

const NAME = 'phoebe-cars';

const twins: LiveTwin[] = [];
afterEach(async () => {
  while (twins.length > 0) await twins.pop()!.close();
});

async function twin(): Promise<{ api: LeaseApi; url: string }> {
  const started = await LiveTwin.start();
  twins.push(started);
  return { api: leaseApi(started.kube().kubeConfig), url: started.url };
}

async function readLease(url: string): Promise<V1Lease & { spec: Record<string, unknown>; metadata: { resourceVersion: string } }> {
  const res = await fetch(`${url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${NAME}`);
  expect(res.status).toBe(200);
  return (await res.json()) as V1Lease & { spec: Record<string, unknown>; metadata: { resourceVersion: string } };
}

interface Rig {
  clock: FakeClock;
  make(identity: string, api?: LeaseApi, logger?: ActLogger): { lease: LeaderLease; changes: boolean[] };
}

function rig(api: LeaseApi): Rig {
  const clock = new FakeClock();
  return {
    clock,
    make(identity, other = api, logger = silentLogger) {
      const changes: boolean[] = [];
      const lease = new LeaderLease({
        api: other, namespace: NS, name: NAME, identity, leaseDurationSeconds: 10, renewEverySeconds: 2,
        requestTimeoutMs: 2_000, logger, onChange: (leader) => changes.push(leader), clock,
      });
      return { lease, changes };
    },
  };
}

describe('LeaderLease', () => {
  it('creates the Lease with holder, duration and microsecond times; a second instance follows', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const a = r.make('phoebe-a');
    const b = r.make('phoebe-b');
    await a.lease.step();
    expect(a.lease.isLeader()).toBe(true);
    expect(a.changes).toEqual([true]);
    const created = await readLease(url);
    expect(created.spec).toMatchObject({ holderIdentity: 'phoebe-a', leaseDurationSeconds: 10, leaseTransitions: 0 });
    expect(created.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(created.spec.acquireTime).toBe(created.spec.renewTime);

    await b.lease.step();
    expect(b.lease.isLeader()).toBe(false);
    expect(b.lease.status()).toMatchObject({ leader: false, holder: 'phoebe-a', identity: 'phoebe-b', lease: `${NS}/${NAME}` });
    // a renews: a new resourceVersion and renewTime, same holder and acquireTime.
    await r.clock.advance(2_000);
    await a.lease.step();
    const renewed = await readLease(url);
    expect(Number(renewed.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(renewed.spec).toMatchObject({ holderIdentity: 'phoebe-a', acquireTime: created.spec.acquireTime, leaseTransitions: 0 });
    // While a keeps renewing, b never takes over, however long it runs.
    for (let k = 0; k < 20; k++) {
      await r.clock.advance(2_000);
      await a.lease.step();
      await b.lease.step();
      expect(a.lease.isLeader()).toBe(true);
      expect(b.lease.isLeader()).toBe(false);
    }
    expect(b.changes).toEqual([]);
  });

  it('the follower takes over once the Lease went unrenewed for its duration on the follower\'s clock; the old holder stopped acting before', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const a = r.make('phoebe-a');
    const b = r.make('phoebe-b');
    await a.lease.step();
    await b.lease.step();
    const seenAt = r.clock.now();
    // a stops renewing (a hung process). Its own validity ends leaseDuration − renewEvery = 8 s
    // after the start of its last renewal.
    await r.clock.advanceTo(seenAt + 7_900);
    expect(a.lease.isLeader()).toBe(true);
    await r.clock.advanceTo(seenAt + 8_000);
    expect(a.lease.isLeader()).toBe(false);
    expect(a.changes).toEqual([true, false]);
    // b: not before 10 s after it first saw that version of the Lease.
    await r.clock.advanceTo(seenAt + 9_000);
    await b.lease.step();
    expect(b.lease.isLeader()).toBe(false);
    await r.clock.advanceTo(seenAt + 10_000);
    await b.lease.step();
    expect(b.lease.isLeader()).toBe(true);
    expect(b.changes).toEqual([true]);
    const taken = await readLease(url);
    expect(taken.spec).toMatchObject({ holderIdentity: 'phoebe-b', leaseTransitions: 1 });
    expect(taken.spec.acquireTime).toBe(taken.spec.renewTime);
    // a wakes up: it sees b's Lease and stays a follower.
    await a.lease.step();
    expect(a.lease.isLeader()).toBe(false);
    expect(a.lease.status().holder).toBe('phoebe-b');
  });

  it('of two instances racing for a free Lease exactly one wins (409 on the stale PUT)', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const first = r.make('phoebe-first');
    await first.lease.start();
    await first.lease.stop({ release: true });
    expect((await readLease(url)).spec.holderIdentity).toBe('');
    for (let round = 0; round < 5; round++) {
      const a = r.make(`phoebe-a${round}`);
      const b = r.make(`phoebe-b${round}`);
      // Both read the same resourceVersion before either writes.
      await Promise.all([a.lease.step(), b.lease.step()]);
      expect([a.lease.isLeader(), b.lease.isLeader()].filter(Boolean)).toHaveLength(1);
      const winner = a.lease.isLeader() ? a : b;
      expect((await readLease(url)).spec.holderIdentity).toBe(winner.lease.identity);
      await winner.lease.stop({ release: true });
    }
  });

  it('two instances creating the Lease at once: one creates it, the other gets 409 and follows', async () => {
    const { api } = await twin();
    const r = rig(api);
    const a = r.make('phoebe-a');
    const b = r.make('phoebe-b');
    await Promise.all([a.lease.step(), b.lease.step()]);
    expect([a.lease.isLeader(), b.lease.isLeader()].filter(Boolean)).toHaveLength(1);
    const loser = a.lease.isLeader() ? b : a;
    await loser.lease.step();
    expect(loser.lease.isLeader()).toBe(false);
    expect(loser.lease.status().lastError).toBeNull();
  });

  it('a graceful stop releases the Lease: the follower takes it at its next attempt, without waiting', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const a = r.make('phoebe-a');
    const b = r.make('phoebe-b');
    await a.lease.start();
    await b.lease.step();
    await a.lease.stop({ release: true });
    expect(a.lease.isLeader()).toBe(false);
    expect(a.changes).toEqual([true, false]);
    const released = await readLease(url);
    expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await b.lease.step();
    expect(b.lease.isLeader()).toBe(true);
    expect((await readLease(url)).spec).toMatchObject({ holderIdentity: 'phoebe-b', leaseDurationSeconds: 10, leaseTransitions: 1 });
  });

  it('a holder that cannot reach the API keeps acting only until its renewal deadline, logging each failure without credentials', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const warnings: string[] = [];
    const logger: ActLogger = { info: () => undefined, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`) };
    let broken = false;
    const flaky: LeaseApi = {
      readNamespacedLease: (p, o) => (broken ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })) : api.readNamespacedLease(p, o)),
      createNamespacedLease: (p, o) => api.createNamespacedLease(p, o),
      replaceNamespacedLease: (p, o) => api.replaceNamespacedLease(p, o),
    };
    const a = r.make('phoebe-a', flaky, logger);
    await a.lease.step();
    const renewedAt = r.clock.now();
    broken = true;
    for (let t = 2_000; t <= 10_000; t += 2_000) {
      await r.clock.advanceTo(renewedAt + t);
      await a.lease.step();
      expect(a.lease.isLeader(), `${t} ms after the last renewal`).toBe(t < 8_000);
    }
    expect(a.changes).toEqual([true, false]);
    expect(a.lease.status().lastError).toContain('connection refused');
    expect(warnings.some((w) => w.includes('read of the lease failed'))).toBe(true);
    broken = false;
    await a.lease.step();
    // Nobody took it meanwhile: a renews and leads again.
    expect(a.lease.isLeader()).toBe(true);
    expect((await readLease(url)).spec.holderIdentity).toBe('phoebe-a');
  });

  it('a renewal that meets a changed Lease (409) steps down at once', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const a = r.make('phoebe-a');
    await a.lease.step();
    // Another writer changes the Lease between a's read and a's write.
    const racing: LeaseApi = {
      readNamespacedLease: async (p, o) => {
        const lease = await api.readNamespacedLease(p, o);
        const current = await readLease(url);
        const res = await fetch(`${url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${NAME}`, {
          method: 'PUT', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ...current, spec: { ...current.spec, holderIdentity: 'intruder' } }),
        });
        expect(res.status).toBe(200);
        return lease;
      },
      createNamespacedLease: (p, o) => api.createNamespacedLease(p, o),
      replaceNamespacedLease: (p, o) => api.replaceNamespacedLease(p, o),
    };
    const a2 = new LeaderLease({
      api: racing, namespace: NS, name: NAME, identity: 'phoebe-a', leaseDurationSeconds: 10, renewEverySeconds: 2, logger: silentLogger,
      clock: r.clock,
    });
    await a2.step();
    expect(a2.isLeader()).toBe(false);
    expect((await readLease(url)).spec.holderIdentity).toBe('intruder');
  });

  it('renews every renewEverySeconds on its clock while started, and not after stop()', async () => {
    const { api, url } = await twin();
    const r = rig(api);
    const a = r.make('phoebe-a');
    await a.lease.start();
    const first = (await readLease(url)).metadata.resourceVersion;
    await r.clock.advance(1_900);
    expect((await readLease(url)).metadata.resourceVersion).toBe(first);
    await r.clock.advance(100);
    await expect.poll(async () => (await readLease(url)).metadata.resourceVersion).not.toBe(first);
    await a.lease.stop();
    expect(r.clock.pending).toBe(0);
    const stopped = (await readLease(url)).metadata.resourceVersion;
    await r.clock.advance(10_000);
    expect((await readLease(url)).metadata.resourceVersion).toBe(stopped);
  });

  it('refuses inconsistent timings and an empty identity', () => {
    const api = {} as LeaseApi;
    const base = { api, namespace: NS, name: NAME, identity: 'x', leaseDurationSeconds: 10, renewEverySeconds: 2 };
    expect(() => new LeaderLease({ ...base, renewEverySeconds: 6 })).toThrow(/half/);
    expect(() => new LeaderLease({ ...base, leaseDurationSeconds: 0 })).toThrow(/positive/);
    expect(() => new LeaderLease({ ...base, identity: '' })).toThrow(/identity/);
  });
});

describe('leaderElection configuration', () => {
  const base = 'prometheus: { url: "http://p:9090" }\njob: { name: j, checkpointIntervalSeconds: 10 }\nslo: { latencySeconds: 1, recoveryTimeSeconds: 60 }\nparallelism: { max: 4 }\n';
  const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parsePhoebeConfig(text, 'c.yaml', env, { checkFiles: false });

  it('is off by default, and the chart\'s environment switches it on with the Lease and the pod\'s identity', () => {
    expect(parse(base).leaderElection).toEqual({ enabled: false, leaseDurationSeconds: 15, renewEverySeconds: 5 });
    const c = parse(base, { PHOEBE_LEADER_ELECTION: 'true', PHOEBE_LEASE_NAME: 'obs-phoebe-leader', PHOEBE_LEASE_NAMESPACE: 'monitoring', PHOEBE_POD_NAME: 'obs-phoebe-5d9f-x2' });
    expect(c.leaderElection).toEqual({ enabled: true, leaseName: 'obs-phoebe-leader', namespace: 'monitoring', identity: 'obs-phoebe-5d9f-x2', leaseDurationSeconds: 15, renewEverySeconds: 5 });
    expect(c.envOverrides).toEqual(['PHOEBE_LEADER_ELECTION', 'PHOEBE_LEASE_NAME', 'PHOEBE_LEASE_NAMESPACE', 'PHOEBE_POD_NAME']);
    expect(parse(`${base}leaderElection: { enabled: true, leaseName: l }\n`, { PHOEBE_LEADER_ELECTION: 'false' }).leaderElection.enabled).toBe(false);
  });

  it('names the key of every mistake', () => {
    expect(() => parse(`${base}leaderElection: { enabled: true }\n`)).toThrow(/"leaderElection.leaseName": is required when leaderElection.enabled is true \(or set PHOEBE_LEASE_NAME\)/);
    expect(() => parse(`${base}leaderElection: { leaseName: l, leaseDurationSeconds: 10, renewEverySeconds: 6 }\n`)).toThrow(/"leaderElection.renewEverySeconds": must be at most half of leaderElection.leaseDurationSeconds \(10\)/);
    expect(() => parse(`${base}leaderElection: { leaseName: Not_A_Name }\n`)).toThrow(/"leaderElection.leaseName"/);
    expect(() => parse(`${base}leaderElection: { lease: x }\n`)).toThrow(/lease/);
    expect(() => parse(base, { PHOEBE_LEADER_ELECTION: 'maybe' })).toThrow(/PHOEBE_LEADER_ELECTION/);
  });

  it('phoebe run needs a namespace outside a pod and a reachable Kubernetes configuration', () => {
    const log = pino({ level: 'silent' });
    const withoutNamespace = parse(`${base}leaderElection: { enabled: true, leaseName: l }\nactuation: { kubernetes: { kubeconfig: /nonexistent } }\n`);
    expect(() => createLeaderLease(withoutNamespace, log, () => undefined)).toThrow(/leaderElection.namespace is required outside a pod/);
    const badKubeconfig = parse(`${base}leaderElection: { enabled: true, leaseName: l, namespace: n }\nactuation: { kubernetes: { kubeconfig: /nonexistent } }\n`);
    expect(() => createLeaderLease(badKubeconfig, log, () => undefined)).toThrow(/leader election needs the Kubernetes API: cannot load kubeconfig \/nonexistent/);
    expect(createLeaderLease(parse(base), log, () => undefined)).toBeUndefined();
  });
});
