/**
 * A phoebe stand-in for the SIGKILL tests: one FlinkRestActuator with a file journal performs one
 * rescale (or resumes an interrupted one) and prints a JSON line per step on stdout. With
 * `pauseAfter` it stops right after that step (journal written, nothing further sent), prints
 * {"paused": step} and waits — bounded — for the test to SIGKILL it.
 *
 *   node dist/test/faults/rescale-driver.js '{"restUrl": …, "stateDirectory": …, "action": "rescale", "parallelism": 6}'
 */
import { FlinkRestActuator } from '../../src/act/flink-rest/actuator.js';
import type { RescaleRecord } from '../../src/act/flink-rest/journal.js';

export interface DriverConfig {
  restUrl: string;
  stateDirectory: string;
  jobName: string;
  jarName: string;
  /** rescale: a new decision (resumes an unfinished rescale first); recover: what `phoebe run` does at start. */
  action: 'rescale' | 'recover';
  parallelism?: number;
  /** A step name (journal phase, 'stop-sent', 'run-sent'; ':rollback' for a rollback submission). */
  pauseAfter?: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  savepointTimeoutMs?: number;
  runningTimeoutMs?: number;
}

function out(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The step's name as the tests use it: resubmission steps of a rollback get ':rollback'. */
export function stepName(step: string, record: RescaleRecord): string {
  return (step === 'resubmitting' || step === 'resubmitted' || step === 'run-sent') && record.submission?.kind === 'rollback' ? `${step}:rollback` : step;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
  const actuator = new FlinkRestActuator({
    restUrl: config.restUrl,
    jobName: config.jobName,
    jarName: config.jarName,
    stateDirectory: config.stateDirectory,
    pollIntervalMs: config.pollIntervalMs ?? 25,
    requestTimeoutMs: config.requestTimeoutMs ?? 2_000,
    savepointTimeoutMs: config.savepointTimeoutMs ?? 5_000,
    runningTimeoutMs: config.runningTimeoutMs ?? 5_000,
    logger: {
      info: (message, fields) => process.stderr.write(`info ${message} ${JSON.stringify(fields ?? {})}\n`),
      warn: (message, fields) => process.stderr.write(`warn ${message} ${JSON.stringify(fields ?? {})}\n`),
    },
    onStep: async (step, record) => {
      const name = stepName(step, record);
      out({ step: name, phase: record.phase });
      if (name === config.pauseAfter) {
        out({ paused: name });
        // The test kills the process now; if it does not, give up (bounded) with a distinct status.
        await new Promise((resolve) => setTimeout(resolve, 30_000));
        process.exit(3);
      }
    },
  });
  const result = config.action === 'recover'
    ? await actuator.recover()
    : await actuator.rescale({ parallelism: config.parallelism ?? 1, reason: 'fault test' });
  out({ result: result ?? null, journal: actuator.lastRescale ?? null });
}

main().catch((err: unknown) => {
  process.stderr.write(`driver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(2);
});
