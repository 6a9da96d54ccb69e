import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { loadScenario } from '../config/scenario.js';
import { clairvoyantLowerBound } from '../sim/lower-bound.js';
import { POLICIES } from '../sim/policies/registry.js';
import { renderReport } from '../sim/report/index.js';
import { runPolicy, scenarioArrivals, type RunResult } from '../sim/runner.js';
import type { RunScores } from '../sim/scores.js';
import { loadTrace } from '../sim/trace.js';
import { formatTable } from './table.js';
import { UserError } from '../util/user-error.js';

interface SimulateOptions {
  scenario: string;
  policy: string[];
  seed?: number;
  json?: string;
  report?: string;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('replay a scenario on the digital twin with one or more scaling policies and score them')
    .requiredOption('--scenario <file>', 'scenario YAML (see config/scenarios/)')
    .option('--policy <name>', `policy to run, repeatable; "all" runs every one (${[...POLICIES.keys()].join(', ')})`, collect, [])
    .option('--seed <n>', 'random seed (default: the scenario\'s)', parseInteger)
    .option('--json <file>', 'write the score objects as JSON')
    .option('--report <file>', 'write a self-contained HTML report: the scores and plots over time')
    .action(async (options: SimulateOptions) => {
      await simulate(options);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

/** Expands `all` and checks every name, before any work starts. */
export function resolvePolicyNames(requested: readonly string[]): string[] {
  const names = requested.length === 0 ? ['all'] : requested;
  const resolved: string[] = [];
  for (const name of names) {
    if (name === 'all') resolved.push(...POLICIES.keys());
    else if (POLICIES.has(name)) resolved.push(name);
    else throw new UserError(`unknown policy "${name}"; known: ${[...POLICIES.keys()].join(', ')}, all`);
  }
  return [...new Set(resolved)];
}

export async function simulate(options: SimulateOptions): Promise<RunResult[]> {
  const policyNames = resolvePolicyNames(options.policy);
  const scenario = loadScenario(options.scenario);
  const trace = loadTrace(scenario.tracePath);
  const seed = options.seed ?? scenario.seed;
  const arrivals = scenarioArrivals(scenario, trace);
  const lowerBound = clairvoyantLowerBound(scenario, arrivals);
  const progress = process.stderr.isTTY ? progressBar : undefined;

  const results: RunResult[] = [];
  for (const name of policyNames) {
    const factory = POLICIES.get(name);
    if (!factory) throw new UserError(`unknown policy "${name}"`);
    const result = await runPolicy(scenario, trace, factory, {
      seed,
      lowerBound,
      ...(progress ? { onProgress: (f: number) => progress(name, f) } : {}),
    });
    if (progress) process.stderr.write('\r\x1b[K');
    results.push(result);
  }

  const scores = results.map((r) => r.scores);
  process.stdout.write(`${scenario.name}: ${trace.values.length} s, seed ${seed}, clairvoyant lower bound mean parallelism ${lowerBound.meanParallelism.toFixed(2)}\n`);
  process.stdout.write(`${scoreTable(scores)}\n`);
  if (options.json) {
    try {
      writeFileSync(options.json, `${JSON.stringify(scores.length === 1 ? scores[0] : scores, null, 2)}\n`);
    } catch (err) {
      throw new UserError(`cannot write ${options.json}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (options.report) {
    const html = renderReport({ scenario, seed, arrivals, lowerBound, results });
    try {
      writeFileSync(options.report, html);
    } catch (err) {
      throw new UserError(`cannot write ${options.report}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    process.stderr.write(`report: ${options.report} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB)\n`);
  }
  return results;
}

export function scoreTable(scores: readonly RunScores[]): string {
  return formatTable(
    ['policy', 'mean p', 'cost ratio', 'recovered', 'latency SLO', 'rescales', 'decision p95 ms'],
    scores.map((s) => [
      s.policy,
      s.meanParallelism.toFixed(2),
      s.costRatio.toFixed(3),
      `${s.recoveredWithinTarget}/${s.failures}`,
      s.latencySloFraction.toFixed(4),
      String(s.rescales),
      s.decisionMillis.p95.toFixed(3),
    ]),
  );
}

function progressBar(policy: string, fraction: number): void {
  const width = 30;
  const filled = Math.round(fraction * width);
  process.stderr.write(`\r${policy.padEnd(18)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)} %`);
}
