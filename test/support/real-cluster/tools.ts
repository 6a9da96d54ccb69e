import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { javaBinary, log4j2Properties } from './java.js';
import { lastJsonLine, runProcess, startProcess, type ManagedProcess } from './processes.js';

/**
 * The Java tools in the job jar (test/flink-job: LoadGenerator, KafkaTools), run as their own
 * JVMs with the job jar (which carries kafka-clients) and the broker's SLF4J/log4j jars.
 */

export interface ToolsContext {
  jobJar: string;
  /** The Kafka broker's class path: its logging jars are reused. */
  brokerClasspath: readonly string[];
  bootstrapServers: string;
  /** Where logs and the generator's per-second files go. */
  dir: string;
}

function toolArgs(ctx: ToolsContext, mainClass: string, args: readonly string[], logFile: string): string[] {
  const log4j = join(ctx.dir, 'tools-log4j2.properties');
  writeFileSync(log4j, log4j2Properties([], 'WARN'));
  const logging = ctx.brokerClasspath.filter((jar) => /\/(slf4j-api|log4j-api|log4j-core|log4j-slf4j2-impl)-[^/]*\.jar$/.test(jar));
  return ['-Xmx256m', '-XX:TieredStopAtLevel=1', `-Dlog4j2.configurationFile=${log4j}`, `-Dlog.file=${logFile}`,
    '-cp', [ctx.jobJar, ...logging].join(':'), mainClass, ...args];
}

async function kafkaTool<T>(ctx: ToolsContext, command: string, args: readonly string[], timeoutMs: number): Promise<T> {
  const logFile = join(ctx.dir, `tool-${command}.log`);
  const { log } = await runProcess({
    name: `KafkaTools ${command}`,
    command: javaBinary(),
    args: toolArgs(ctx, 'dev.phoebe.flinkjob.KafkaTools', [command, '--bootstrap-servers', ctx.bootstrapServers, ...args], logFile),
    logFile: join(ctx.dir, `tool-${command}.out`),
    timeoutMs,
  });
  return lastJsonLine<T>(log);
}

export function createTopics(ctx: ToolsContext, topics: Record<string, number>): Promise<{ created: Record<string, number> }> {
  return kafkaTool(ctx, 'create-topics', Object.entries(topics).flatMap(([name, partitions]) => ['--topic', `${name}:${partitions}`]), 90_000);
}

export interface OutputCheck {
  records: number;
  distinct: number;
  duplicates: number;
  outside: number;
  unparsable: number;
  missing: number;
  complete: boolean;
}

/** Reads the output topic with read_committed; see KafkaTools verify-output. */
export function verifyOutput(ctx: ToolsContext, topic: string, expected: number, timeoutMs: number): Promise<OutputCheck> {
  return kafkaTool(ctx, 'verify-output', ['--topic', topic, '--expected', String(expected), '--timeout-ms', String(timeoutMs)], timeoutMs + 60_000);
}

export interface GroupOffsets {
  end: number;
  committed: number;
  lag: number;
}

export function groupOffsets(ctx: ToolsContext, topic: string, group: string): Promise<GroupOffsets> {
  return kafkaTool(ctx, 'offsets', ['--topic', topic, '--group', group], 60_000);
}

export interface OffsetSample extends GroupOffsets {
  /** Unix ms. */
  t: number;
}

export interface OffsetWatch {
  /** The samples so far, oldest first. */
  samples(): OffsetSample[];
  stop(): Promise<void>;
}

/** End and committed offsets every `everyMs` for `seconds`, from one JVM (see KafkaTools offsets). */
export function watchOffsets(ctx: ToolsContext, topic: string, group: string, everyMs: number, seconds: number, name: string): OffsetWatch {
  const out = join(ctx.dir, `offsets-${name}.out`);
  const proc = startProcess({
    name: `offsets ${name}`,
    command: javaBinary(),
    args: toolArgs(ctx, 'dev.phoebe.flinkjob.KafkaTools', [
      'offsets', '--bootstrap-servers', ctx.bootstrapServers, '--topic', topic, '--group', group,
      '--every-ms', String(everyMs), '--seconds', String(seconds),
    ], join(ctx.dir, `offsets-${name}.log`)),
    logFile: out,
    lifetimeSeconds: seconds + 120,
  });
  return {
    samples: () => {
      let text = '';
      try {
        text = readFileSync(out, 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter((l) => l.startsWith('{"t"')).map((l) => JSON.parse(l) as OffsetSample);
    },
    stop: async () => { await proc.stop(5000); },
  };
}

/** A trace of one value a second (as the bundled ones), constant: the generator replays it 1:1. */
export function constantRateTrace(dir: string, name: string, rate: number, seconds = 3600): string {
  const file = join(dir, `${name}.csv`);
  writeFileSync(file, `timestamp|value\n${Array.from({ length: seconds }, (_, s) => `${1_700_000_000 + s}|${rate}`).join('\n')}\n`);
  return file;
}

export interface GeneratorOptions {
  topic: string;
  trace: string;
  /** Trace seconds per wall second. */
  compression: number;
  scale: number;
  durationSeconds: number;
  traceOffsetSeconds?: number;
  firstSeq: number;
  keys?: number;
  /** Pad each record's value to this many bytes (0: no padding). */
  recordBytes?: number;
  /** Distinguishes the files of several runs. */
  name: string;
}

export interface GeneratorSummary {
  sent: number;
  acked: number;
  failed: number;
  firstSeq: number;
  nextSeq: number;
  seconds: number;
  error: string | null;
}

export interface GeneratorSecond {
  second: number;
  traceSecond: number;
  targetRate: number;
  sent: number;
}

export interface GeneratorRun {
  readonly process: ManagedProcess;
  /** Resolves when the generator has sent and flushed everything (rejects if it failed). */
  readonly done: Promise<GeneratorSummary>;
  /** The per-second log written so far. */
  seconds(): GeneratorSecond[];
}

export function startGenerator(ctx: ToolsContext, options: GeneratorOptions): GeneratorRun {
  const csv = join(ctx.dir, `generator-${options.name}.csv`);
  const out = join(ctx.dir, `generator-${options.name}.out`);
  const proc = startProcess({
    name: `generator ${options.name}`,
    command: javaBinary(),
    args: toolArgs(ctx, 'dev.phoebe.flinkjob.LoadGenerator', [
      '--bootstrap-servers', ctx.bootstrapServers, '--topic', options.topic, '--trace', options.trace,
      '--compression', String(options.compression), '--scale', String(options.scale),
      '--duration-seconds', String(options.durationSeconds), '--trace-offset-seconds', String(options.traceOffsetSeconds ?? 0),
      '--first-seq', String(options.firstSeq), '--keys', String(options.keys ?? 1000),
      '--record-bytes', String(options.recordBytes ?? 0), '--log', csv,
    ], join(ctx.dir, `generator-${options.name}.log`)),
    logFile: out,
    lifetimeSeconds: options.durationSeconds + 120,
  });
  const done = proc.exited.then((exit) => {
    const text = readFileSync(out, 'utf8');
    if (exit.code !== 0) throw new Error(`generator ${options.name} failed (code ${exit.code}, signal ${exit.signal}):\n${text.slice(-3000)}`);
    return lastJsonLine<GeneratorSummary>(text);
  });
  // Not awaited by everyone: keep an unobserved failure from being an unhandled rejection.
  done.catch(() => undefined);
  const seconds = (): GeneratorSecond[] => {
    let text = '';
    try {
      text = readFileSync(csv, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').slice(1).filter(Boolean).map((line) => {
      const [second, traceSecond, targetRate, sent] = line.split(',').map(Number);
      return { second: second ?? 0, traceSecond: traceSecond ?? 0, targetRate: targetRate ?? 0, sent: sent ?? 0 };
    });
  };
  return { process: proc, done, seconds };
}
