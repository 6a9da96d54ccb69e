/**
 * A phoebe stand-in for the SIGKILL tests: a new FlinkRestActuator with a file journal performs
 * one rescale (or resumes an interrupted one).
 *
 * One run per process, to be killed: prints a JSON line per step on stdout. With `pauseAfter` it
 * stops right after that step (journal written, nothing further sent), prints {"paused": step}
 * and waits — bounded — for the test to SIGKILL it.
 *
 *   node dist/test/faults/rescale-driver.js '{"restUrl": …, "stateDirectory": …, "action": "rescale", "parallelism": 6}'
 *
 * `--serve`: the process that takes over after a kill, for many scenarios (ipc.ts). Each request
 * gets a new actuator that knows only what the journal on disk says, as a new phoebe process
 * would (nothing in src/act keeps module state); the modules are loaded once, not per scenario.
 *
 *   node dist/test/faults/rescale-driver.js --serve   (spawned by harness.ts with an IPC channel)
 */
import type { RescaleResult } from '../../src/act/actuator.js';
import { FlinkRestActuator } from '../../src/act/flink-rest/actuator.js';
import type { RescaleRecord } from '../../src/act/flink-rest/journal.js';
import type { ActLogger } from '../../src/act/logger.js';
import { serveRequests } from './ipc.js';

export interface DriverConfig {
  restUrl: string;
  stateDirectory: string;
  jobName: string;
  jarName: string;
  /** rescale: a new decision (resumes an unfinished rescale first); recover: what `phoebe run` does at start. */
  action: 'rescale' | 'recover';
  parallelism?: number;
  /** A step name (journal phase, 'stop-sent', 'run-sent'; ':rollback' for a rollback submission). Not with --serve. */
  pauseAfter?: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  savepointTimeoutMs?: number;
  runningTimeoutMs?: number;
}

/** What one run ended with (a --serve answer, the last stdout line of a run to the end). */
export interface DriverOutcome {
  steps: string[];
  result: RescaleResult | null;
  journal: RescaleRecord | null;
  /** The actuator's log lines. */
  log: string;
}

/** The step's name as the tests use it: resubmission steps of a rollback get ':rollback'. */
export function stepName(step: string, record: RescaleRecord): string {
  return (step === 'resubmitting' || step === 'resubmitted' || step === 'run-sent') && record.submission?.kind === 'rollback' ? `${step}:rollback` : step;
}

/** One rescale or recovery by a new actuator; `onStep` sees every step, named as stepName() does. */
async function drive(config: DriverConfig, onStep: (name: string, phase: string) => Promise<void>, logger: ActLogger): Promise<Pick<DriverOutcome, 'result' | 'journal'>> {
  const actuator = new FlinkRestActuator({
    restUrl: config.restUrl,
    jobName: config.jobName,
    jarName: config.jarName,
    stateDirectory: config.stateDirectory,
    pollIntervalMs: config.pollIntervalMs ?? 25,
    requestTimeoutMs: config.requestTimeoutMs ?? 2_000,
    savepointTimeoutMs: config.savepointTimeoutMs ?? 5_000,
    runningTimeoutMs: config.runningTimeoutMs ?? 5_000,
    logger,
    onStep: (step, record) => onStep(stepName(step, record), record.phase),
  });
  const result = config.action === 'recover'
    ? await actuator.recover()
    : await actuator.rescale({ parallelism: config.parallelism ?? 1, reason: 'fault test' });
  return { result: result ?? null, journal: actuator.lastRescale ?? null };
}

function lineLogger(write: (line: string) => void): ActLogger {
  return {
    info: (message, fields) => write(`info ${message} ${JSON.stringify(fields ?? {})}\n`),
    warn: (message, fields) => write(`warn ${message} ${JSON.stringify(fields ?? {})}\n`),
  };
}

function out(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function once(config: DriverConfig): Promise<void> {
  const ended = await drive(config, async (name, phase) => {
    out({ step: name, phase });
    if (name === config.pauseAfter) {
      out({ paused: name });
      // The test kills the process now; if it does not, give up (bounded) with a distinct status.
      await new Promise((resolve) => setTimeout(resolve, 30_000));
      process.exit(3);
    }
  }, lineLogger((line) => process.stderr.write(line)));
  out(ended);
}

function serve(): void {
  serveRequests(async (config: DriverConfig): Promise<DriverOutcome> => {
    if (config.pauseAfter) throw new Error('pauseAfter needs a process of its own (one run, then SIGKILL)');
    const steps: string[] = [];
    let log = '';
    const ended = await drive(config, async (name) => { steps.push(name); }, lineLogger((line) => { log += line; }));
    return { steps, ...ended, log };
  });
}

if (process.argv[2] === '--serve') serve();
else {
  once(JSON.parse(process.argv[2] ?? '{}') as DriverConfig).catch((err: unknown) => {
    process.stderr.write(`driver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
