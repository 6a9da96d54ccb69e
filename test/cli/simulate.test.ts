import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunScores } from '../../src/sim/scores.js';
import { ROOT } from '../support/built-cli.js';
import { expectUsageError, runInProcess as phoebe, type CliRun } from '../support/cli-run.js';

// `phoebe simulate` runs in this process (test/integration/cli/simulate.test.ts runs the built
// binary), from a scratch directory: scenario files are named relative to it, as a user types them.

const CARS = join(ROOT, 'config', 'scenarios', 'cars.yaml');
const ALL_POLICIES = ['static', 'hpa', 'flink-autoscaler', 'phoebe-2022', 'phoebe'];

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
let home: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phoebe-cli-'));
  writeFileSync(join(dir, 'small.csv'), smallTrace());
  writeFileSync(join(dir, 'small.yaml'), scenarioText('small.csv'));
  home = process.cwd();
  // Each test file has its own worker process (pool forks), so this changes no other file's cwd.
  process.chdir(dir);
});

afterAll(() => {
  process.chdir(home);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('phoebe simulate: bad input ends with exit status 2 and one message', () => {
  it('missing scenario file', async () => {
    const run = await phoebe(['simulate', '--scenario', 'nope.yaml']);
    expectUsageError(run, ['nope.yaml', 'ENOENT']);
  });

  it('missing trace file', async () => {
    writeFileSync(join(dir, 'missing-trace.yaml'), scenarioText('gone.csv'));
    const run = await phoebe(['simulate', '--scenario', 'missing-trace.yaml']);
    expectUsageError(run, [join(dir, 'gone.csv'), 'ENOENT']);
  });

  it('malformed trace line names file:line', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'timestamp|value\n1700000000|5\n1700000001|6\n1700000002;7\n1700000003|8\n');
    writeFileSync(join(dir, 'bad-trace.yaml'), scenarioText('bad.csv'));
    const run = await phoebe(['simulate', '--scenario', 'bad-trace.yaml']);
    expectUsageError(run, [`${join(dir, 'bad.csv')}:4`, '1700000002;7']);
  });

  it('negative trace value names file:line', async () => {
    writeFileSync(join(dir, 'neg.csv'), '1700000000,5\n1700000001,-6\n');
    writeFileSync(join(dir, 'neg-trace.yaml'), scenarioText('neg.csv'));
    const run = await phoebe(['simulate', '--scenario', 'neg-trace.yaml']);
    expectUsageError(run, [`${join(dir, 'neg.csv')}:2`, 'negative']);
  });

  it('unknown policy, checked before anything runs', async () => {
    const run = await phoebe(['simulate', '--scenario', 'small.yaml', '--policy', 'static', '--policy', 'magic']);
    const message = expectUsageError(run, ['unknown policy', '"magic"']);
    for (const name of ALL_POLICIES) expect(message).toContain(name);
  });

  it('unknown scenario key', async () => {
    writeFileSync(join(dir, 'unknown-key.yaml'), scenarioText('small.csv', { 'checkpointIntervalSeconds: 10': 'checkpointInterval: 10' }));
    const run = await phoebe(['simulate', '--scenario', 'unknown-key.yaml']);
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

  it('unknown top-level scenario key', async () => {
    writeFileSync(join(dir, 'unknown-top.yaml'), scenarioText('small.csv', {}, 'policy: hpa\n'));
    const run = await phoebe(['simulate', '--scenario', 'unknown-top.yaml']);
    expectUsageError(run, ['unknown-top.yaml', 'unknown key "policy"']);
  });

  it('mistyped scenario key', async () => {
    writeFileSync(join(dir, 'mistyped.yaml'), scenarioText('small.csv', { 'maxParallelism: 24': 'maxParallelism: lots' }));
    const run = await phoebe(['simulate', '--scenario', 'mistyped.yaml']);
    expectUsageError(run, ['mistyped.yaml', '"twin.maxParallelism"', 'number']);
  });

  it('negative capacity', async () => {
    writeFileSync(join(dir, 'negative.yaml'), scenarioText('small.csv', { 'perSlot: 15934': 'perSlot: -1' }));
    const run = await phoebe(['simulate', '--scenario', 'negative.yaml']);
    expectUsageError(run, ['negative.yaml', '"twin.capacity.perSlot"']);
  });

  it('invalid YAML names file and line', async () => {
    writeFileSync(join(dir, 'broken.yaml'), scenarioText('small.csv', { 'slo: {': 'slo: [' }));
    const run = await phoebe(['simulate', '--scenario', 'broken.yaml']);
    expectUsageError(run, ['broken.yaml:', 'invalid YAML']);
  });

  it('bad --seed', async () => {
    const run = await phoebe(['simulate', '--scenario', 'small.yaml', '--seed', 'abc']);
    expectUsageError(run, ['--seed', 'abc']);
  });

  it('fractional --seed', async () => {
    const run = await phoebe(['simulate', '--scenario', 'small.yaml', '--seed', '1.5']);
    expectUsageError(run, ['--seed', '1.5']);
  });

  it('unknown option', async () => {
    const run = await phoebe(['simulate', '--scenario', 'small.yaml', '--turbo']);
    expectUsageError(run, ['--turbo']);
  });

  it('missing --scenario', async () => {
    const run = await phoebe(['simulate']);
    expectUsageError(run, ['--scenario']);
  });

  it('unwritable --json path names the path', async () => {
    const target = join(dir, 'no-such-dir', 'out.json');
    const run = await phoebe(['simulate', '--scenario', 'small.yaml', '--policy', 'static', '--json', target]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(target);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('phoebe simulate: runs', () => {
  async function runJson(args: string[], name: string): Promise<{ run: CliRun; json: unknown }> {
    const out = join(dir, name);
    rmSync(out, { force: true });
    const run = await phoebe(['simulate', ...args, '--json', out]);
    expect(run.status, `stderr: ${run.stderr}`).toBe(0);
    return { run, json: JSON.parse(readFileSync(out, 'utf8')) };
  }

  /** Table rows: lines of stdout that start with a policy name followed by figures. */
  function tableRows(stdout: string): string[] {
    return stdout.split('\n').filter((line) => /^\S+\s+\d+\.\d+\s/.test(line)).map((line) => line.split(/\s+/)[0] as string);
  }

  it('--policy all on cars.yaml scores every policy', async () => {
    const { run, json } = await runJson(['--scenario', CARS, '--policy', 'all'], 'cars-all.json');
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

  it('no --policy runs all of them', async () => {
    const { run, json } = await runJson(['--scenario', 'small.yaml'], 'default.json');
    expect(Array.isArray(json)).toBe(true);
    expect((json as Scores[]).map((s) => s.policy)).toEqual(ALL_POLICIES);
    expect(tableRows(run.stdout)).toEqual(ALL_POLICIES);
  });

  it('a single --policy writes one object, not an array', async () => {
    const { run, json } = await runJson(['--scenario', 'small.yaml', '--policy', 'hpa'], 'single.json');
    expect(Array.isArray(json)).toBe(false);
    const s = json as Scores;
    expect(s.policy).toBe('hpa');
    expect(s.scenario).toBe('small');
    // The crafted 600 s trace: the missing second is filled in.
    expect(s.durationSeconds).toBe(600);
    expect(s.recoveryTimesSeconds).toHaveLength(2);
    expect(tableRows(run.stdout)).toEqual(['hpa']);
  });

  it('repeated --policy runs those, in order, once each', async () => {
    const { run, json } = await runJson(['--scenario', 'small.yaml', '--policy', 'flink-autoscaler', '--policy', 'static', '--policy', 'static'], 'two.json');
    expect(Array.isArray(json)).toBe(true);
    expect((json as Scores[]).map((s) => s.policy)).toEqual(['flink-autoscaler', 'static']);
    expect(tableRows(run.stdout)).toEqual(['flink-autoscaler', 'static']);
  });

  it('without --json prints the table and writes nothing', async () => {
    const before = readdirSync(dir).sort();
    const run = await phoebe(['simulate', '--scenario', 'small.yaml', '--policy', 'static']);
    expect(run.status).toBe(0);
    expect(tableRows(run.stdout)).toEqual(['static']);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  // The seed tests use the small scenario: it has capacity noise and failures, so the seed
  // matters to every policy's figures, and 600 s run in a fraction of cars.yaml's 6 h.
  it('the same seed gives identical scores', async () => {
    const a = (await runJson(['--scenario', 'small.yaml', '--seed', '5'], 'seed5a.json')).json as Scores[];
    const b = (await runJson(['--scenario', 'small.yaml', '--seed', '5'], 'seed5b.json')).json as Scores[];
    expect(a.every((s) => s.seed === 5)).toBe(true);
    expect(deterministicPart(b)).toEqual(deterministicPart(a));
  });

  it('a different --seed changes at least one figure', async () => {
    const a = (await runJson(['--scenario', 'small.yaml', '--seed', '5'], 'seed5c.json')).json as Scores[];
    const b = (await runJson(['--scenario', 'small.yaml', '--seed', '6'], 'seed6.json')).json as Scores[];
    expect(b.every((s) => s.seed === 6)).toBe(true);
    const strip = (scores: Scores[]) => deterministicPart(scores).map(({ seed: _seed, ...rest }) => rest);
    expect(strip(b)).not.toEqual(strip(a));
  });

  it('--seed overrides the scenario seed, which is the default', async () => {
    const dflt = (await runJson(['--scenario', 'small.yaml', '--policy', 'static'], 'seed-default.json')).json as Scores;
    const one = (await runJson(['--scenario', 'small.yaml', '--policy', 'static', '--seed', '1'], 'seed-1.json')).json as Scores;
    expect(dflt.seed).toBe(1);
    expect(deterministicPart([one])).toEqual(deterministicPart([dflt]));
  });
});
