import { mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { executable, freePort } from '../prometheus-harness.js';
import { canConnect } from './kafka.js';
import { cacheDir } from './maven.js';
import { runProcess, startProcess, type ManagedProcess } from './processes.js';

/**
 * kafka_exporter (danielqsj/kafka_exporter): Kafka-side lag (`kafka_consumergroup_lag`) and
 * offsets for Prometheus. Optional: it is built with `go install` into the cache; when it
 * cannot be had, `findKafkaExporter` says why and the test goes on without it (Flink's own
 * KafkaSource metrics still give the lag).
 */

export const KAFKA_EXPORTER_MODULE = 'github.com/danielqsj/kafka_exporter';
export const KAFKA_EXPORTER_VERSION = 'v1.9.0';

export type ExporterLookup = { binary: string } | { binary: undefined; reason: string };

let lookup: Promise<ExporterLookup> | undefined;

/** $PHOEBE_KAFKA_EXPORTER_BIN, the cached build, kafka_exporter on PATH, or a `go install` (once per process). */
export function findKafkaExporter(logDir: string): Promise<ExporterLookup> {
  lookup ??= (async (): Promise<ExporterLookup> => {
    const fromEnv = process.env.PHOEBE_KAFKA_EXPORTER_BIN;
    if (fromEnv) return executable(fromEnv) ? { binary: fromEnv } : { binary: undefined, reason: `PHOEBE_KAFKA_EXPORTER_BIN=${fromEnv} is not executable` };
    const binDir = join(cacheDir(), 'go-bin');
    const cached = join(binDir, 'kafka_exporter');
    if (executable(cached)) return { binary: cached };
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir && executable(join(dir, 'kafka_exporter'))) return { binary: join(dir, 'kafka_exporter') };
    }
    mkdirSync(binDir, { recursive: true });
    try {
      await runProcess({
        name: `go install ${KAFKA_EXPORTER_MODULE}@${KAFKA_EXPORTER_VERSION}`,
        command: process.env.PHOEBE_GO ?? 'go',
        args: ['install', `${KAFKA_EXPORTER_MODULE}@${KAFKA_EXPORTER_VERSION}`],
        env: { ...process.env, GOBIN: binDir },
        logFile: join(logDir, 'go-install-kafka-exporter.log'),
        timeoutMs: 5 * 60_000,
      });
    } catch (err) {
      return { binary: undefined, reason: (err as Error).message.split('\n').filter(Boolean).slice(0, 4).join(' | ') };
    }
    return executable(cached) ? { binary: cached } : { binary: undefined, reason: `go install left no ${cached}` };
  })();
  return lookup;
}

export interface KafkaExporter {
  readonly target: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startKafkaExporter(binary: string, bootstrapServers: string, dir: string, timeoutMs = 30_000): Promise<KafkaExporter> {
  const port = await freePort();
  const proc = startProcess({
    name: 'kafka_exporter',
    command: binary,
    args: [
      `--kafka.server=${bootstrapServers}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Sarama's protocol version: its default (2.0.0) predates what Kafka 4 still serves.
      '--kafka.version=3.9.0',
    ],
    logFile: join(dir, 'kafka_exporter.log'),
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw new Error(`kafka_exporter exited:\n${proc.tail()}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`kafka_exporter not listening within ${timeoutMs} ms:\n${proc.tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { target: `127.0.0.1:${port}`, process: proc, stop: async () => { await proc.stop(5000); } };
}
