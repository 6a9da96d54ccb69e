import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './processes.js';

/**
 * Maven for the real-cluster test: class paths of the Flink and Kafka processes
 * (`mvn dependency:build-classpath` over test/flink-job/classpaths/*), and the job jar
 * (test/flink-job). Results are cached outside the repository, under $PHOEBE_CACHE or
 * ~/.cache/phoebe, keyed by a hash of their inputs; the Maven repository stays the default
 * ~/.m2.
 */

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is test/support/real-cluster/maven.ts, or its dist/ twin). */
export const repoRoot = findRepoRoot(here);
export const jobProjectDir = join(repoRoot, 'test', 'flink-job');

function findRepoRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'flink-job', 'pom.xml'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`repository root not found above ${start}`);
}

export function cacheDir(): string {
  const dir = join(process.env.PHOEBE_CACHE ?? join(homedir(), '.cache', 'phoebe'), 'real-cluster');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Maven (`mvn`, or $PHOEBE_MVN), batch mode. */
function mvn(): string {
  return process.env.PHOEBE_MVN ?? 'mvn';
}

function hashOf(parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

/**
 * The class path (list of jar paths) of the dependency set in `pomDir`, with `properties`
 * passed as -D. Cached by the POM's content and the properties; re-resolved if a jar is gone.
 */
export async function mavenClasspath(pomDir: string, properties: Record<string, string>, logDir: string): Promise<string[]> {
  const pom = join(pomDir, 'pom.xml');
  const props = Object.entries(properties).sort(([a], [b]) => a.localeCompare(b));
  const key = hashOf([readFileSync(pom), JSON.stringify(props)]);
  const file = join(cacheDir(), `classpath-${relative(jobProjectDir, pomDir).replace(/[^a-z0-9]+/gi, '-')}-${key}.txt`);
  if (existsSync(file)) {
    const jars = readFileSync(file, 'utf8').trim().split(':').filter(Boolean);
    if (jars.length > 0 && jars.every((jar) => existsSync(jar))) return jars;
  }
  const partial = `${file}.${process.pid}.partial`;
  await runProcess({
    name: `mvn build-classpath ${relative(repoRoot, pomDir)}`,
    command: mvn(),
    args: ['-B', '-q', '-f', pom, 'dependency:build-classpath', `-Dmdep.outputFile=${partial}`, ...props.map(([k, v]) => `-D${k}=${v}`)],
    logFile: join(logDir, 'mvn-classpath.log'),
    timeoutMs: 10 * 60_000,
  });
  renameSync(partial, file);
  return readFileSync(file, 'utf8').trim().split(':').filter(Boolean);
}

/** The Flink lines the test knows: Maven profile of test/flink-job and the cluster's version. */
export interface FlinkLine {
  /** `1.20` or `2`. */
  line: string;
  /** Profile of test/flink-job/pom.xml. */
  profile: string;
  flinkVersion: string;
}

export const FLINK_LINES: Record<string, FlinkLine> = {
  // 1.20.3, not 1.20.5: flink-metrics-prometheus 1.20.4 and 1.20.5 are not on Maven Central.
  '1.20': { line: '1.20', profile: 'flink-1.20', flinkVersion: '1.20.3' },
  '2': { line: '2', profile: 'flink-2', flinkVersion: '2.3.0' },
};

/**
 * Builds test/flink-job for a Flink line (`mvn package -P <profile>`), into a build directory
 * in the cache, and returns the shaded jar (copied into the cache under a content hash, so an
 * unchanged project is not rebuilt).
 */
export async function buildJobJar(line: FlinkLine, logDir: string): Promise<string> {
  const inputs = [join(jobProjectDir, 'pom.xml'), ...filesUnder(join(jobProjectDir, 'src'))];
  const key = hashOf([line.profile, line.flinkVersion, ...inputs.flatMap((f) => [relative(jobProjectDir, f), readFileSync(f)])]);
  const jar = join(cacheDir(), `phoebe-flink-job-${line.line}-${key}.jar`);
  if (existsSync(jar) && statSync(jar).size > 0) return jar;
  const buildDir = join(cacheDir(), `build-${line.profile}`);
  await runProcess({
    name: `mvn package test/flink-job -P ${line.profile}`,
    command: mvn(),
    args: ['-B', '-q', '-f', join(jobProjectDir, 'pom.xml'), 'package', '-P', line.profile, `-Dflink.version=${line.flinkVersion}`, `-Djob.build.dir=${buildDir}`],
    logFile: join(logDir, `mvn-job-${line.line}.log`),
    timeoutMs: 10 * 60_000,
  });
  const built = join(buildDir, 'phoebe-flink-job.jar');
  copyFileSync(built, `${jar}.partial`);
  renameSync(`${jar}.partial`, jar);
  // Earlier builds of this line (other sources) would only pile up, 20 MB each.
  const prefix = `phoebe-flink-job-${line.line}-`;
  for (const name of readdirSync(cacheDir())) {
    if (name.startsWith(prefix) && name.endsWith('.jar') && join(cacheDir(), name) !== jar) rmSync(join(cacheDir(), name), { force: true });
  }
  return resolve(jar);
}
