import { spawnSync } from 'node:child_process';
import { expect, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BIN } from './built-cli.js';

/** What a `phoebe` command line gave: its exit status and what it wrote. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `phoebe <args>` in this process (the CLI's main(), as bin.js calls it) and captures what it
 * writes. Unit tests use it: no build, no child process. An internal error (main() rejects) is
 * thrown, not turned into exit status 1 as bin.js does, so the test shows its stack.
 */
export async function runInProcess(args: string[]): Promise<CliRun> {
  let stderr = '';
  let stdout = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { stderr += String(chunk); return true; });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { stdout += String(chunk); return true; });
  try {
    return { status: await main(args), stderr, stdout };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

/** Runs the built CLI (dist/, see ensureBuilt) as users do, in `cwd`. */
export function runBuilt(args: string[], cwd: string): CliRun {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Bad input: exit status 2, nothing on stdout, and stderr holds one error message (the
 * first line) that mentions every `needle`, with no stack trace and no Node error dump.
 */
export function expectUsageError(run: CliRun, needles: string[]): string {
  expect(run.status, `stderr: ${run.stderr}`).toBe(2);
  expect(run.stdout).toBe('');
  const stderr = run.stderr;
  expect(stderr.trim()).not.toBe('');
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/^\w*Error:/m);
  expect(stderr).not.toMatch(/internal error/);
  expect(stderr).not.toMatch(/node:internal|\.js:\d+:\d+/);
  const firstLine = stderr.split('\n')[0] as string;
  expect(firstLine).toMatch(/^(phoebe|error): /);
  // Exactly one error message: every further line is part of a help text, not another error.
  expect(stderr.split('\n').filter((line) => /^(phoebe|error): /.test(line))).toHaveLength(1);
  for (const needle of needles) expect(firstLine).toContain(needle);
  return firstLine;
}
