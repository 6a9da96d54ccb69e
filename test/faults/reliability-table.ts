import { markdownTable } from '../bench/benchmarks-file.js';

/** One row of the RELIABILITY table: a fault, what phoebe did about it, and where the job ended. */
export interface ReliabilityRow {
  fault: string;
  did: string;
  finalState: string;
  /** "4 → 6": the parallelism before the fault and at the end. */
  parallelism: string;
  /** Records neither processed nor waiting in Kafka at the end (the twin's conservation residual). */
  lost: number;
}

/** The `faults` section of BENCHMARKS.md from a run of every fault scenario. */
export function reliabilitySection(rows: readonly ReliabilityRow[], meta: { seconds: number; speed: number }): string {
  const table = markdownTable(
    ['fault', 'what phoebe did', 'final job state', 'parallelism', 'records lost beyond last checkpoint'],
    rows.map((r) => [r.fault, r.did, r.finalState, r.parallelism, String(r.lost)]),
  );
  return [
    '## Reliability: the flink-rest rescale under faults',
    '',
    `Written by \`npm run bench:faults\` from a run of test/faults/rescale-faults.test.ts: ${rows.length} scenarios in ${Math.round(meta.seconds)} s (several at a time).`,
    `Each scenario starts a fresh live twin with fault injection (\`phoebe twin --faults\`, speed ${meta.speed}: rescale downtime 4 s → 0.2 s wall) whose job runs at 4,`,
    'injects the fault through the twin\'s test-only `/__faults` route, and rescales to 6 (5 in one case) with the flink-rest actuator',
    'and a journal on disk — in the test process, or, for the SIGKILL rows, in a driver process that is SIGKILLed right after the',
    'named step; a new actuator in another process then resumes from the journal. Brackets: the phases the rescale\'s journal entry went through.',
    'Every row was checked for: exactly one job active and RUNNING, no request that could cancel a job, no second job submitted',
    'while one was active, every resubmitted job restored from the savepoint of the latest stop, and the twin\'s conservation',
    '(arrivals = processed − rolled back + lag); the last column is its residual in records.',
    '',
    table,
  ].join('\n');
}
