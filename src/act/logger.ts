/**
 * The small logging surface the actuators need. The control loop passes its own logger; the
 * default writes one line per message to stderr. Callers never pass secrets in `fields`.
 */
export interface ActLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `phoebe act ${level}: ${message}${extra}`;
}

export const stderrLogger: ActLogger = {
  info: (message, fields) => process.stderr.write(`${line('info', message, fields)}\n`),
  warn: (message, fields) => process.stderr.write(`${line('warn', message, fields)}\n`),
};

export const silentLogger: ActLogger = {
  info: () => undefined,
  warn: () => undefined,
};
