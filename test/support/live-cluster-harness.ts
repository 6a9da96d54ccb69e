/** The live twin as an HTTP harness for the integration tests of its routes (the unit tests' in-process emulator is live-twin.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { LiveCluster, type LiveClusterOptions } from '../../src/sim/live/live-cluster.js';
import { startLiveTwinServer, type LiveTwinServer } from '../../src/sim/live/server.js';
import { ROOT } from './built-cli.js';
import { constant, scenario } from './fixtures.js';

/** An upstream API specification bundled in config/specs/ (see its README for the sources). */
export function specPath(file: string): string {
  return join(ROOT, 'config', 'specs', file);
}

export function loadYaml(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8'));
}

export const START_MS = 1_700_000_000_000;

export type TestScenarioOverrides = Parameters<typeof scenario>[0];

/**
 * A cluster on the fixtures' round-number scenario (1000 records/s per slot, no noise,
 * p0 = 10, rescale downtime 10 s, restart downtime 30 s), 6000 records/s for `seconds`.
 */
export function makeCluster(options: Partial<LiveClusterOptions> & { overrides?: TestScenarioOverrides; seconds?: number; rate?: number } = {}): LiveCluster {
  const { overrides, seconds, rate, ...rest } = options;
  const sc = { ...scenario(overrides), name: 'twin-test' };
  return new LiveCluster({
    scenario: sc,
    arrivals: Float64Array.from(constant(rate ?? 6000, seconds ?? 600)),
    seed: 1,
    startWallMs: START_MS,
    ...rest,
  });
}

/** Advances the cluster to the start of simulated second s. */
export function advanceToSecond(cluster: LiveCluster, s: number): void {
  cluster.advanceTo(cluster.wallOf(s));
}

export interface Harness {
  cluster: LiveCluster;
  server: LiveTwinServer;
  url: string;
  get(path: string): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  send(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

/** The cluster behind a real HTTP server on 127.0.0.1 (free port), with a manual clock. */
export async function startHarness(cluster: LiveCluster): Promise<Harness> {
  const server = await startLiveTwinServer({ cluster, port: 0, manualClock: true });
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return {
    cluster,
    server,
    url: server.url,
    async get(path) {
      const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      return { status: response.status, body: parse(text), text, headers: response.headers };
    },
    async send(method, path, body, contentType = 'application/json') {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': contentType },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      return { status: response.status, body: parse(text), text };
    },
    close: () => server.close(),
  };
}

/**
 * For a test file whose tests each serve one cluster: returns `open(cluster)`, which starts its
 * harness; the harness is closed after the test.
 */
export function harnessPerTest(): (cluster: LiveCluster) => Promise<Harness> {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  return async (cluster) => {
    harness = await startHarness(cluster);
    return harness;
  };
}
