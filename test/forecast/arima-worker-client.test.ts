import { afterEach, describe, expect, it } from 'vitest';
import { ArimaWorkerClient, ArimaWorkerError } from '../../src/forecast/arima-worker-client.js';
import { arimaFamily } from '../../src/forecast/arima-family.js';

const order = { p: 1, d: 0, q: 1, P: 0, D: 0, Q: 0, s: 0 };
const wave = (n: number) => Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin(i / 5) + (i % 7));

describe('ArimaWorkerClient', () => {
  let client: ArimaWorkerClient;
  afterEach(async () => { await client.close(); });

  it('replaces the worker after a failure that breaks the WebAssembly for good', async () => {
    client = new ArimaWorkerClient({ timeoutMs: 30_000 });
    const before = client.newKey();
    await client.request({ type: 'fit', key: before, series: wave(200), order });
    expect(client.workersStarted).toBe(1);

    // Above ~8,000 points the package fails with "memory access out of bounds" and every
    // later call in that thread fails too; the client must not reuse that thread.
    const broken = client.newKey();
    await expect(client.request({ type: 'fit', key: broken, series: wave(9000), order })).rejects.toThrow(ArimaWorkerError);

    // Models of the replaced worker are gone, and say so.
    await expect(client.request({ type: 'predict', key: before, window: wave(200), horizon: 3 })).rejects.toThrow(/replaced worker/);

    const after = client.newKey();
    await client.request({ type: 'fit', key: after, series: wave(200), order });
    const forecast = await client.request({ type: 'predict', key: after, window: wave(200), horizon: 3 });
    expect(client.workersStarted).toBe(2);
    expect(forecast).toHaveLength(3);
    expect(forecast.every(Number.isFinite)).toBe(true);
  });

  it('replaces a worker that does not answer in time', async () => {
    client = new ArimaWorkerClient({ timeoutMs: 1 });
    const key = client.newKey();
    await expect(client.request({ type: 'fit', key, series: wave(300), order })).rejects.toThrow(/did not answer/);
    expect(client.workersStarted).toBe(1);
    // The next request starts a fresh thread (whether it, too, is slow does not matter here).
    const next = client.request({ type: 'free', key: client.newKey() });
    expect(client.workersStarted).toBe(2);
    await next.catch(() => undefined);
  });

  it('updates by sliding the window: a forecast follows the newest values without a refit', async () => {
    client = new ArimaWorkerClient({ timeoutMs: 30_000 });
    const y = wave(300);
    const model = await arimaFamily(client, { maxPoints: 200 }).fit(y, null);
    expect(model).not.toBeNull();
    const first = await model!.forecast(2);
    for (let i = 0; i < 5; i++) model!.append(1000);
    const second = await model!.forecast(2);
    expect(second[0]!).toBeGreaterThan(first[0]! + 100);
    model!.dispose?.();
  });
});
