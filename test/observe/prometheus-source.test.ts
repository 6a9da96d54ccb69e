import { describe, expect, it } from 'vitest';
import { PrometheusError, type PrometheusClient } from '../../src/observe/prometheus-client.js';
import type { SeriesLike } from '../../src/observe/prometheus-convert.js';
import { QUERY_KEYS, type QueryKey, type QuerySet } from '../../src/observe/promql-catalogue.js';
import { PrometheusSource } from '../../src/observe/prometheus-source.js';

const T0 = 1_700_000_000;
/** Each query is its key's name, so the fake knows what is asked. */
const QUERIES = Object.fromEntries(QUERY_KEYS.map((k) => [k, k])) as QuerySet;

interface Call { key: QueryKey; start: number; end: number; step: number }

/** A Prometheus that knows value(key, t) for every t up to `now`. */
class FakePrometheus implements PrometheusClient {
  calls: Call[] = [];
  fail: PrometheusError | undefined;
  constructor(private readonly value: (key: QueryKey, t: number) => number | undefined, private readonly clock: () => number) {}
  async rangeQuery(query: string, start: number, end: number, step: number): Promise<SeriesLike[]> {
    const key = query as QueryKey;
    this.calls.push({ key, start, end, step });
    if (this.fail) throw this.fail;
    const values = [];
    for (let t = start; t <= Math.min(end, this.clock()); t += step) {
      const v = this.value(key, t);
      if (v !== undefined) values.push({ time: t, value: v });
    }
    return values.length > 0 ? [{ values }] : [];
  }
  async instantQuery(): Promise<Array<{ value: number; time: number }>> {
    return [];
  }
}

function job(key: QueryKey, t: number): number | undefined {
  switch (key) {
    case 'arrivalRate': return 1000 + (t - T0);
    case 'uptimeSeconds': return t - T0 + 100;
    case 'parallelism': return 4;
    case 'busyTimeMsPerSecond': return 500;
    default: return 1;
  }
}

function setup(options: { maxPoints?: number; backfill?: number; step?: number } = {}) {
  let now = T0 + 100.4;
  const fake = new FakePrometheus(job, () => now);
  const source = new PrometheusSource({
    client: fake, queries: QUERIES, stepSeconds: options.step ?? 1, backfillSeconds: options.backfill ?? 60,
    carryForwardSeconds: 10, now: () => now, ...(options.maxPoints ? { maxPointsPerQuery: options.maxPoints } : {}),
  });
  return { fake, source, advance: (s: number) => { now += s; }, now: () => now };
}

describe('PrometheusSource', () => {
  it('backfills the configured history in chunks that respect the point limit', async () => {
    const { fake, source } = setup({ maxPoints: 7, backfill: 60 });
    const signals = await source.backfill();
    expect(signals).toBeDefined();
    const h = signals!.history;
    expect(h.length).toBe(61);
    expect(h.t[0]).toBe(T0 + 40);
    expect(h.t[60]).toBe(T0 + 100);
    expect(h.arrivalRate[0]).toBe(1040);
    expect(signals!.latest.arrivalRate).toBe(1100);
    expect(signals!.latest.status).toBe('RUNNING');
    expect(signals!.latest.parallelism).toBe(4);
    const perKey = fake.calls.filter((c) => c.key === 'arrivalRate');
    expect(perKey.length).toBe(Math.ceil(61 / 7));
    for (const c of fake.calls) expect((c.end - c.start) / c.step + 1).toBeLessThanOrEqual(7);
    expect(new Set(fake.calls.map((c) => c.key))).toEqual(new Set(QUERY_KEYS));
  });

  it('reads only what is new (plus a short overlap) and keeps the history window', async () => {
    const { fake, source, advance } = setup({ backfill: 60 });
    await source.backfill();
    fake.calls = [];
    advance(30);
    const s = await source.refresh();
    const h = s!.history;
    expect(h.length).toBe(61);
    expect(h.t[0]).toBe(T0 + 70);
    expect(s!.latest.t).toBe(T0 + 130);
    expect(s!.latest.arrivalRate).toBe(1130);
    for (let i = 1; i < h.length; i++) expect((h.t[i] as number) - (h.t[i - 1] as number)).toBe(1);
    for (let i = 0; i < h.length; i++) expect(h.arrivalRate[i]).toBe(1000 + (h.t[i] as number) - T0);
    const reads = fake.calls.filter((c) => c.key === 'arrivalRate');
    expect(reads).toEqual([{ key: 'arrivalRate', start: T0 + 96, end: T0 + 130, step: 1 }]);
  });

  it('returns the same signals when nothing new is due, and re-backfills after a long silence', async () => {
    const { fake, source, advance } = setup({ backfill: 60 });
    const first = await source.refresh();
    expect(first!.history.length).toBe(61);
    fake.calls = [];
    advance(0.3);
    await source.refresh();
    advance(500);
    const s = await source.refresh();
    expect(s!.history.t[0]).toBe(T0 + 540);
    expect(fake.calls.filter((c) => c.key === 'lag').at(-1)).toEqual({ key: 'lag', start: T0 + 540, end: T0 + 600, step: 1 });
  });

  it('fails a read as a whole with a typed error naming the query, keeping what it had', async () => {
    const { fake, source, advance } = setup();
    await source.backfill();
    const before = source.signals();
    fake.fail = new PrometheusError('timeout', 'Prometheus at http://p:9090 did not answer within 10 s');
    advance(30);
    const err = await source.refresh().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect((err as PrometheusError).kind).toBe('timeout');
    expect((err as PrometheusError).message).toMatch(/^query \w+: Prometheus at http:\/\/p:9090 did not answer within 10 s$/);
    expect(source.signals()).toBe(before);
    const health = source.health();
    expect(health.consecutiveFailures).toBe(1);
    expect(health.lastError?.kind).toBe('timeout');
    expect(health.answeredRecently).toBe(true);
    expect(health.newestSampleTime).toBe(T0 + 100);
    expect(health.newestSampleAgeSeconds).toBeCloseTo(30.4, 6);
    fake.fail = undefined;
    const s = await source.refresh();
    expect(s!.latest.t).toBe(T0 + 130);
    expect(source.health().lastError).toBeUndefined();
    expect(source.health().consecutiveFailures).toBe(0);
  });

  it('says Prometheus has not answered recently after failures', async () => {
    const { fake, source, advance } = setup();
    expect(source.health()).toEqual({ consecutiveFailures: 0, answeredRecently: false });
    await source.backfill();
    fake.fail = new PrometheusError('network', 'cannot reach Prometheus at http://p:9090 (ECONNREFUSED)');
    advance(200);
    await expect(source.refresh()).rejects.toThrow(/ECONNREFUSED/);
    expect(source.health().answeredRecently).toBe(false);
  });

  it('works on a coarser step', async () => {
    const { source } = setup({ step: 5, backfill: 60, maxPoints: 4 });
    const s = await source.backfill();
    expect(Array.from(s!.history.t)).toEqual(Array.from({ length: 13 }, (_v, i) => T0 + 40 + 5 * i));
  });

  it('refuses a step below 1 s or more than 11,000 points per query', () => {
    const client = new FakePrometheus(job, () => T0);
    expect(() => new PrometheusSource({ client, queries: QUERIES, stepSeconds: 0.5, backfillSeconds: 60, carryForwardSeconds: 0 })).toThrow(RangeError);
    const source = new PrometheusSource({ client, queries: QUERIES, stepSeconds: 1, backfillSeconds: 60, carryForwardSeconds: 0, maxPointsPerQuery: 50_000 });
    expect(source).toBeInstanceOf(PrometheusSource);
  });
});

describe('PrometheusSource history start', () => {
  it('starts the history where Prometheus has data, and has none without data', async () => {
    let now = T0 + 100;
    const late = new FakePrometheus((key, t) => (t >= T0 + 80 ? job(key, t) : undefined), () => now);
    const source = new PrometheusSource({ client: late, queries: QUERIES, stepSeconds: 1, backfillSeconds: 60, carryForwardSeconds: 5, now: () => now });
    const s = await source.backfill();
    expect(s!.history.t[0]).toBe(T0 + 80);
    expect(s!.history.length).toBe(21);
    expect(Array.from(s!.history.status).every((c) => c === 0)).toBe(true);
    const none = new PrometheusSource({ client: new FakePrometheus(() => undefined, () => now), queries: QUERIES, stepSeconds: 1, backfillSeconds: 60, carryForwardSeconds: 5, now: () => now });
    expect(await none.backfill()).toBeUndefined();
    expect(none.health().answeredRecently).toBe(true);
    expect(none.health().newestSampleTime).toBeUndefined();
    now += 1;
  });
});

describe('PrometheusSource concurrency', () => {
  it('runs overlapping reads one after the other', async () => {
    const { fake, source, advance } = setup();
    let inFlight = 0;
    let most = 0;
    const original = fake.rangeQuery.bind(fake);
    fake.rangeQuery = async (...args) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return original(...args);
    };
    const first = source.refresh();
    advance(10);
    const second = source.refresh();
    const [a, b] = await Promise.all([first, second]);
    // Each read takes the time when it starts; the second waits for the first.
    expect(a!.latest.t).toBe(T0 + 110);
    expect(b!.latest.t).toBe(T0 + 110);
    expect(b!.history.length).toBe(61);
    // One read at a time: never more queries in flight than one read's concurrency (4).
    expect(most).toBe(4);
  });
});
