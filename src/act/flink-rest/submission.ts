/**
 * The resubmission from a savepoint: POST /jars/{jarid}/run with the job id phoebe chose. When the
 * answer is lost, GET /jobs/{id} tells whether the job was submitted; if not, the same request is
 * sent once more (a duplicate job id would be refused, so the job can never run twice).
 */
import { describeError, HttpStatusError } from '../errors.js';
import type { FlinkRestClient, JarRunRequestBody } from './client.js';
import type { JobTracker } from './jobs.js';
import type { FlinkRestSettings } from './settings.js';

/** A job submission that got no answer and whose job could not be found afterwards. */
export class SubmissionUnconfirmed extends Error {
  constructor(readonly jobId: string, override readonly cause: unknown) {
    super(`submission of job ${jobId} unconfirmed`);
    this.name = 'SubmissionUnconfirmed';
  }
}

export interface Submission {
  jarId: string;
  savepointPath: string;
  parallelism: number;
  /** The new job's id, chosen by phoebe. */
  jobId: string;
}

/** Resolves once Flink has the job; throws HttpStatusError when refused, SubmissionUnconfirmed when it cannot tell. */
export async function submit(client: FlinkRestClient, jobs: JobTracker, settings: FlinkRestSettings, submission: Submission): Promise<void> {
  const { jarId, jobId } = submission;
  const body = runBody(settings, submission);
  let unanswered: unknown;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const answer = await client.runJar(jarId, body);
      if (answer.jobid !== jobId) settings.logger.warn('Flink answered another job id than the one phoebe chose', { chosen: jobId, answered: answer.jobid });
      return;
    } catch (err) {
      if (err instanceof HttpStatusError) {
        // Refused. On the second attempt a duplicate-job refusal means the first one got through.
        if (attempt > 1 && (await jobs.exists(jobId)) === true) return;
        throw err;
      }
      unanswered = err;
      settings.logger.warn('job submission unanswered; checking for the job', { job: jobId, error: describeError(err) });
      const exists = await jobs.exists(jobId);
      if (exists === true) return;
      if (exists === undefined) break;
    }
  }
  throw new SubmissionUnconfirmed(jobId, unanswered);
}

function runBody(settings: FlinkRestSettings, submission: Submission): JarRunRequestBody {
  return {
    jobId: submission.jobId,
    savepointPath: submission.savepointPath,
    parallelism: submission.parallelism,
    allowNonRestoredState: settings.allowNonRestoredState,
    ...(settings.entryClass ? { entryClass: settings.entryClass } : {}),
    ...(settings.programArgs ? { programArgsList: [...settings.programArgs] } : {}),
  };
}
