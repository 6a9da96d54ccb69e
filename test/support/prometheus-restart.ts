import { spawn, type ChildProcess } from 'node:child_process';
import type { PrometheusHarness } from './prometheus-harness.js';

/**
 * Outages of a harness Prometheus (test/support/prometheus-harness.ts): stop the process and start
 * it again with the same arguments, so it comes back on the same address with the same TSDB
 * (it replays its WAL), as a restarted Prometheus does; or freeze it (SIGSTOP) so it accepts
 * connections but never answers, as a hung one does.
 */
export interface PrometheusOutages {
  /** The process running now. */
  readonly process: ChildProcess;
  /** SIGTERM (SIGKILL after 10 s) and wait until it has exited. */
  down(): Promise<void>;
  /** Start it again (same arguments) and wait until /-/ready answers. */
  up(timeoutMs?: number): Promise<void>;
  /** SIGSTOP: connections are accepted, nothing is answered. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Ends the process running now and removes the harness's directory. */
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export function prometheusOutages(harness: PrometheusHarness): PrometheusOutages {
  const [binary, ...args] = harness.process.spawnargs;
  if (!binary) throw new Error('the harness process has no spawn arguments');
  let current: ChildProcess = harness.process;
  let frozen = false;
  const down = async (): Promise<void> => {
    if (frozen) { current.kill('SIGCONT'); frozen = false; }
    if (current.exitCode !== null || current.signalCode !== null) return;
    current.kill('SIGTERM');
    const done = await Promise.race([exited(current).then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      current.kill('SIGKILL');
      await exited(current);
    }
  };
  return {
    get process() { return current; },
    down,
    async up(timeoutMs = 30_000) {
      if (current.exitCode === null && current.signalCode === null) throw new Error('Prometheus is still running');
      current = spawn(binary, args, { stdio: 'ignore' });
      const until = Date.now() + timeoutMs;
      for (;;) {
        if (current.exitCode !== null) throw new Error(`Prometheus exited with ${current.exitCode} while starting again`);
        try {
          if ((await fetch(`${harness.url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > until) throw new Error(`Prometheus was not ready again within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    freeze() {
      current.kill('SIGSTOP');
      frozen = true;
    },
    thaw() {
      current.kill('SIGCONT');
      frozen = false;
    },
    async close() {
      if (frozen) { current.kill('SIGCONT'); frozen = false; }
      if (current !== harness.process) await down();
      await harness.stop();
    },
  };
}
