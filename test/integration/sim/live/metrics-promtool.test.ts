import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLINK_METRICS } from '../../../../src/sim/live/flink-metric-names.js';
import { advanceToSecond, makeCluster, startHarness } from '../../../support/live-cluster-harness.js';

const promtool = ['/usr/bin/promtool', 'promtool'].find((p) => p === 'promtool' ? spawnSync('promtool', ['--version']).status === 0 : existsSync(p));

/** promtool's verdict: only its camelCase lint, on Flink's own metric names, is accepted. */
function promtoolProblems(text: string): string[] {
  const run = spawnSync(promtool as string, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const flinkNames = new Set<string>(Object.values(FLINK_METRICS));
  const problems = lines.filter((line) => {
    const lint = /^(\S+) metric names should be written in 'snake_case' not 'camelCase'$/.exec(line);
    return !(lint && flinkNames.has(lint[1] as string));
  });
  if (run.status !== 0 && run.status !== 3) problems.push(`promtool exited ${run.status}`);
  return problems;
}

describe('live twin /metrics over HTTP', () => {
  it.skipIf(!promtool)('passes promtool check metrics (only its camelCase lint on Flink\'s own names), running and down', async () => {
    const cluster = makeCluster({ scheduler: 'adaptive' });
    const h = await startHarness(cluster);
    try {
      advanceToSecond(cluster, 15);
      const running = await h.get('/metrics');
      expect(running.status).toBe(200);
      expect(running.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(promtoolProblems(running.text)).toEqual([]);
      cluster.stopWithSavepoint(cluster.currentJob.id);
      advanceToSecond(cluster, 20);
      const down = await h.get('/metrics');
      expect(promtoolProblems(down.text)).toEqual([]);
      expect(down.text).not.toContain(FLINK_METRICS.busyTimeMsPerSecond);
      // promtool does find real problems.
      expect(promtoolProblems('foo{a="b} 1\n')).not.toEqual([]);
    } finally {
      await h.close();
    }
  });
});
