import { median } from './run-watch.js';

/** What the real-cluster test measured on one Flink line, for the "real-flink" section of BENCHMARKS.md. */

export interface RescaleMeasurement {
  mechanism: 'stop-with-savepoint + jar run' | 'in place (adaptive scheduler)';
  from: number;
  to: number;
  /** Whose rescale: phoebe's planner, or an operator's through the admin API. */
  by: 'planner' | 'admin API';
  /** Time the job was not RUNNING with every vertex RUNNING (REST API, polled every 200 ms). */
  downtimeMs: number;
  /** From phoebe's decision (its log) to the job RUNNING at the new parallelism (the rescale's log line). */
  decisionToRunningMs: number;
  detail: string;
}

export interface SignalWindow {
  window: string;
  arrival: number;
  sentRate: number;
  arrivalError: number;
  lagSignal: number;
  lagTruth: number;
  lagError: number;
  pairs: number;
}

export interface LineReport {
  flinkVersion: string;
  kafkaVersion: string;
  kafkaExporter: string;
  rescales: RescaleMeasurement[];
  restarts: Array<{ cause: string; downtimeMs: number; restartsCounted: number }>;
  signals: SignalWindow[];
  parallelismChecks: Array<{ when: string; rest: number; signal: number; vertices: number[] }>;
  exactlyOnce: Array<{ step: string; sent: number; lost: number; duplicated: number }>;
  /** Where the planner had not scaled down after the load fell, what it said. */
  plannerHeldScaleDown: Array<{ at: string; decision: string; inputs: unknown }>;
}

const s = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : '–');
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

export function formatRealFlinkSection(lines: readonly LineReport[]): string {
  const out: string[] = [
    '`npm run bench:flink` (the real-cluster test, test/integration/flink/real-cluster.test.ts): a Flink session cluster',
    'from Maven Central\'s artifacts (1 JobManager, 2 TaskManagers × 8 slots), a Kafka broker in KRaft mode and a real',
    'Prometheus scraping every second, all on 127.0.0.1 of a 2-core machine; the job KafkaSource → keyBy → "cost" (2 ms',
    'per record) → exactly-once KafkaSink; a stepped load of 1,100 and 150 records/s; `phoebe run` deciding every 5 s.',
    'Downtime: the job not RUNNING with all vertices RUNNING, polled every 200 ms over the REST API.',
    '',
  ];
  for (const r of lines) {
    out.push(`### Flink ${r.flinkVersion}, Kafka ${r.kafkaVersion}`, '', `kafka_exporter: ${r.kafkaExporter}.`, '');
    out.push('| mechanism | rescales (from→to) | downtime median / max, s | decision → RUNNING median / max, s |', '|---|---|---|---|');
    for (const mechanism of [...new Set(r.rescales.map((x) => x.mechanism))]) {
      const mine = r.rescales.filter((x) => x.mechanism === mechanism);
      const down = mine.map((x) => x.downtimeMs);
      const toRunning = mine.map((x) => x.decisionToRunningMs).filter(Number.isFinite);
      out.push(`| ${mechanism} | ${mine.map((x) => `${x.from}→${x.to} (${x.by})`).join(', ')} | ${s(median(down))} / ${s(Math.max(...down))} | ${s(median(toRunning))} / ${s(toRunning.length ? Math.max(...toRunning) : Number.NaN)} |`);
    }
    for (const restart of r.restarts) out.push(`| restart after ${restart.cause} | ${restart.restartsCounted} restart(s) counted | ${s(restart.downtimeMs)} | – |`);
    out.push('', '| signal window | arrival: phoebe / sent, rec/s (error) | lag: phoebe / Kafka end − committed, records (error) |', '|---|---|---|');
    for (const w of r.signals) {
      out.push(`| ${w.window} | ${w.arrival.toFixed(0)} / ${w.sentRate.toFixed(0)} (${pct(w.arrivalError)}) | ${w.lagSignal.toFixed(0)} / ${w.lagTruth.toFixed(0)} (${pct(w.lagError)}) |`);
    }
    const matching = r.parallelismChecks.filter((p) => p.rest === p.signal).length;
    out.push('', `Parallelism signal = REST API: ${matching} of ${r.parallelismChecks.length} checks (${r.parallelismChecks.map((p) => `${p.signal}/[${p.vertices.join(',')}]`).join('; ')}).`);
    for (const held of r.plannerHeldScaleDown) {
      const inputs = held.inputs as { arrivalRate?: number; forecastPeakUpper?: number } | undefined;
      out.push(`Planner's scale-down not within a minute of the load falling (${held.at}): "${held.decision}" at ${inputs?.arrivalRate?.toFixed(0) ?? '?'} records/s arriving, forecast upper peak ${inputs?.forecastPeakUpper?.toFixed(0) ?? '?'} records/s; the admin API made it.`);
    }
    const lost = r.exactlyOnce.reduce((a, e) => a + e.lost, 0);
    const duplicated = r.exactlyOnce.reduce((a, e) => a + e.duplicated, 0);
    const sent = r.exactlyOnce.at(-1)?.sent ?? 0;
    out.push(`Records lost / duplicated: ${lost} / ${duplicated} of ${sent} (output read with read_committed after each step).`, '');
  }
  return out.join('\n');
}
