import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../prometheus-harness.js';
import { javaBinary, log4j2Properties } from './java.js';
import { jobProjectDir, mavenClasspath } from './maven.js';
import { readTail, runProcess, startProcess, type ManagedProcess } from './processes.js';

/**
 * A single-node Kafka 4 broker in KRaft mode (broker and controller in one process), on
 * 127.0.0.1 at free ports, its data in `dir`: the storage is formatted with
 * kafka.tools.StorageTool, then kafka.Kafka runs — what kafka-storage.sh and
 * kafka-server-start.sh do, from Maven Central's kafka_2.13 instead of the distribution.
 */

export const DEFAULT_KAFKA_VERSION = '4.1.1';

export interface KafkaBroker {
  readonly bootstrapServers: string;
  readonly port: number;
  readonly version: string;
  readonly process: ManagedProcess;
  readonly logFile: string;
  /** The broker's class path (kafka-clients and logging jars for the Java tools). */
  readonly classpath: readonly string[];
  /** host:port of the broker's Prometheus JMX exporter (log end offsets per partition). */
  readonly metricsTarget: string;
  stop(): Promise<void>;
}

export interface KafkaOptions {
  /** Working directory (config, data, logs). */
  dir: string;
  version?: string;
  heap?: string;
  readyTimeoutMs?: number;
}

/** Kafka's cluster id: 16 random bytes, base64url without padding (22 characters). */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startKafka(options: KafkaOptions): Promise<KafkaBroker> {
  const version = options.version ?? process.env.PHOEBE_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION;
  mkdirSync(options.dir, { recursive: true });
  const resolved = await mavenClasspath(join(jobProjectDir, 'classpaths', 'kafka-broker'), { 'kafka.version': version }, options.dir);
  const agent = resolved.find((jar) => /\/jmx_prometheus_javaagent-[^/]*\.jar$/.test(jar));
  if (!agent) throw new Error('jmx_prometheus_javaagent is not in the kafka-broker class path');
  const classpath = resolved.filter((jar) => jar !== agent);
  const [port, controllerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  // The partitions' log end offsets under the name Strimzi's metrics configuration gives them
  // (kafka_log_log_logendoffset{topic,partition}); nothing else, to keep the scrape small.
  const jmxConfig = join(options.dir, 'jmx-exporter.yaml');
  writeFileSync(jmxConfig, [
    'lowercaseOutputName: true',
    'includeObjectNames: ["kafka.log:type=Log,name=LogEndOffset,*"]',
    'rules:',
    '  - pattern: "kafka.log<type=Log, name=LogEndOffset, topic=(.+), partition=(.+)><>Value"',
    '    name: kafka_log_log_logendoffset',
    '    type: GAUGE',
    '    labels: { topic: "$1", partition: "$2" }',
    '',
  ].join('\n'));
  const config = join(options.dir, 'server.properties');
  writeFileSync(config, [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(options.dir, 'data')}`,
    // One broker: every internal topic with replication 1, or transactions and groups never start.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created by the test with their partition counts; a typo must not create one.
    'auto.create.topics.enable=false',
    // The exactly-once sink's transactions must time out below this (15 min, Kafka's default).
    'transaction.max.timeout.ms=900000',
    '',
  ].join('\n'));
  const log4j = join(options.dir, 'log4j2.properties');
  writeFileSync(log4j, log4j2Properties(['kafka.coordinator', 'org.apache.kafka.coordinator', 'kafka.log', 'org.apache.kafka.storage', 'state.change.logger', 'kafka.server.metadata', 'org.apache.kafka.image', 'org.apache.kafka.controller', 'org.apache.kafka.raft', 'kafka.cluster', 'org.apache.kafka.metadata']));
  const logFile = join(options.dir, 'kafka.log');
  const jvm = [
    `-Xmx${options.heap ?? '512m'}`, `-Xms${options.heap ?? '512m'}`,
    `-Dlog4j2.configurationFile=${log4j}`, `-Dlog.file=${logFile}`,
    '-cp', classpath.join(':'),
  ];
  await runProcess({
    name: 'kafka storage format',
    command: javaBinary(),
    args: [...jvm, 'kafka.tools.StorageTool', 'format', '--cluster-id', clusterId(), '--config', config, '--ignore-formatted'],
    logFile: join(options.dir, 'kafka-format.out'),
    timeoutMs: 60_000,
  });
  const proc = startProcess({
    name: 'kafka',
    command: javaBinary(),
    args: [`-javaagent:${agent}=127.0.0.1:${metricsPort}:${jmxConfig}`, ...jvm, 'kafka.Kafka', config],
    logFile: join(options.dir, 'kafka.out'),
  });
  const stop = async (): Promise<void> => { await proc.stop(15_000); };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  // Ready = the client listener accepts connections (it opens once the broker has caught up
  // with the metadata log); topic creation through the Admin client retries from there.
  for (;;) {
    if (!proc.running()) throw new Error(`kafka exited before it was ready:\n${proc.tail()}\n${readTail(logFile)}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kafka was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${proc.tail()}\n${readTail(logFile)}`);
    }
    await sleep(200);
  }
  return { bootstrapServers: `127.0.0.1:${port}`, port, version, process: proc, logFile, classpath, metricsTarget: `127.0.0.1:${metricsPort}`, stop };
}
