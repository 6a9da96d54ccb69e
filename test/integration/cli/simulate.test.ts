import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunScores } from '../../../src/sim/scores.js';
import { ensureBuilt, ROOT } from '../../support/built-cli.js';
import { expectUsageError, runBuilt } from '../../support/cli-run.js';

/**
 * The built `phoebe simulate` as users run it: the exit status and the streams of a real
 * process (bin.js around main()). What the command does with each input is tested in process,
 * in test/cli/simulate.test.ts.
 */
let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'phoebe-cli-built-'));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('phoebe simulate (built CLI)', () => {
  it('ends with exit status 2 and one message, no stack, on bad input', () => {
    expectUsageError(runBuilt(['simulate', '--scenario', 'nope.yaml'], dir), ['nope.yaml', 'ENOENT']);
    expectUsageError(runBuilt(['simulate', '--scenario', 'nope.yaml', '--turbo'], dir), ['--turbo']);
  });

  it('scores a scenario with exit status 0, the table on stdout and the JSON file', () => {
    const out = join(dir, 'static.json');
    const run = runBuilt(['simulate', '--scenario', join(ROOT, 'config', 'scenarios', 'cars.yaml'), '--policy', 'static', '--json', out], dir);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^cars: 21601 s, seed 1,/);
    expect(run.stdout).toMatch(/^static\s+\d+\.\d+\s/m);
    const scores = JSON.parse(readFileSync(out, 'utf8')) as RunScores;
    expect(scores.policy).toBe('static');
    expect(scores.durationSeconds).toBe(21601);
  });
});
