/**
 * How a savepoint rescale moves on: each step is written to the journal, then the step hook (for
 * fault-injection tests) is told. After the stop has been sent a failed write does not stop the
 * rescale (the job must not stay down): it goes on from memory, and a resumption from the older
 * entry finds the newer state in Flink (trigger, job overview, job id).
 */
import type { ActLogger } from '../logger.js';
import { JournalError, type RescaleJournal, type RescalePhase, type RescaleRecord } from './journal.js';
import type { FlinkRestActuatorOptions } from './settings.js';

export type JournalChanges = Parameters<RescaleJournal['advance']>[1];

export class RescaleProgress {
  constructor(
    readonly journal: RescaleJournal,
    private readonly logger: ActLogger,
    private readonly onStep: FlinkRestActuatorOptions['onStep'],
  ) {}

  /** Moves the journal to `phase` and tells the step hook. */
  async record(phase: RescalePhase, changes: JournalChanges, note?: string): Promise<RescaleRecord> {
    let rec: RescaleRecord;
    try {
      rec = this.journal.advance(phase, changes, note);
    } catch (err) {
      if (!(err instanceof JournalError)) throw err;
      this.logger.warn('rescale journal write failed; going on from memory', { phase, error: err.message });
      rec = this.journal.latest!;
    }
    await this.step(phase, rec);
    return rec;
  }

  /** Tells the step hook (a copy of the record); a hook never changes the protocol. */
  async step(step: string, rec: RescaleRecord): Promise<void> {
    if (!this.onStep) return;
    try {
      await this.onStep(step, structuredClone(rec));
    } catch {
      // ignored: see above
    }
  }
}
