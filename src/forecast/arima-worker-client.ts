import { Worker } from 'node:worker_threads';
import type { ArimaRequest, ArimaResponse } from './arima-messages.js';

/** Distributes `Omit` over the request union, so each variant keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class ArimaWorkerError extends Error {
  override readonly name = 'ArimaWorkerError';
}

export interface ArimaWorkerClientOptions {
  /** A request that takes longer counts as a failure: the worker is replaced. */
  timeoutMs: number;
}

interface Waiting {
  resolve: (values: number[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Owns one `arima` worker thread and replaces it after any failure: an error reply, a crash,
 * an exit or a timeout. Models live inside a worker, so a replacement invalidates every key
 * issued before it; requests on such keys fail fast instead of reaching an empty worker.
 */
export class ArimaWorkerClient {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private nextKey = 1;
  private readonly keyGeneration = new Map<number, number>();
  /** Workers started so far; each replacement adds one. */
  private started = 0;

  constructor(private readonly options: ArimaWorkerClientOptions = { timeoutMs: 30_000 }) {}

  get workersStarted(): number {
    return this.started;
  }

  /** Reserves a model key on the current (or next) worker. */
  newKey(): number {
    const key = this.nextKey++;
    this.keyGeneration.set(key, this.worker === null ? this.started + 1 : this.started);
    return key;
  }

  async request(message: WithoutId<ArimaRequest>): Promise<number[]> {
    const generation = this.keyGeneration.get(message.key);
    const worker = this.ensureWorker();
    if (generation !== this.started) throw new ArimaWorkerError(`model ${message.key} was lost with a replaced worker`);
    const id = this.nextId++;
    return new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => this.replace(new ArimaWorkerError(`arima worker did not answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      worker.postMessage({ ...message, id } as ArimaRequest);
    });
  }

  /** Forgets a model; failures are irrelevant because the worker may already be gone. */
  release(key: number): void {
    if (this.keyGeneration.get(key) === this.started && this.worker !== null) this.request({ type: 'free', key }).catch(() => undefined);
    this.keyGeneration.delete(key);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.rejectAll(new ArimaWorkerError('arima worker closed'));
    if (worker !== null) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = startWorker();
    // An idle worker must not keep the process alive; pending requests hold a timer instead.
    worker.unref();
    worker.on('message', (response: ArimaResponse) => this.settle(response));
    worker.on('error', (err) => this.replace(new ArimaWorkerError(`arima worker crashed: ${err.message}`), worker));
    worker.on('exit', (code) => this.replace(new ArimaWorkerError(`arima worker exited with code ${code}`), worker));
    this.worker = worker;
    this.started++;
    return worker;
  }

  private settle(response: ArimaResponse): void {
    const waiting = this.waiting.get(response.id);
    if (waiting === undefined) return;
    this.waiting.delete(response.id);
    clearTimeout(waiting.timer);
    if (response.ok) {
      waiting.resolve(response.values);
      return;
    }
    waiting.reject(new ArimaWorkerError(response.error ?? 'arima failed'));
    // The WebAssembly heap may be corrupt after any failure: start over in a fresh thread.
    this.replace(new ArimaWorkerError(`arima worker replaced after: ${response.error ?? 'failure'}`));
  }

  private replace(reason: Error, which: Worker | null = this.worker): void {
    if (which === null || which !== this.worker) return;
    this.worker = null;
    this.rejectAll(reason);
    which.removeAllListeners();
    which.on('error', () => undefined);
    void which.terminate();
  }

  private rejectAll(reason: Error): void {
    for (const [id, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(reason);
      this.waiting.delete(id);
    }
  }
}

/**
 * From dist the worker is JavaScript next to this module. Under vitest (or tsx) this module is
 * TypeScript source, and so is the worker; Node 20 applies no loader hooks inside a worker
 * started with `--import`, so a small bootstrap registers tsx in the thread, then imports it.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./arima-worker.js', import.meta.url));
  const target = JSON.stringify(new URL('./arima-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${target}); });`, { eval: true });
}
