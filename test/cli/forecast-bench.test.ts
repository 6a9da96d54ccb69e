import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess as run } from '../support/cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'phoebe-forecast-bench-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Ten days of an hourly daily-periodic series, with one empty row the protocol must drop. */
function writeSeries(): string {
  const lines = ['date,messages'];
  for (let i = 0; i < 240; i++) {
    const date = new Date(Date.UTC(2021, 0, 1, i)).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${date},${i === 100 ? '' : (1000 + 300 * Math.sin((2 * Math.PI * i) / 24) + 0.7).toFixed(3)}`);
  }
  const path = join(work, 'series_1h.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('phoebe forecast-bench', () => {
  it('writes date,t,phoebe for every test row and prints MAE and timings', async () => {
    const input = writeSeries();
    const output = join(work, 'out.csv');
    const json = join(work, 'out.json');
    const { status, stdout } = await run(['forecast-bench', '--input', input, '--horizon', '12', '--season', '24', '--output', output, '--json', json]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/MAE [\d.]+ over 48 test rows; fit [\d.]+ s, updates [\d.]+ s/);
    const rows = readFileSync(output, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('date,t,phoebe');
    expect(rows).toHaveLength(1 + 48); // 239 valued rows, floor(0.8·239) = 191 for fitting
    const first = rows[1]!.split(',');
    // Valued row 191 is hour 192: the empty row at hour 100 was dropped before the split.
    expect(first[0]).toBe('2021-01-09 00:00:00');
    expect(Number(first[1])).toBe(Math.trunc(Number((1000 + 300 * Math.sin((2 * Math.PI * 192) / 24) + 0.7).toFixed(3))));
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.trainRows).toBe(191);
    expect(summary.detectedSeason).toBe(24);
    // Truncation to integers is the only noise: the periodic signal is forecast almost exactly.
    expect(summary.mae).toBeLessThan(2);
  });

  it('exits 2 with a message for a missing file, a bad header or bad flags', async () => {
    const missing = await run(['forecast-bench', '--input', join(work, 'nope.csv'), '--horizon', '4', '--season', '96', '--output', join(work, 'x.csv')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv/);

    const bad = join(work, 'bad.csv');
    writeFileSync(bad, 'time,value\n1,2\n');
    const header = await run(['forecast-bench', '--input', bad, '--horizon', '4', '--season', '96', '--output', join(work, 'x.csv')]);
    expect(header.status).toBe(2);
    expect(header.stderr).toMatch(/date,messages/);

    for (const flags of [['--horizon', '0', '--season', '24'], ['--horizon', '4', '--season', 'x'], ['--horizon', '4', '--season', '24', '--split', '1.5']]) {
      const r = await run(['forecast-bench', '--input', bad, ...flags, '--output', join(work, 'x.csv')]);
      expect(r.status).toBe(2);
    }
  });
});
