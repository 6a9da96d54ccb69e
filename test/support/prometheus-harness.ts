import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A real Prometheus for tests: the Debian `prometheus` binary (test/setup/install-system-deps.sh
 * installs it) on 127.0.0.1 at a free port, with its TSDB in a temporary directory and a
 * generated configuration scraping the given targets every second.
 *
 * Ready (/-/ready) takes well under a second; the first scrape comes about 5 s later (Prometheus
 * applies discovered targets on a 5 s tick), so wait for data with `waitFor`.
 *
 * Note: a scraped series' own `job` label is renamed `exported_job` (the scrape job wins);
 * Flink's reporter uses `job_name`, which stays as it is.
 */

export interface PrometheusHarnessOptions {
  /** host:port of each target to scrape. */
  targets: readonly string[];
  /** Scrape (and rule evaluation) interval, s. Default 1. */
  scrapeIntervalSeconds?: number;
  /** The scrape job's name (the `job` label of every scraped series). Default `phoebe-test`. */
  jobName?: string;
  metricsPath?: string;
  /** The binary; default: $PHOEBE_PROMETHEUS_BIN, /usr/bin/prometheus, or prometheus on PATH. */
  binary?: string;
  /** Give up waiting for /-/ready after this long (ms). Default 20000. */
  readyTimeoutMs?: number;
  /** Extra YAML appended to the generated prometheus.yml (e.g. rule_files). */
  extraConfig?: string;
  extraArgs?: readonly string[];
}

export interface PrometheusHarness {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  /** Temporary directory holding the config and the TSDB (removed by stop). */
  readonly dir: string;
  readonly process: ChildProcess;
  /** The last output of Prometheus, for diagnosing a failure. */
  logs(): string;
  /** Instant query; the values of the resulting vector (or scalar). */
  query(expr: string): Promise<number[]>;
  /** Polls an instant query until predicate holds on its values; rejects after timeoutMs. */
  waitFor(expr: string, predicate: (values: number[]) => boolean, timeoutMs?: number): Promise<number[]>;
  /** SIGTERM, then SIGKILL after a bound; removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/** Whether `path` is a file this process may run. */
export function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Prometheus binary to use, or undefined when none is installed. */
export function findPrometheus(): string | undefined {
  const fromEnv = process.env.PHOEBE_PROMETHEUS_BIN;
  if (fromEnv) return executable(fromEnv) ? fromEnv : undefined;
  if (executable('/usr/bin/prometheus')) return '/usr/bin/prometheus';
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'prometheus'))) return join(dir, 'prometheus');
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function prometheusYaml(options: PrometheusHarnessOptions): string {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(options.jobName ?? 'phoebe-test')}`,
    `    metrics_path: ${JSON.stringify(options.metricsPath ?? '/metrics')}`,
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    options.extraConfig ?? '',
    '',
  ].join('\n');
}

export async function startPrometheus(options: PrometheusHarnessOptions): Promise<PrometheusHarness> {
  const binary = options.binary ?? findPrometheus();
  if (!binary) throw new Error('no prometheus binary (run test/setup/install-system-deps.sh as root, or set PHOEBE_PROMETHEUS_BIN)');
  const dir = mkdtempSync(join(tmpdir(), 'phoebe-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusYaml(options));
  let lastError: Error | undefined;
  // The free port may be taken between asking and binding: a few attempts.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(binary, dir, configFile, port, options);
    } catch (err) {
      lastError = err as Error;
      if (!/address already in use/i.test(lastError.message)) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('prometheus did not start');
}

async function launch(binary: string, dir: string, configFile: string, port: number, options: PrometheusHarnessOptions): Promise<PrometheusHarness> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, `data-${port}`)}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1d',
    '--log.level=info',
    ...(options.extraArgs ?? []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => { output = (output + chunk.toString('utf8')).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(); });
    child.on('error', (err) => { output += `\nspawn error: ${err.message}`; exited ??= { code: -1, signal: null }; resolve(); });
  });

  const terminate = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timedOut = await Promise.race([exit.then(() => false), sleep(5000).then(() => true)]);
    if (timedOut && !exited) {
      child.kill('SIGKILL');
      await Promise.race([exit, sleep(2000)]);
    }
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await terminate();
    rmSync(dir, { recursive: true, force: true });
  };

  const query = async (expr: string): Promise<number[]> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${expr} failed: ${body.error ?? response.status}`);
    if (body.data.resultType === 'scalar') return [Number.parseFloat((body.data.result as [number, string])[1])];
    return (body.data.result as Array<{ value: [number, string] }>).map((s) => Number.parseFloat(s.value[1]));
  };

  const waitFor = async (expr: string, predicate: (values: number[]) => boolean, timeoutMs = 15_000): Promise<number[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: number[] = [];
    for (;;) {
      last = await query(expr);
      if (predicate(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expr}; last value ${JSON.stringify(last)}`);
      await sleep(200);
    }
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exited) {
      throw new Error(`prometheus exited (code ${exited.code}, signal ${exited.signal}) before it was ready:\n${output.slice(-3000)}`);
    }
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await terminate();
      throw new Error(`prometheus was not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${output.slice(-3000)}`);
    }
    await sleep(50);
  }
  return { url, port, dir, process: child, logs: () => output, query, waitFor, stop };
}
