import { readFileSync } from 'node:fs';
import { UserError } from '../util/user-error.js';

/** A workload trace resampled to one value per second (records/s). */
export interface Trace {
  /** Unix seconds of the first value. */
  startTime: number;
  values: Float64Array;
}

const NULL_TOKENS = new Set(['null', 'nan', '']);

/** Longest span a trace may cover (366 days at 1 s); longer is almost surely not Unix seconds. */
export const MAX_TRACE_SECONDS = 366 * 24 * 3600;

/**
 * Parses `timestamp|value` or `timestamp,value` lines (a header line is allowed first).
 * `null` values and missing seconds carry the last value forward, as a Prometheus
 * gauge would read them; a leading gap takes the first known value.
 */
export function parseTrace(text: string, source: string): Trace {
  const times: number[] = [];
  const values: (number | null)[] = [];
  const lines = text.split(/\r?\n/);
  let firstLine = true;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const isFirstLine = firstLine;
    firstLine = false;
    const fields = line.split(/[|,]/).map((f) => f.trim());
    const where = `${source}:${i + 1}`;
    if (fields.length !== 2) throw new UserError(`${where}: expected "timestamp|value" or "timestamp,value", got "${truncate(line)}"`);
    const [timeField, valueField] = fields as [string, string];
    const time = Number(timeField);
    if (timeField === '' || !Number.isFinite(time)) {
      if (isFirstLine && !/^[-+.\d]/.test(timeField)) continue; // header: only the first line
      throw new UserError(`${where}: timestamp "${truncate(timeField)}" is not a number`);
    }
    let value: number | null;
    if (NULL_TOKENS.has(valueField.toLowerCase())) value = null;
    else {
      value = Number(valueField);
      if (!Number.isFinite(value)) throw new UserError(`${where}: value "${truncate(valueField)}" is not a number or null`);
      if (value < 0) throw new UserError(`${where}: value ${value} is negative; a workload is records/s ≥ 0`);
    }
    const previous = times[times.length - 1];
    if (previous !== undefined && time <= previous) throw new UserError(`${where}: timestamp ${time} does not increase (previous ${previous})`);
    times.push(time);
    values.push(value);
  }
  if (times.length === 0) throw new UserError(`${source}: the trace has no data lines`);
  const firstKnown = values.find((v) => v !== null);
  if (firstKnown === undefined || firstKnown === null) throw new UserError(`${source}: every value of the trace is null`);
  const span = Math.floor(times[times.length - 1] as number) - Math.floor(times[0] as number) + 1;
  if (span > MAX_TRACE_SECONDS) {
    throw new UserError(`${source}: the trace spans ${span} s (timestamps ${times[0]} to ${times[times.length - 1]}); at most ${MAX_TRACE_SECONDS} s (366 days) is supported — timestamps must be Unix seconds`);
  }
  return resampleToSeconds(times, values, firstKnown);
}

function resampleToSeconds(times: number[], values: (number | null)[], firstKnown: number): Trace {
  const startTime = Math.floor(times[0] as number);
  const duration = Math.floor(times[times.length - 1] as number) - startTime + 1;
  const out = new Float64Array(duration);
  let last = firstKnown;
  let k = 0;
  for (let s = 0; s < duration; s++) {
    // Take the newest sample at or before this second; gaps keep the last value.
    while (k < times.length && Math.floor(times[k] as number) - startTime <= s) {
      const v = values[k];
      if (v !== null && v !== undefined) last = v;
      k++;
    }
    out[s] = last;
  }
  return { startTime, values: out };
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function loadTrace(path: string): Trace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read trace ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseTrace(text, path);
}
