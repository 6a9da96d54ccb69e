import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../../src/config/scenario.js';
import { loadTrace } from '../../src/sim/trace.js';
import { userError } from '../support/user-error.js';

const SCENARIO_DIR = fileURLToPath(new URL('../../config/scenarios/', import.meta.url));
const SRC = 'my.yaml';
const BASE_DIR = '/scenarios/here';

/** A complete, valid scenario; tests change one line of it at a time. */
const VALID = `name: test
trace: { file: ../traces/t.csv, scale: 1.0 }
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
failures: { atSeconds: [300, 100] }
slo: { recoveryTimeSeconds: 180, latencySeconds: 1.0 }
seed: 7
`;

/** VALID with `from` replaced by `to`; fails loudly if `from` is not there. */
function edit(from: string, to: string, text = VALID): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

/** VALID without the line starting with `prefix`. */
function without(prefix: string, text = VALID): string {
  const lines = text.split('\n');
  const kept = lines.filter((line) => !line.startsWith(prefix));
  expect(kept.length).toBe(lines.length - 1);
  return kept.join('\n');
}

function parse(text: string) {
  return parseScenario(text, SRC, BASE_DIR);
}


describe('bundled scenarios', () => {
  const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

  it('exist, including cars and ads', () => {
    expect(files).toContain('cars.yaml');
    expect(files).toContain('ads.yaml');
  });

  for (const file of files) {
    it(`${file} loads and its trace file exists and parses`, () => {
      const scenario = loadScenario(join(SCENARIO_DIR, file));
      expect(scenario.name).toBe(file.replace(/\.ya?ml$/, ''));
      expect(existsSync(scenario.tracePath)).toBe(true);
      const trace = loadTrace(scenario.tracePath);
      expect(trace.values.length).toBeGreaterThan(0);
      expect(scenario.twin.minParallelism).toBeLessThanOrEqual(scenario.twin.initialParallelism);
      expect(scenario.twin.initialParallelism).toBeLessThanOrEqual(scenario.twin.maxParallelism);
      // Failures fall inside the trace, sorted.
      const failures = scenario.failures.atSeconds;
      expect([...failures].sort((a, b) => a - b)).toEqual(failures);
      for (const t of failures) expect(t).toBeLessThan(trace.values.length);
    });
  }

  it('cars.yaml has the documented figures', () => {
    const cars = loadScenario(join(SCENARIO_DIR, 'cars.yaml'));
    expect(cars.twin.capacity).toEqual({ model: 'linear', intercept: 6371, perSlot: 15934 });
    expect(cars.failures.atSeconds).toEqual([1200, 3943, 6686, 9429, 12172, 14915, 17658, 20401]);
    expect(cars.slo).toEqual({ recoveryTimeSeconds: 180, latencySeconds: 1.0 });
    expect(cars.tracePath).toBe(fileURLToPath(new URL('../../config/traces/cars_measured_workload.csv', import.meta.url)));
  });
});

describe('parseScenario: valid input', () => {
  it('parses every field', () => {
    const s = parse(VALID);
    expect(s.name).toBe('test');
    expect(s.trace).toEqual({ file: '../traces/t.csv', scale: 1 });
    expect(s.twin.capacity).toEqual({ model: 'linear', intercept: 6371, perSlot: 15934 });
    expect(s.twin.noise).toEqual({ capacity: 0.03 });
    expect(s.twin.checkpointIntervalSeconds).toBe(10);
    expect(s.twin.minParallelism).toBe(2);
    expect(s.twin.maxParallelism).toBe(24);
    expect(s.twin.initialParallelism).toBe(12);
    expect(s.slo).toEqual({ recoveryTimeSeconds: 180, latencySeconds: 1 });
    expect(s.seed).toBe(7);
    expect(s.source).toBe(SRC);
  });

  it('sorts the failure times', () => {
    expect(parse(VALID).failures.atSeconds).toEqual([100, 300]);
  });

  it('applies defaults for seed, noise, failures and trace scale', () => {
    let text = without('seed:');
    text = without('  noise:', text);
    text = without('failures:', text);
    text = edit('trace: { file: ../traces/t.csv, scale: 1.0 }', 'trace: { file: ../traces/t.csv }', text);
    const s = parse(text);
    expect(s.seed).toBe(1);
    expect(s.twin.noise).toEqual({ capacity: 0 });
    expect(s.failures).toEqual({ atSeconds: [] });
    expect(s.trace.scale).toBe(1);
  });

  it('accepts the usl capacity model', () => {
    const s = parse(edit('{ model: linear, intercept: 6371, perSlot: 15934 }', '{ model: usl, lambda1: 16000, sigma: 0.02, kappa: 0.0001 }'));
    expect(s.twin.capacity).toEqual({ model: 'usl', lambda1: 16000, sigma: 0.02, kappa: 0.0001 });
  });

  it('accepts initialParallelism at either end of the range', () => {
    expect(parse(edit('initialParallelism: 12', 'initialParallelism: 2')).twin.initialParallelism).toBe(2);
    expect(parse(edit('initialParallelism: 12', 'initialParallelism: 24')).twin.initialParallelism).toBe(24);
  });

  it('resolves the trace path against the base directory', () => {
    expect(parse(VALID).tracePath).toBe(resolve(BASE_DIR, '../traces/t.csv'));
    expect(parse(edit('file: ../traces/t.csv', 'file: /abs/t.csv')).tracePath).toBe('/abs/t.csv');
  });
});

describe('parseScenario: errors name the key', () => {
  it('unknown top-level key', () => {
    const message = userError(() => parse(`${VALID}policy: hpa\n`));
    expect(message).toContain(SRC);
    expect(message).toMatch(/unknown key "policy"/);
  });

  it('unknown nested key gives its dotted path and the missing one', () => {
    const message = userError(() => parse(edit('checkpointIntervalSeconds: 10', 'checkpointInterval: 10')));
    expect(message).toContain('"twin.checkpointInterval"');
    expect(message).toMatch(/unknown key "twin\.checkpointInterval"/);
    expect(message).toMatch(/missing key "twin\.checkpointIntervalSeconds"/);
  });

  it('unknown key deep inside capacity', () => {
    const message = userError(() => parse(edit('perSlot: 15934 }', 'perSlot: 15934, slope: 3 }')));
    expect(message).toContain('twin.capacity.slope');
  });

  it('missing required key', () => {
    expect(userError(() => parse(without('  baseLatencySeconds:')))).toMatch(/missing key "twin\.baseLatencySeconds"/);
    expect(userError(() => parse(without('slo:')))).toMatch(/missing key "slo"/);
  });

  it('string for a number', () => {
    const message = userError(() => parse(edit('minParallelism: 2', 'minParallelism: two')));
    expect(message).toContain(SRC);
    expect(message).toContain('"twin.minParallelism"');
    expect(message).toMatch(/number/);
  });

  it('quoted number is still a string', () => {
    expect(userError(() => parse(edit('seed: 7', 'seed: "7"')))).toContain('"seed"');
  });

  it('non-integer where an integer is required', () => {
    expect(userError(() => parse(edit('maxParallelism: 24', 'maxParallelism: 2.5')))).toContain('"twin.maxParallelism"');
  });

  it('bad element of a list names its index', () => {
    expect(userError(() => parse(edit('atSeconds: [300, 100]', 'atSeconds: [300, soon]')))).toContain('"failures.atSeconds[1]"');
  });

  it('negative capacity perSlot', () => {
    const message = userError(() => parse(edit('perSlot: 15934', 'perSlot: -1')));
    expect(message).toContain(SRC);
    expect(message).toContain('"twin.capacity.perSlot"');
  });

  it('zero capacity perSlot', () => {
    expect(userError(() => parse(edit('perSlot: 15934', 'perSlot: 0')))).toContain('"twin.capacity.perSlot"');
  });

  it('negative capacity intercept', () => {
    expect(userError(() => parse(edit('intercept: 6371', 'intercept: -5')))).toContain('"twin.capacity.intercept"');
  });

  it('negative usl parameter', () => {
    const text = edit('{ model: linear, intercept: 6371, perSlot: 15934 }', '{ model: usl, lambda1: 16000, sigma: -0.02, kappa: 0 }');
    expect(userError(() => parse(text))).toContain('"twin.capacity.sigma"');
  });

  it('negative noise and downtime', () => {
    expect(userError(() => parse(edit('noise: { capacity: 0.03 }', 'noise: { capacity: -0.1 }')))).toContain('"twin.noise.capacity"');
    expect(userError(() => parse(edit('restartDowntimeSeconds: 30', 'restartDowntimeSeconds: -30')))).toContain('"twin.restartDowntimeSeconds"');
  });

  it('unknown capacity model', () => {
    const message = userError(() => parse(edit('model: linear', 'model: cubic')));
    expect(message).toContain('"twin.capacity.model"');
    expect(message).toMatch(/linear/);
    expect(message).toMatch(/usl/);
  });

  it('maxParallelism below minParallelism', () => {
    const message = userError(() => parse(edit('maxParallelism: 24', 'maxParallelism: 1')));
    expect(message).toContain('"twin.maxParallelism"');
    expect(message).toMatch(/minParallelism/);
  });

  it('initialParallelism above the range', () => {
    const message = userError(() => parse(edit('initialParallelism: 12', 'initialParallelism: 25')));
    expect(message).toContain('"twin.initialParallelism"');
    expect(message).toContain('[2, 24]');
  });

  it('initialParallelism below the range', () => {
    expect(userError(() => parse(edit('initialParallelism: 12', 'initialParallelism: 1')))).toContain('"twin.initialParallelism"');
  });

  it('zero checkpoint interval', () => {
    expect(userError(() => parse(edit('checkpointIntervalSeconds: 10', 'checkpointIntervalSeconds: 0')))).toContain('"twin.checkpointIntervalSeconds"');
  });

  it('empty document and non-object document', () => {
    expect(userError(() => parse(''))).toContain(SRC);
    expect(userError(() => parse('- a\n- b\n'))).toContain(SRC);
  });

  it('one line per problem, each naming the source', () => {
    let text = edit('perSlot: 15934', 'perSlot: -1');
    text = edit('seed: 7', 'seed: x', text);
    const lines = userError(() => parse(text)).split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.startsWith(`${SRC}: `)).toBe(true);
    expect(lines.join('\n')).toContain('"twin.capacity.perSlot"');
    expect(lines.join('\n')).toContain('"seed"');
  });

  it('invalid YAML names the file and line', () => {
    const message = userError(() => parse(edit('slo: { recoveryTimeSeconds: 180, latencySeconds: 1.0 }', 'slo: { recoveryTimeSeconds: 180, latencySeconds: [1.0 }')));
    expect(message).toMatch(new RegExp(`^${SRC.replace('.', '\\.')}:14: invalid YAML`));
  });

  it('invalid YAML indentation names the file and line', () => {
    const message = userError(() => parse(edit('  minParallelism: 2', '   minParallelism: 2')));
    expect(message).toMatch(new RegExp(`^${SRC.replace('.', '\\.')}:\\d+: invalid YAML`));
  });
});

describe('loadScenario', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phoebe-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves the trace path relative to the scenario file, not the working directory', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const path = join(dir, 'sub', 'scenario.yaml');
    writeFileSync(path, VALID);
    const s = loadScenario(path);
    expect(s.tracePath).toBe(join(dir, 'traces', 't.csv'));
    expect(s.source).toBe(path);
  });

  it('names a missing file', () => {
    const path = join(dir, 'missing.yaml');
    const message = userError(() => loadScenario(path));
    expect(message).toContain(path);
    expect(message).toContain('ENOENT');
  });

  it('names the file in validation errors', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, edit('intercept: 6371', 'intercept: -5'));
    const message = userError(() => loadScenario(path));
    expect(message).toContain(path);
    expect(message).toContain('"twin.capacity.intercept"');
  });

  it('names the file and line of invalid YAML', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'name: x\ntrace: { file: a.csv\ntwin: {}\n');
    expect(userError(() => loadScenario(path))).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: invalid YAML`));
  });
});
