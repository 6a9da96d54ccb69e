import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The `java` of the real-cluster processes: $PHOEBE_JAVA_HOME, else $JAVA_HOME, else `java` on
 * PATH (Java 17 here, the version Flink 1.20 and 2.x and Kafka 4 all run on).
 */
export function javaBinary(): string {
  for (const home of [process.env.PHOEBE_JAVA_HOME, process.env.JAVA_HOME]) {
    if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  }
  return 'java';
}

/**
 * The module flags Flink's own config.yaml ships (`env.java.opts.all`) for Java 17: Flink's
 * serializers and RPC reflect into these JDK packages. Its start scripts add them to every
 * process; this harness starts the JVMs itself, so it adds them.
 */
export const FLINK_JAVA17_OPTS: readonly string[] = [
  ...['java.base/sun.net.util', 'java.rmi/sun.rmi.registry', 'jdk.compiler/com.sun.tools.javac.api',
    'jdk.compiler/com.sun.tools.javac.file', 'jdk.compiler/com.sun.tools.javac.parser',
    'jdk.compiler/com.sun.tools.javac.tree', 'jdk.compiler/com.sun.tools.javac.util',
    'java.security.jgss/sun.security.krb5'].map((p) => `--add-exports=${p}=ALL-UNNAMED`),
  ...['java.lang', 'java.net', 'java.io', 'java.nio', 'sun.nio.ch', 'java.lang.reflect', 'java.text',
    'java.time', 'java.util', 'java.util.concurrent', 'java.util.concurrent.atomic',
    'java.util.concurrent.locks'].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`),
];

/**
 * A log4j2 configuration (properties format) writing to the file named by the system property
 * `log.file`, at INFO for the given loggers' own code and WARN for the noisy libraries.
 */
export function log4j2Properties(quiet: readonly string[], rootLevel = 'INFO'): string {
  const lines = [
    `rootLogger.level = ${rootLevel}`,
    'rootLogger.appenderRef.file.ref = File',
    'appender.file.name = File',
    'appender.file.type = File',
    'appender.file.fileName = ${sys:log.file}',
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-40c{1.} - %m%n',
  ];
  quiet.forEach((name, i) => {
    lines.push(`logger.q${i}.name = ${name}`, `logger.q${i}.level = WARN`);
  });
  return `${lines.join('\n')}\n`;
}
