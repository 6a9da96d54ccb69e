import type { ActLogger } from '../../src/act/logger.js';

/** An ActLogger that keeps every line, so tests can assert what was (and was not) logged. */
export class RecordingLogger implements ActLogger {
  readonly lines: string[] = [];
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(`info ${message} ${JSON.stringify(fields ?? {})}`);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(`warn ${message} ${JSON.stringify(fields ?? {})}`);
  }
}
