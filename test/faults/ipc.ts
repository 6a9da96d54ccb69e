/**
 * Request and answer over a child process's IPC channel, for the long-lived helpers of the fault
 * tests (twin-host.ts, rescale-driver.ts --serve): the parent sends {id, request}, the child
 * answers {id, value} or {id, error}. Every request is bounded; a child that exits fails whatever
 * waits on it; a child whose parent goes away (even SIGKILLed) cleans up and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';

interface Envelope<T> { id: number; request: T }
type Answer<T> = { id: number; value: T } | { id: number; error: string };

/** Child side: answers every request with `handle`; on the parent's disconnect, `close` and exit. */
export function serveRequests<Request, Value>(handle: (request: Request) => Promise<Value>, close: () => Promise<void> = async () => undefined): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('start me with an IPC channel (test/faults/harness.ts does)\n');
    process.exit(2);
  }
  process.on('message', (message: Envelope<Request>) => {
    handle(message.request).then(
      (value) => send({ id: message.id, value } satisfies Answer<Value>),
      (err: unknown) => send({ id: message.id, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies Answer<Value>),
    );
  });
  process.on('disconnect', () => { void close().finally(() => process.exit(0)); });
}

/** Parent side: one such child (node `script`), its recent output kept for failure messages. */
export class IpcChild<Request, Value> {
  private output = '';
  private lastId = 0;
  private readonly waiting = new Map<number, (answer: Answer<Value>) => void>();
  private readonly child: ChildProcess;

  constructor(script: string, args: readonly string[] = []) {
    this.child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const keep = (chunk: Buffer): void => { this.output = (this.output + chunk.toString()).slice(-20_000); };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.on('error', (err) => keep(Buffer.from(`${script}: ${err.message}\n`)));
    this.child.on('message', (answer: Answer<Value>) => this.waiting.get(answer.id)?.(answer));
    this.child.once('exit', (code, signal) => {
      for (const [id, answer] of this.waiting) answer({ id, error: `${script} exited (${signal ?? code})` });
    });
  }

  /** The child's recent stdout and stderr. */
  log(): string {
    return this.output;
  }

  /** The child's answer; rejects with its error (and output) or after `timeoutMs`. */
  request(request: Request, timeoutMs: number): Promise<Value> {
    const id = ++this.lastId;
    return new Promise((resolve, reject) => {
      const settle = (answer: Answer<Value>): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if ('value' in answer) resolve(answer.value);
        else reject(new Error(`${answer.error}\n--- output ---\n${this.output.slice(-2_000)}`));
      };
      const timer = setTimeout(() => settle({ id, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
      this.waiting.set(id, settle);
      if (!this.child.connected) settle({ id, error: 'the child process is not running' });
      else this.child.send({ id, request } satisfies Envelope<Request>);
    });
  }

  /** Disconnects (the child cleans up and exits); SIGKILL if it is still there after 3 s. */
  async close(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(killer);
  }
}
