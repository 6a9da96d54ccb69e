/** What the unit tests of the live twin's /metrics share: a strict reader of the text format, an arrival trace. */
import { expect } from 'vitest';
import type { LiveCluster } from '../../../src/sim/live/live-cluster.js';
import { renderMetrics } from '../../../src/sim/live/metrics-exposition.js';
import { constant } from '../../support/fixtures.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every sample belongs to a declared family, no duplicates. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const seen = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (gauge|counter|summary|histogram|untyped)$/.exec(line);
    if (type) {
      expect(types.has(type[1] as string), `family ${type[1]} declared twice`).toBe(false);
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    const [, name, body, value] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const pair of (body ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1).replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    }
    const family = types.has(name) ? name : name.replace(/_(count|sum)$/, '');
    expect(types.has(family), `sample ${name} has no TYPE`).toBe(true);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

export function series(samples: Sample[], name: string): Sample[] {
  return samples.filter((s) => s.name === name);
}

/** The cluster's exposition now, parsed. */
export function sample(cluster: LiveCluster): Sample[] {
  return parseExposition(renderMetrics(cluster));
}

export const sum = (xs: Sample[]): number => xs.reduce((a, x) => a + x.value, 0);

/** Arrival rates: `rate` records/s, none in [from, to) (an idle topic for a while). */
export function idleBetween(from: number, to: number, rate = 6000, seconds = 600): Float64Array {
  return Float64Array.from(constant(rate, seconds), (v, s) => (s >= from && s < to ? 0 : v));
}
