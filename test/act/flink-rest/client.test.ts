import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlinkRestClient } from '../../../src/act/flink-rest/client.js';
import { HttpStatusError } from '../../../src/act/errors.js';
import { LiveTwin, SAVEPOINT_DIR } from '../../support/live-twin.js';

const open: LiveTwin[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (open.length > 0) await open.pop()!.close();
});

async function twinWith(options: Parameters<typeof LiveTwin.start>[0] = {}): Promise<LiveTwin> {
  const twin = await LiveTwin.start(options);
  open.push(twin);
  return twin;
}

describe('FlinkRestClient', () => {
  it('speaks the spec shapes and never sends a cancel request, whatever is called', async () => {
    const twin = await twinWith({ scheduler: 'adaptive' });
    const client = new FlinkRestClient({ baseUrl: `${twin.url}/`, requestTimeoutMs: 2_000 });
    const id = twin.cluster.currentJob.id;

    const job = await client.getJob(id);
    expect(job.jid).toBe(id);
    expect(job.state).toBe('RUNNING');
    expect(job.vertices.map((v) => v.parallelism)).toEqual([2]);

    expect((await client.getJobsOverview()).jobs.map((j) => j.jid)).toEqual([id]);
    expect((await client.getClusterConfig()).find((e) => e.key === 'jobmanager.scheduler')?.value).toBe('adaptive');
    const jars = await client.listJars();
    expect(jars.files[0]?.id).toBe(twin.cluster.jarId);

    const reqs = await client.getResourceRequirements(id);
    expect(Object.values(reqs)[0]).toEqual({ parallelism: { lowerBound: 1, upperBound: 2 } });
    await client.putResourceRequirements(id, reqs);

    const trigger = await client.stopWithSavepoint(id, { drain: false, targetDirectory: SAVEPOINT_DIR });
    expect(trigger['request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect((await client.getSavepointStatus(id, trigger['request-id'])).status.id).toBe('IN_PROGRESS');
    await twin.clock.advance(2_000); // the savepoint takes 2 s
    const status = await client.getSavepointStatus(id, trigger['request-id']);
    expect(status.status.id).toBe('COMPLETED');
    expect(status.operation?.location).toContain(SAVEPOINT_DIR);

    const run = await client.runJar(jars.files[0]!.id, { savepointPath: status.operation!.location!, parallelism: 3 });
    expect(run.jobid).toMatch(/^[0-9a-f]{32}$/);

    expect(twin.requests.length).toBe(10);
    expect(twin.cancelRequests()).toEqual([]);
    expect(new Set(twin.requests.map((r) => r.method))).toEqual(new Set(['GET', 'POST', 'PUT']));
    expect(client.endpoint).toBe(twin.url);
  });

  it('turns Flink error bodies into HttpStatusError with a short reason and templated path', async () => {
    const twin = await twinWith();
    const client = new FlinkRestClient({ baseUrl: twin.url });
    const missing = 'f'.repeat(32);
    const err = await client.getJob(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).status).toBe(404);
    expect((err as Error).message).toMatch(/^GET \/jobs\/\{id\}: HTTP 404 /);
  });

  it('rejects ids that are not 32 hex characters before sending anything', async () => {
    const twin = await twinWith();
    const client = new FlinkRestClient({ baseUrl: twin.url });
    await expect(client.getJob('../jobmanager/config')).rejects.toThrow(/invalid job id/);
    await expect(client.getSavepointStatus(twin.cluster.currentJob.id, 'x')).rejects.toThrow(/invalid trigger id/);
    expect(twin.requests).toHaveLength(0);
  });

  it('refuses answers without the fields phoebe relies on', async () => {
    vi.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    const client = new FlinkRestClient({ baseUrl: 'http://127.0.0.1:1' });
    await expect(client.runJar('j.jar', { parallelism: 2 })).rejects.toThrow('POST /jars/{jarid}/run: response has no jobid');
    await expect(client.stopWithSavepoint('a'.repeat(32), { drain: false })).rejects.toThrow('response has no request-id');
    await expect(client.getJob('a'.repeat(32))).rejects.toThrow('response has no state');
  });

  it('has no cancel method, and no source under src/act sends a cancel request', () => {
    const methods = Object.getOwnPropertyNames(FlinkRestClient.prototype);
    expect(methods.filter((m) => /cancel|delete|terminate/i.test(m))).toEqual([]);
    // Every file under src/act, sub-folders included (the actuators live in flink-rest/ and kubernetes/).
    const dir = join(import.meta.dirname, '../../../src/act');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files).toContain(join('flink-rest', 'client.ts'));
    for (const file of files) {
      const code = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)) // comments may talk about what is not done
        .join('\n');
      expect(code, file).not.toMatch(/yarn-cancel|mode=cancel|['"]cancel-job['"]|['"](PATCH|DELETE)['"]/i);
    }
  });
});
