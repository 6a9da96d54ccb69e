/**
 * `npm run bench:faults`: runs the fault scenarios (test/faults/rescale-faults.test.ts, through
 * vitest) with the report going to a file of its own, and copies the table into the `faults`
 * section of BENCHMARKS.md — only when every scenario passed. The test itself never writes
 * BENCHMARKS.md, so `npm test` leaves it untouched.
 *
 *   node dist/test/faults/bench-faults.js   (after npm run build)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../bench/benchmarks-file.js';
import { REPORT_ENV, writeReliabilitySection } from './reliability-table.js';

const dir = mkdtempSync(join(tmpdir(), 'phoebe-bench-faults-'));
const report = join(dir, 'reliability.md');
try {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/faults/rescale-faults.test.ts'], {
    cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, [REPORT_ENV]: report },
  });
  if (run.status !== 0 || !existsSync(report)) {
    process.stderr.write(`bench:faults: the fault scenarios did not all pass (vitest ${run.signal ?? `exit ${run.status}`}); BENCHMARKS.md unchanged\n`);
    process.exitCode = 1;
  } else {
    writeReliabilitySection(readFileSync(report, 'utf8'));
    process.stdout.write('bench:faults: BENCHMARKS.md section "faults" written\n');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
