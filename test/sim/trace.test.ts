import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/user-error.js';
import { loadTrace, MAX_TRACE_SECONDS, parseTrace } from '../../src/sim/trace.js';
import { userError } from '../support/user-error.js';

const SRC = 'w.csv';

function values(text: string): number[] {
  return [...parseTrace(text, SRC).values];
}

/** Runs fn, expects a UserError, returns its message. */

describe('parseTrace: formats', () => {
  it('reads | separated lines', () => {
    const trace = parseTrace('100|5\n101|6\n102|7\n', SRC);
    expect(trace.startTime).toBe(100);
    expect([...trace.values]).toEqual([5, 6, 7]);
  });

  it('reads , separated lines', () => {
    const trace = parseTrace('100,5\n101,6.5\n102,7\n', SRC);
    expect(trace.startTime).toBe(100);
    expect([...trace.values]).toEqual([5, 6.5, 7]);
  });

  it('skips a header line, with either separator', () => {
    expect(values('timestamp|value\n100|5\n101|6\n')).toEqual([5, 6]);
    expect(values('second,value\n100,5\n101,6\n')).toEqual([5, 6]);
  });

  it('reads the same data without a header', () => {
    expect(values('100|5\n101|6\n')).toEqual(values('timestamp|value\n100|5\n101|6\n'));
    expect(parseTrace('100|5\n101|6\n', SRC).startTime).toBe(100);
  });

  it('accepts whitespace around fields, blank lines and # comments', () => {
    expect(values('# a comment\ntimestamp | value\n\n 100 | 5 \n# mid\n101|6\n\n')).toEqual([5, 6]);
  });

  it('accepts CRLF line endings', () => {
    const trace = parseTrace('timestamp|value\r\n100|5\r\n101|6\r\n102|null\r\n103|8\r\n', SRC);
    expect(trace.startTime).toBe(100);
    expect([...trace.values]).toEqual([5, 6, 6, 8]);
  });

  it('gives the malformed line of a CRLF file its true number', () => {
    expect(userError(() => parseTrace('timestamp|value\r\n100|5\r\nbroken\r\n', SRC))).toContain(`${SRC}:3`);
  });

  it('reads the bundled trace files', () => {
    const trace = loadTrace(new URL('../../config/traces/cars_measured_workload.csv', import.meta.url).pathname);
    expect(trace.startTime).toBe(1645093041);
    expect(trace.values.length).toBe(21601);
    expect(trace.values[0]).toBe(42680);
    expect(trace.values[2]).toBe(53350);
    expect(trace.values.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
  });
});

describe('parseTrace: gaps', () => {
  it('carries the last value over null values', () => {
    expect(values('100|5\n101|null\n102|NULL\n103|9\n104|null\n')).toEqual([5, 5, 5, 9, 9]);
  });

  it('treats an empty value and NaN as null', () => {
    expect(values('100|5\n101|\n102|NaN\n103|9\n')).toEqual([5, 5, 5, 9]);
  });

  it('gives leading nulls the first known value', () => {
    expect(values('100|null\n101|null\n102|7\n103|8\n')).toEqual([7, 7, 7, 8]);
  });

  it('fills missing seconds with the last value', () => {
    const trace = parseTrace('100|5\n103|9\n104|10\n107|1\n', SRC);
    expect(trace.startTime).toBe(100);
    expect([...trace.values]).toEqual([5, 5, 5, 9, 10, 10, 10, 1]);
  });

  it('fills a jump after a null with the value before the null', () => {
    expect(values('100|5\n101|null\n104|2\n')).toEqual([5, 5, 5, 5, 2]);
  });

  it('resamples fractional timestamps to whole seconds, newest sample wins', () => {
    const trace = parseTrace('100.2|5\n100.7|6\n101.5|7\n', SRC);
    expect(trace.startTime).toBe(100);
    expect([...trace.values]).toEqual([6, 7]);
  });
});

describe('parseTrace: errors', () => {
  it('rejects a line without exactly two fields, naming file:line', () => {
    const message = userError(() => parseTrace('timestamp|value\n100|5\n101|6\nthis is not a sample\n102|7\n', SRC));
    expect(message).toContain(`${SRC}:4`);
    expect(message).toContain('this is not a sample');
    expect(userError(() => parseTrace('100|5\n101|6|7\n', SRC))).toContain(`${SRC}:2`);
  });

  it('rejects a non-numeric timestamp after the data started', () => {
    const message = userError(() => parseTrace('100|5\nsoon|6\n', SRC));
    expect(message).toContain(`${SRC}:2`);
    expect(message).toContain('soon');
  });

  it('allows a header only as the first line', () => {
    const message = userError(() => parseTrace('timestamp|value\nx101|6\n102|7\n', SRC));
    expect(message).toContain(`${SRC}:2`);
    expect(message).toContain('x101');
  });

  it('rejects a non-numeric value', () => {
    const message = userError(() => parseTrace('100|5\n101|lots\n', SRC));
    expect(message).toContain(`${SRC}:2`);
    expect(message).toContain('lots');
  });

  it('rejects an infinite value', () => {
    expect(userError(() => parseTrace('100|5\n101|Infinity\n', SRC))).toContain(`${SRC}:2`);
  });

  it('rejects a negative value', () => {
    const message = userError(() => parseTrace('100|5\n101|6\n102|-3\n', SRC));
    expect(message).toContain(`${SRC}:3`);
    expect(message).toMatch(/negative/);
  });

  it('rejects a repeated timestamp', () => {
    const message = userError(() => parseTrace('100|5\n101|6\n101|7\n', SRC));
    expect(message).toContain(`${SRC}:3`);
    expect(message).toMatch(/increase/);
  });

  it('rejects a decreasing timestamp', () => {
    expect(userError(() => parseTrace('100|5\n102|6\n101|7\n', SRC))).toContain(`${SRC}:3`);
  });

  it('rejects a trace with no data', () => {
    expect(userError(() => parseTrace('', SRC))).toContain(SRC);
    expect(userError(() => parseTrace('timestamp|value\n', SRC))).toMatch(/no data/);
    expect(userError(() => parseTrace('# only a comment\n\n', SRC))).toMatch(/no data/);
  });

  it('rejects a trace whose values are all null', () => {
    const message = userError(() => parseTrace('timestamp|value\n100|null\n101|\n102|null\n', SRC));
    expect(message).toContain(SRC);
    expect(message).toMatch(/null/);
  });

  it('rejects a span no 1 s trace can have instead of crashing', () => {
    const message = userError(() => parseTrace(`0|5\n${MAX_TRACE_SECONDS}|6\n`, SRC));
    expect(message).toContain(SRC);
    expect(message).toMatch(/spans/);
    expect(userError(() => parseTrace('0|5\n1e12|6\n', SRC))).toMatch(/spans/);
  });
});

describe('loadTrace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phoebe-trace-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file', () => {
    const path = join(dir, 'ok.csv');
    writeFileSync(path, 'timestamp,value\n10,1\n11,null\n12,3\n');
    const trace = loadTrace(path);
    expect(trace.startTime).toBe(10);
    expect([...trace.values]).toEqual([1, 1, 3]);
  });

  it('names the path of a missing file', () => {
    const path = join(dir, 'does-not-exist.csv');
    const message = userError(() => loadTrace(path));
    expect(message).toContain(path);
    expect(message).toContain('ENOENT');
  });

  it('names the path and line of a malformed line in a file', () => {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, 'timestamp|value\n10|1\n11|1|2\n');
    expect(userError(() => loadTrace(path))).toContain(`${path}:3`);
  });
});
