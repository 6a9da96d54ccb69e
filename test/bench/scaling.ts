/**
 * The scaling benchmark: every registered policy on every scenario in config/scenarios/, run
 * through the built `phoebe simulate` CLI; writes the score tables into BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunScores } from '../../src/sim/scores.js';
import { markdownTable, REPO_ROOT, writeBenchmarkSection } from './benchmarks-file.js';

const scenarioDir = join(REPO_ROOT, 'config', 'scenarios');
const cli = join(REPO_ROOT, 'dist', 'src', 'cli', 'bin.js');
const work = mkdtempSync(join(tmpdir(), 'phoebe-scaling-'));

const sections: string[] = [];
try {
  for (const file of readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml')).sort()) {
    const out = join(work, `${file}.json`);
    const run = spawnSync(process.execPath, [cli, 'simulate', '--scenario', join(scenarioDir, file), '--policy', 'all', '--json', out], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`simulate ${file} failed (${run.status}): ${run.stderr}`);
    const scores = JSON.parse(readFileSync(out, 'utf8')) as RunScores[];
    const first = scores[0] as RunScores;
    process.stdout.write(`${run.stdout}\n`);
    sections.push(
      `### ${first.scenario} (\`config/scenarios/${file}\`, seed ${first.seed}, ${first.durationSeconds} s)\n\n` +
        `Clairvoyant lower bound: mean parallelism ${first.lowerBoundMeanParallelism.toFixed(2)}.\n\n` +
        markdownTable(
          ['policy', 'mean p', 'cost ratio', 'recovered ≤ target', 'recovery times (s)', 'latency SLO fraction', 'rescales', 'decision p50 / p95 ms'],
          scores.map((s) => [
            s.policy,
            s.meanParallelism.toFixed(2),
            s.costRatio.toFixed(3),
            `${s.recoveredWithinTarget}/${s.failures}`,
            s.recoveryTimesSeconds.map((r) => (r === null ? '∞' : String(r))).join(' '),
            s.latencySloFraction.toFixed(4),
            String(s.rescales),
            `${s.decisionMillis.p50.toFixed(3)} / ${s.decisionMillis.p95.toFixed(3)}`,
          ]),
        ),
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

writeBenchmarkSection(
  'scaling',
  `## Scaling on the digital twin\n\nWritten by \`test/bench/scaling.ts\` (\`phoebe simulate --policy all\` on every scenario, ` +
    `node ${process.version}). Cost ratio = mean parallelism ÷ clairvoyant lower bound; recovery target and latency SLO ` +
    `per scenario file.\n\n${sections.join('\n\n')}`,
);
