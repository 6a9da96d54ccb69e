import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunScores } from '../../src/sim/scores.js';
import { BIN, ensureBuilt, ROOT } from '../support/built-cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CARS = join(ROOT, 'config', 'scenarios', 'cars.yaml');
const ALL_POLICIES = ['static', 'hpa', 'flink-autoscaler', 'phoebe-2022', 'phoebe'];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function phoebe(args: string[], cwd: string): Run {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Bad input: exit status 2, nothing on stdout, and stderr holds one error message (the
 * first line) that mentions every `needle`, with no stack trace and no Node error dump.
 */
function expectUsageError(run: Run, needles: string[]): string {
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

/** A 600 s trace: a ramp 10k → 70k and back, with a null and a one-second gap. */
function smallTrace(): string {
  const lines = ['timestamp|value'];
  for (let s = 0; s < 600; s++) {
    if (s === 50) continue; // a missing second
    const value = s === 51 ? 'null' : String(Math.round(10_000 + 60_000 * Math.sin((Math.PI * s) / 600)));
    lines.push(`${1_700_000_000 + s}|${value}`);
  }
  return `${lines.join('\n')}\n`;
}

function scenarioText(traceFile: string, changes: Record<string, string> = {}, extra = ''): string {
  let text = `name: small
trace: { file: ${traceFile}, scale: 1.0 }
twin:
  capacity: { model: linear, intercept: 6371, perSlot: 15934 }
  noise: { capacity: 0.03 }
  checkpointIntervalSeconds: 10
  restartDowntimeSeconds: 30
  rescaleDowntimeSeconds: 10
  baseLatencySeconds: 0.2
  minParallelism: 2
  maxParallelism: 24
  initialParallelism: 12
failures: { atSeconds: [200, 400] }
slo: { recoveryTimeSeconds: 180, latencySeconds: 1.0 }
seed: 1
`;
  for (const [from, to] of Object.entries(changes)) {
    if (!text.includes(from)) throw new Error(`test scenario has no "${from}"`);
    text = text.replace(from, to);
  }
  return text + extra;
}

type Scores = RunScores;

/** The scores without the wall-clock decision timings, which differ run to run. */
function deterministicPart(scores: Scores[]): Omit<Scores, 'decisionMillis'>[] {
  return scores.map(({ decisionMillis: _ignored, ...rest }) => rest);
}

let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'phoebe-cli-'));
  writeFileSync(join(dir, 'small.csv'), smallTrace());
  writeFileSync(join(dir, 'small.yaml'), scenarioText('small.csv'));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('phoebe simulate: bad input ends with exit status 2 and one message', () => {
  it('missing scenario file', () => {
    const run = phoebe(['simulate', '--scenario', 'nope.yaml'], dir);
    expectUsageError(run, ['nope.yaml', 'ENOENT']);
  });

  it('missing trace file', () => {
    writeFileSync(join(dir, 'missing-trace.yaml'), scenarioText('gone.csv'));
    const run = phoebe(['simulate', '--scenario', 'missing-trace.yaml'], dir);
    expectUsageError(run, [join(dir, 'gone.csv'), 'ENOENT']);
  });

  it('malformed trace line names file:line', () => {
    writeFileSync(join(dir, 'bad.csv'), 'timestamp|value\n1700000000|5\n1700000001|6\n1700000002;7\n1700000003|8\n');
    writeFileSync(join(dir, 'bad-trace.yaml'), scenarioText('bad.csv'));
    const run = phoebe(['simulate', '--scenario', 'bad-trace.yaml'], dir);
    expectUsageError(run, [`${join(dir, 'bad.csv')}:4`, '1700000002;7']);
  });

  it('negative trace value names file:line', () => {
    writeFileSync(join(dir, 'neg.csv'), '1700000000,5\n1700000001,-6\n');
    writeFileSync(join(dir, 'neg-trace.yaml'), scenarioText('neg.csv'));
    const run = phoebe(['simulate', '--scenario', 'neg-trace.yaml'], dir);
    expectUsageError(run, [`${join(dir, 'neg.csv')}:2`, 'negative']);
  });

  it('unknown policy, checked before anything runs', () => {
    const run = phoebe(['simulate', '--scenario', 'small.yaml', '--policy', 'static', '--policy', 'magic'], dir);
    const message = expectUsageError(run, ['unknown policy', '"magic"']);
    for (const name of ALL_POLICIES) expect(message).toContain(name);
  });

  it('unknown scenario key', () => {
    writeFileSync(join(dir, 'unknown-key.yaml'), scenarioText('small.csv', { 'checkpointIntervalSeconds: 10': 'checkpointInterval: 10' }));
    const run = phoebe(['simulate', '--scenario', 'unknown-key.yaml'], dir);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('unknown key "twin.checkpointInterval"');
    expect(run.stderr).toContain('unknown-key.yaml');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    // One line per problem (the unknown key and the key it should have been), each naming the file.
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^phoebe: unknown-key\.yaml: /);
    for (const line of lines) expect(line).toMatch(/^(phoebe: )?unknown-key\.yaml: (unknown|missing) key "twin\.checkpointInterval(Seconds)?"$/);
  });

  it('unknown top-level scenario key', () => {
    writeFileSync(join(dir, 'unknown-top.yaml'), scenarioText('small.csv', {}, 'policy: hpa\n'));
    const run = phoebe(['simulate', '--scenario', 'unknown-top.yaml'], dir);
    expectUsageError(run, ['unknown-top.yaml', 'unknown key "policy"']);
  });

  it('mistyped scenario key', () => {
    writeFileSync(join(dir, 'mistyped.yaml'), scenarioText('small.csv', { 'maxParallelism: 24': 'maxParallelism: lots' }));
    const run = phoebe(['simulate', '--scenario', 'mistyped.yaml'], dir);
    expectUsageError(run, ['mistyped.yaml', '"twin.maxParallelism"', 'number']);
  });

  it('negative capacity', () => {
    writeFileSync(join(dir, 'negative.yaml'), scenarioText('small.csv', { 'perSlot: 15934': 'perSlot: -1' }));
    const run = phoebe(['simulate', '--scenario', 'negative.yaml'], dir);
    expectUsageError(run, ['negative.yaml', '"twin.capacity.perSlot"']);
  });

  it('invalid YAML names file and line', () => {
    writeFileSync(join(dir, 'broken.yaml'), scenarioText('small.csv', { 'slo: {': 'slo: [' }));
    const run = phoebe(['simulate', '--scenario', 'broken.yaml'], dir);
    expectUsageError(run, ['broken.yaml:', 'invalid YAML']);
  });

  it('bad --seed', () => {
    const run = phoebe(['simulate', '--scenario', 'small.yaml', '--seed', 'abc'], dir);
    expectUsageError(run, ['--seed', 'abc']);
  });

  it('fractional --seed', () => {
    const run = phoebe(['simulate', '--scenario', 'small.yaml', '--seed', '1.5'], dir);
    expectUsageError(run, ['--seed', '1.5']);
  });

  it('unknown option', () => {
    const run = phoebe(['simulate', '--scenario', 'small.yaml', '--turbo'], dir);
    expectUsageError(run, ['--turbo']);
  });

  it('missing --scenario', () => {
    const run = phoebe(['simulate'], dir);
    expectUsageError(run, ['--scenario']);
  });

  it('unwritable --json path names the path', () => {
    const target = join(dir, 'no-such-dir', 'out.json');
    const run = phoebe(['simulate', '--scenario', 'small.yaml', '--policy', 'static', '--json', target], dir);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(target);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('phoebe simulate: runs', () => {
  function runJson(args: string[], name: string): { run: Run; json: unknown } {
    const out = join(dir, name);
    rmSync(out, { force: true });
    const run = phoebe(['simulate', ...args, '--json', out], dir);
    expect(run.status, `stderr: ${run.stderr}`).toBe(0);
    return { run, json: JSON.parse(readFileSync(out, 'utf8')) };
  }

  /** Table rows: lines of stdout that start with a policy name followed by figures. */
  function tableRows(stdout: string): string[] {
    return stdout.split('\n').filter((line) => /^\S+\s+\d+\.\d+\s/.test(line)).map((line) => line.split(/\s+/)[0] as string);
  }

  it('--policy all on cars.yaml scores every policy', () => {
    const { run, json } = runJson(['--scenario', CARS, '--policy', 'all'], 'cars-all.json');
    expect(Array.isArray(json)).toBe(true);
    const scores = json as Scores[];
    expect(scores.map((s) => s.policy)).toEqual(ALL_POLICIES);
    for (const s of scores) {
      expect(s.scenario).toBe('cars');
      expect(s.seed).toBe(1);
      expect(s.durationSeconds).toBe(21601);
      expect(s.lowerBoundMeanParallelism).toBeGreaterThan(0);
      expect(s.costRatio).toBeGreaterThanOrEqual(1);
      expect(s.costRatio).toBeCloseTo(s.meanParallelism / s.lowerBoundMeanParallelism, 9);
      expect(s.failures).toBe(8);
      expect(s.recoveryTimesSeconds).toHaveLength(8);
      for (const r of s.recoveryTimesSeconds) if (r !== null) expect(r).toBeGreaterThan(0);
      expect(s.recoveredWithinTarget).toBe(s.recoveryTimesSeconds.filter((r) => r !== null && r <= 180).length);
      expect(s.latencySloFraction).toBeGreaterThanOrEqual(0);
      expect(s.latencySloFraction).toBeLessThanOrEqual(1);
    }
    // Every policy is scored against the same lower bound.
    expect(new Set(scores.map((s) => s.lowerBoundMeanParallelism)).size).toBe(1);
    expect(tableRows(run.stdout)).toEqual(ALL_POLICIES);
    expect(run.stdout).toMatch(/^cars: 21601 s, seed 1,/);
  });

  it('no --policy runs all of them', () => {
    const { run, json } = runJson(['--scenario', 'small.yaml'], 'default.json');
    expect(Array.isArray(json)).toBe(true);
    expect((json as Scores[]).map((s) => s.policy)).toEqual(ALL_POLICIES);
    expect(tableRows(run.stdout)).toEqual(ALL_POLICIES);
  });

  it('a single --policy writes one object, not an array', () => {
    const { run, json } = runJson(['--scenario', 'small.yaml', '--policy', 'hpa'], 'single.json');
    expect(Array.isArray(json)).toBe(false);
    const s = json as Scores;
    expect(s.policy).toBe('hpa');
    expect(s.scenario).toBe('small');
    // The crafted 600 s trace: the missing second is filled in.
    expect(s.durationSeconds).toBe(600);
    expect(s.recoveryTimesSeconds).toHaveLength(2);
    expect(tableRows(run.stdout)).toEqual(['hpa']);
  });

  it('repeated --policy runs those, in order, once each', () => {
    const { run, json } = runJson(['--scenario', 'small.yaml', '--policy', 'flink-autoscaler', '--policy', 'static', '--policy', 'static'], 'two.json');
    expect(Array.isArray(json)).toBe(true);
    expect((json as Scores[]).map((s) => s.policy)).toEqual(['flink-autoscaler', 'static']);
    expect(tableRows(run.stdout)).toEqual(['flink-autoscaler', 'static']);
  });

  it('without --json prints the table and writes nothing', () => {
    const before = readdirSync(dir).sort();
    const run = phoebe(['simulate', '--scenario', 'small.yaml', '--policy', 'static'], dir);
    expect(run.status).toBe(0);
    expect(tableRows(run.stdout)).toEqual(['static']);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('the same seed gives identical scores', () => {
    const a = runJson(['--scenario', CARS, '--seed', '5'], 'seed5a.json').json as Scores[];
    const b = runJson(['--scenario', CARS, '--seed', '5'], 'seed5b.json').json as Scores[];
    expect(a.every((s) => s.seed === 5)).toBe(true);
    expect(deterministicPart(b)).toEqual(deterministicPart(a));
  });

  it('a different --seed changes at least one figure', () => {
    const a = runJson(['--scenario', CARS, '--seed', '5'], 'seed5c.json').json as Scores[];
    const b = runJson(['--scenario', CARS, '--seed', '6'], 'seed6.json').json as Scores[];
    expect(b.every((s) => s.seed === 6)).toBe(true);
    const strip = (scores: Scores[]) => deterministicPart(scores).map(({ seed: _seed, ...rest }) => rest);
    expect(strip(b)).not.toEqual(strip(a));
  });

  it('--seed overrides the scenario seed, which is the default', () => {
    const dflt = runJson(['--scenario', CARS, '--policy', 'static'], 'seed-default.json').json as Scores;
    const one = runJson(['--scenario', CARS, '--policy', 'static', '--seed', '1'], 'seed-1.json').json as Scores;
    expect(dflt.seed).toBe(1);
    expect(deterministicPart([one])).toEqual(deterministicPart([dflt]));
  });
});
