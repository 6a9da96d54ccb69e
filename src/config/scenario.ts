import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { UserError } from '../util/user-error.js';
import { describeIssues } from './schema-errors.js';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const seconds = z.number().int().nonnegative();

const linearCapacity = z.strictObject({
  model: z.literal('linear'),
  intercept: nonNegative,
  perSlot: positive,
});
const uslCapacity = z.strictObject({
  model: z.literal('usl'),
  lambda1: positive,
  sigma: nonNegative,
  kappa: nonNegative,
});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  trace: z.strictObject({ file: z.string().min(1), scale: positive.default(1) }),
  twin: z.strictObject({
    capacity: z.discriminatedUnion('model', [linearCapacity, uslCapacity]),
    noise: z.strictObject({ capacity: nonNegative }).default({ capacity: 0 }),
    checkpointIntervalSeconds: seconds.min(1),
    restartDowntimeSeconds: seconds,
    rescaleDowntimeSeconds: seconds,
    baseLatencySeconds: positive,
    minParallelism: z.number().int().min(1),
    maxParallelism: z.number().int().min(1),
    initialParallelism: z.number().int().min(1),
  }).superRefine((twin, ctx) => {
    if (twin.maxParallelism < twin.minParallelism) {
      ctx.addIssue({ code: 'custom', path: ['maxParallelism'], message: `must be ≥ minParallelism (${twin.minParallelism})` });
    }
    if (twin.initialParallelism < twin.minParallelism || twin.initialParallelism > twin.maxParallelism) {
      ctx.addIssue({ code: 'custom', path: ['initialParallelism'], message: `must lie in [minParallelism, maxParallelism] = [${twin.minParallelism}, ${twin.maxParallelism}]` });
    }
  }),
  failures: z.strictObject({ atSeconds: z.array(seconds) }).default({ atSeconds: [] }),
  slo: z.strictObject({ recoveryTimeSeconds: positive, latencySeconds: positive }),
  seed: z.number().int().default(1),
});

export type ScenarioConfig = z.infer<typeof scenarioSchema>;
export type TwinConfig = ScenarioConfig['twin'];
export type CapacityConfig = TwinConfig['capacity'];

/** A validated scenario with its trace path resolved against the scenario file. */
export interface Scenario extends ScenarioConfig {
  /** Absolute path of the trace file. */
  tracePath: string;
  /** Where the scenario came from, for messages. */
  source: string;
}

export function parseScenario(text: string, source: string, baseDir: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      throw new UserError(`${source}${line ? `:${line}` : ''}: invalid YAML: ${err.message.split('\n')[0]}`);
    }
    throw err;
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error, source));
  const scenario = parsed.data;
  const sorted = [...scenario.failures.atSeconds].sort((a, b) => a - b);
  return { ...scenario, failures: { atSeconds: sorted }, tracePath: resolve(baseDir, scenario.trace.file), source };
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read scenario ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseScenario(text, path, dirname(resolve(path)));
}
