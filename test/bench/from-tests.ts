/**
 * The benchmarks that are test runs: runs vitest with the given arguments, with
 * $PHOEBE_BENCH_REPORTS pointing at a directory of its own, and copies the section the tests
 * reported there (reportSection) into BENCHMARKS.md — only when every test passed. Tests never
 * write BENCHMARKS.md themselves, so `npm test` leaves it untouched.
 *
 *   node dist/test/bench/from-tests.js SECTION [vitest arguments…]   (after npm run build)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, REPORTS_ENV, writeBenchmarkSection } from './benchmarks-file.js';

const [section, ...vitestArgs] = process.argv.slice(2);
if (!section || vitestArgs.length === 0) {
  process.stderr.write('usage: from-tests.js SECTION [vitest arguments…]\n');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), `phoebe-bench-${section}-`));
const report = join(dir, `${section}.md`);
try {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...vitestArgs], {
    cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, [REPORTS_ENV]: dir },
  });
  if (run.status !== 0 || !existsSync(report)) {
    process.stderr.write(`bench ${section}: the tests did not all pass or reported no "${section}" section (vitest ${run.signal ?? `exit ${run.status}`}); BENCHMARKS.md unchanged\n`);
    process.exitCode = 1;
  } else {
    writeBenchmarkSection(section, readFileSync(report, 'utf8'));
    process.stdout.write(`bench ${section}: BENCHMARKS.md section "${section}" written\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
