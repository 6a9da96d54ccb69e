import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** BENCHMARKS.md at the repository root (this file runs from dist/test/bench or test/bench). */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url));
const FILE = `${REPO_ROOT}BENCHMARKS.md`;

/**
 * Replaces the block between `<!-- NAME:start -->` and `<!-- NAME:end -->` in BENCHMARKS.md,
 * appending it when absent, so each benchmark owns its section and leaves the others alone.
 */
export function writeBenchmarkSection(name: string, markdown: string): void {
  // `npm test` never rewrites a tracked file: a test reports its figures with reportSection(),
  // and `npm run bench:*` (from-tests.ts) copies them here.
  if (process.env.VITEST) throw new Error(`BENCHMARKS.md is written by npm run bench*, never by a test run (section "${name}")`);
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const current = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n\nEvery figure below is written by a script in `test/bench/` from a run of the project\'s own CLI; `npm run bench` re-runs them all.\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Where a test run leaves the sections it measured (from-tests.ts points it at a directory of its own). */
export const REPORTS_ENV = 'PHOEBE_BENCH_REPORTS';

/**
 * A test's figures for the BENCHMARKS.md section `name`, written to a file under
 * $PHOEBE_BENCH_REPORTS (default: the OS temp dir) — never to BENCHMARKS.md itself. Returns the path.
 */
export function reportSection(name: string, markdown: string): string {
  const dir = process.env[REPORTS_ENV] || join(tmpdir(), 'phoebe-bench-reports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.md`);
  writeFileSync(`${file}.tmp`, markdown);
  renameSync(`${file}.tmp`, file);
  return file;
}
