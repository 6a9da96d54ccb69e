import type { RescaleOutcome } from './actuator.js';

/** One rescale phoebe started (the plan's or an operator's), times in unix s on phoebe's clock. */
export interface RescaleRecord {
  readonly start: number;
  /** +Infinity while it is in progress. */
  end: number;
  /** Undefined while it is in progress. */
  outcome?: RescaleOutcome;
}

/** Records kept however old: the planner reads the newest one, the quality check the last few. */
const KEEP_NEWEST = 16;
/** Older records are kept while they started within this window: the hourly rate limit counts them. */
const KEEP_SECONDS = 3600;

/**
 * phoebe's own rescales, the one list of them: written by the actuation gate where a rescale
 * starts and ends, read as data by the stages that care (the planner's scale-down dwell and
 * hourly limit, the gate's rate limits, the signal-quality check's own-rescale grace).
 */
export class RescaleHistory {
  private readonly list: RescaleRecord[] = [];

  /** Oldest first. */
  get records(): readonly RescaleRecord[] {
    return this.list;
  }

  begin(at: number): RescaleRecord {
    const record: RescaleRecord = { start: at, end: Number.POSITIVE_INFINITY };
    this.list.push(record);
    while (this.list.length > KEEP_NEWEST && (this.list[0] as RescaleRecord).start <= at - KEEP_SECONDS) this.list.shift();
    return record;
  }

  end(record: RescaleRecord, at: number, outcome: RescaleOutcome): void {
    record.end = at;
    record.outcome = outcome;
  }
}

/** Rescales that may have changed the job: every one but those the actuator skipped (nothing to do). */
export function madeRescales(records: readonly RescaleRecord[]): RescaleRecord[] {
  return records.filter((r) => r.outcome !== 'skipped');
}
