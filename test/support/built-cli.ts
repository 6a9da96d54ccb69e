import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI, as users run it. */
export const BIN = join(ROOT, 'dist', 'src', 'cli', 'bin.js');

/** Newest modification time of the sources under dir (TypeScript, and the JSON it imports). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ when it is missing or older than src/, so a test started directly with vitest
 * runs the current code. tsc emits despite type errors; errors outside src/ (another test
 * file) do not concern the CLI, so only errors in src/ or a missing binary fail the build.
 */
export function ensureBuilt(): void {
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newestSource(join(ROOT, 'src'))) return;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  const output = `${build.stdout}\n${build.stderr}`;
  const srcErrors = output.split('\n').filter((line) => /^src\/\S*\(\d+,\d+\): error/.test(line));
  if (build.status === null || srcErrors.length > 0 || !existsSync(BIN)) {
    throw new Error(`build failed (status ${build.status}):\n${output}`.slice(0, 4000));
  }
}
