import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlinkRestClient } from '../../../src/act/flink-rest/client.js';
import { HttpStatusError } from '../../../src/act/errors.js';
import { FakeFlink, SAVEPOINT_DIR } from '../fake-flink.js';
import { isCancelRequest } from '../fake-http.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

describe('FlinkRestClient', () => {
  it('speaks the spec shapes and never sends a cancel request, whatever is called', async () => {
    const flink = new FakeFlink({ savepointInProgressPolls: 0, scheduler: 'adaptive' });
    open.push(flink);
    const client = new FlinkRestClient({ baseUrl: `${await flink.start()}/`, requestTimeoutMs: 2_000 });
    const id = flink.initialJobId;

    const job = await client.getJob(id);
    expect(job.jid).toBe(id);
    expect(job.state).toBe('RUNNING');
    expect(job.vertices.map((v) => v.parallelism)).toEqual([2, 2]);

    expect((await client.getJobsOverview()).jobs.map((j) => j.jid)).toEqual([id]);
    expect((await client.getClusterConfig()).find((e) => e.key === 'jobmanager.scheduler')?.value).toBe('adaptive');
    const jars = await client.listJars();
    expect(jars.files[0]?.name).toBe('TopSpeedWindowing.jar');

    const reqs = await client.getResourceRequirements(id);
    expect(Object.values(reqs)[0]).toEqual({ parallelism: { lowerBound: 1, upperBound: 2 } });
    await client.putResourceRequirements(id, reqs);

    const trigger = await client.stopWithSavepoint(id, { drain: false, targetDirectory: SAVEPOINT_DIR });
    expect(trigger['request-id']).toMatch(/^[0-9a-f]{32}$/);
    const status = await client.getSavepointStatus(id, trigger['request-id']);
    expect(status.status.id).toBe('COMPLETED');
    expect(status.operation?.location).toContain(SAVEPOINT_DIR);

    const run = await client.runJar(jars.files[0]!.id, { savepointPath: status.operation!.location!, parallelism: 3 });
    expect(run.jobid).toMatch(/^[0-9a-f]{32}$/);

    expect(flink.http.requests.length).toBe(9);
    expect(flink.http.requests.filter(isCancelRequest)).toEqual([]);
    expect(new Set(flink.http.requests.map((r) => r.method))).toEqual(new Set(['GET', 'POST', 'PUT']));
    expect(client.endpoint).toBe(flink.http.url);
  });

  it('turns Flink error bodies into HttpStatusError with a short reason and templated path', async () => {
    const flink = new FakeFlink();
    open.push(flink);
    const client = new FlinkRestClient({ baseUrl: await flink.start() });
    const missing = 'f'.repeat(32);
    const err = await client.getJob(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).status).toBe(404);
    expect((err as Error).message).toBe(`GET /jobs/{id}: HTTP 404 Job ${missing} not found`);
  });

  it('rejects ids that are not 32 hex characters before sending anything', async () => {
    const flink = new FakeFlink();
    open.push(flink);
    const client = new FlinkRestClient({ baseUrl: await flink.start() });
    await expect(client.getJob('../jobmanager/config')).rejects.toThrow(/invalid job id/);
    await expect(client.getSavepointStatus(flink.initialJobId, 'x')).rejects.toThrow(/invalid trigger id/);
    expect(flink.http.requests).toHaveLength(0);
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
