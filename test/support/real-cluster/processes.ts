import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';

/**
 * Processes of the real-cluster harness: every one runs in its own process group under a small
 * bash guard, and every one is ended by the harness.
 *
 * - `stop()` sends SIGTERM to the whole group (the JVM runs its shutdown hooks: Flink and Kafka
 *   close cleanly), then SIGKILL to the group after a grace period.
 * - `stopAllProcesses()` ends every process still registered; `installCleanupHooks()` calls it
 *   synchronously on exit and on SIGINT/SIGTERM/SIGHUP of the test worker, so a failing test or
 *   an interrupted runner leaves nothing behind.
 * - The guard also covers what no hook can: if the Node process dies without running its hooks
 *   (SIGKILL, OOM), or a process outlives its `lifetimeSeconds`, the guard ends its group.
 *
 * Output (stdout and stderr) goes to a log file, not a pipe: a chatty JVM never blocks on a full
 * pipe, and the log stays for diagnosis.
 */

/**
 * The guard, run as `bash -c GUARD guard <parentPid> <lifetimeSeconds> command args...`. It is
 * the group leader; its trap keeps SIGTERM from killing it before the command has exited, and a
 * trap (unlike an ignored signal) is reset in the child, so the JVM still gets its SIGTERM.
 */
const GUARD = [
  'parent=$1; lifetime=$2; shift 2',
  "trap ':' TERM INT HUP",
  '"$@" &',
  'child=$!',
  'start=$SECONDS',
  'while kill -0 "$child" 2>/dev/null; do',
  '  if ! kill -0 "$parent" 2>/dev/null || (( SECONDS - start >= lifetime )); then',
  '    echo "guard: parent $parent gone or lifetime ${lifetime}s over; ending process group $$" >&2',
  '    kill -TERM -- -$$ 2>/dev/null; sleep 5; kill -KILL -- -$$ 2>/dev/null',
  '  fi',
  '  sleep 1',
  'done',
  'wait "$child"',
].join('\n');

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessSpec {
  /** Short name for messages and the registry, e.g. `kafka`, `flink-jobmanager`. */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr of the process (appended). */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The guard ends the process after this long whatever happens. Default 1800 s. */
  lifetimeSeconds?: number;
}

export interface ManagedProcess {
  readonly name: string;
  /** Pid of the guard = the process group id. */
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** The last `chars` characters of the log. */
  tail(chars?: number): string;
  /** SIGTERM to the group, SIGKILL after `graceMs` (default 10 s). Idempotent. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL to the group at once, as a crashed machine or an OOM kill would end it; resolves on exit. */
  kill(): Promise<ExitInfo>;
}

const live = new Map<number, ManagedProcess>();

/**
 * `promise`, or undefined after `ms`. The timer is cleared either way: a pending 10-minute
 * timer would keep the test process alive long after the cluster is gone.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

export function readTail(file: string, chars = 4000): string {
  try {
    const size = statSync(file).size;
    const text = readFileSync(file, 'utf8');
    return size > chars ? text.slice(-chars) : text;
  } catch {
    return '';
  }
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
  installCleanupHooks();
  const fd = openSync(spec.logFile, 'a');
  let child;
  try {
    child = spawn('bash', ['-c', GUARD, 'guard', String(process.pid), String(spec.lifetimeSeconds ?? 1800), spec.command, ...spec.args], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      // A new process group (and session), so that the group can be signalled as a whole.
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(pid);
      // The guard is gone; make sure nothing of its group stays (a JVM's forked helper, say).
      killGroup(pid, 'SIGKILL');
      resolve(exitInfo);
    });
    child.on('error', () => {
      exitInfo ??= { code: -1, signal: null };
      live.delete(pid);
      resolve(exitInfo);
    });
  });
  let stopping: Promise<ExitInfo> | undefined;
  const managed: ManagedProcess = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    running: () => exitInfo === undefined,
    tail: (chars = 4000) => readTail(spec.logFile, chars),
    stop: (graceMs = 10_000) => {
      stopping ??= (async () => {
        if (exitInfo) return exitInfo;
        killGroup(pid, 'SIGTERM');
        const done = await within(exited, graceMs);
        if (done) return done;
        killGroup(pid, 'SIGKILL');
        const killed = await within(exited, 5000);
        return killed ?? { code: null, signal: 'SIGKILL' };
      })();
      return stopping;
    },
    kill: async () => {
      if (exitInfo) return exitInfo;
      killGroup(pid, 'SIGKILL');
      return (await within(exited, 5000)) ?? { code: null, signal: 'SIGKILL' };
    },
  };
  live.set(pid, managed);
  return managed;
}

/** Runs a command to completion (bounded by `timeoutMs`); rejects with the log's tail on failure. */
export async function runProcess(spec: ProcessSpec & { timeoutMs: number }): Promise<{ log: string }> {
  const managed = startProcess({ ...spec, lifetimeSeconds: Math.ceil(spec.timeoutMs / 1000) + 30 });
  const result = await within(managed.exited, spec.timeoutMs);
  if (!result) {
    await managed.stop(2000);
    throw new Error(`${spec.name} did not finish within ${spec.timeoutMs} ms:\n${managed.tail()}`);
  }
  if (result.code !== 0) {
    throw new Error(`${spec.name} failed (code ${result.code}, signal ${result.signal}):\n${managed.tail()}`);
  }
  return { log: readTail(spec.logFile, 1_000_000) };
}

/** The last line of `text` that parses as a JSON object (the Java tools print one). */
export function lastJsonLine<T>(text: string): T {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{') && l.endsWith('}'));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`no JSON line in:\n${text.slice(-2000)}`);
  return JSON.parse(last) as T;
}

/** Processes started and not yet exited (for tests that check nothing is left). */
export function liveProcesses(): ManagedProcess[] {
  return [...live.values()];
}

/** Ends every live process: SIGTERM to all groups at once, SIGKILL to what is left after graceMs. */
export async function stopAllProcesses(graceMs = 10_000): Promise<void> {
  await Promise.all([...live.values()].map((p) => p.stop(graceMs)));
}

const adopted = new Set<ChildProcess>();

/**
 * A sentinel for an adopted child, run as `bash -c SENTINEL sentinel <parentPid> <childPid>`:
 * ends the child when this Node process dies without running its hooks (SIGKILL), and ends
 * itself within a second once the child is gone.
 */
const SENTINEL = [
  'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done',
  'if kill -0 "$2" 2>/dev/null; then kill -TERM "$2"; sleep 5; kill -KILL "$2" 2>/dev/null; fi',
  'exit 0',
].join('\n');

/**
 * A child started elsewhere (the Prometheus of test/support/prometheus-harness.ts, which is not in a
 * group of its own) that the exit and signal hooks, and a sentinel, should end as well; its own
 * stop() remains the normal way.
 */
export function adoptChild(child: ChildProcess): void {
  installCleanupHooks();
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  adopted.add(child);
  child.once('exit', () => adopted.delete(child));
  const sentinel = spawn('bash', ['-c', SENTINEL, 'sentinel', String(process.pid), String(child.pid)], { detached: true, stdio: 'ignore' });
  sentinel.unref();
}

/** Synchronous last resort (exit handlers cannot wait): a signal to every live group. */
function killAllNow(signal: NodeJS.Signals): void {
  for (const pid of live.keys()) killGroup(pid, signal);
  for (const child of adopted) {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

const dirsToRemove = new Set<string>();

/**
 * A sentinel for a temporary directory, run as `bash -c DIR_SENTINEL sentinel <parentPid> <dir>`:
 * if this Node process dies while the directory still exists (killed by the runner before its
 * hooks ran), it waits for the guards to end their processes, then removes the directory. It
 * ends itself within a second once the directory is gone.
 */
const DIR_SENTINEL = [
  'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done',
  'if [ -d "$2" ]; then sleep 10; rm -rf -- "$2"; fi',
  'exit 0',
].join('\n');

/** A temporary directory removed on exit, or by a sentinel if this process is killed, unless forgotten. */
export function removeOnExit(dir: string): void {
  installCleanupHooks();
  dirsToRemove.add(dir);
  spawn('bash', ['-c', DIR_SENTINEL, 'sentinel', String(process.pid), dir], { detached: true, stdio: 'ignore' }).unref();
}

/** The directory was removed (or is to be kept): the exit hook leaves it alone. */
export function forgetOnExit(dir: string): void {
  dirsToRemove.delete(dir);
}

let hooksInstalled = false;

function removeDirsNow(): void {
  for (const dir of dirsToRemove) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a sentinel retries after the process is gone
    }
  }
}

/** Blocks the thread (no timers: they may never run again when the runner is going away). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function installCleanupHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    killAllNow('SIGKILL');
    removeDirsNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // All synchronous: once the runner's parent is gone, a test worker may never get back to
      // its timers. The JVMs get a moment for their shutdown hooks, then it is SIGKILL.
      killAllNow('SIGTERM');
      sleepSync(3000);
      killAllNow('SIGKILL');
      removeDirsNow();
      // Then die of the signal as if no one had listened: the test runner replaces
      // process.exit in its workers (and cannot report to a parent that is gone).
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    });
  }
}
