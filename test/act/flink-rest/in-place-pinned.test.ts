/**
 * The in-place rescale (adaptive scheduler) on a job whose source is pinned to its partitions:
 * only the vertices that follow the job's parallelism move, and the job's own `schedulerType`
 * decides the path where Flink reports one. A fake REST client holds the job (the live twin has
 * one vertex; the real-cluster test runs the same path on a real Flink).
 */
import { describe, expect, it } from 'vitest';
import type { FlinkRestClient, JobDetailsInfo, JobResourceRequirementsBody } from '../../../src/act/flink-rest/client.js';
import { InPlaceRescale } from '../../../src/act/flink-rest/in-place.js';
import { JobTracker } from '../../../src/act/flink-rest/jobs.js';
import { withDefaults } from '../../../src/act/flink-rest/settings.js';
import { silentLogger } from '../../../src/act/logger.js';
import { FakeClock } from '../../support/fake-clock.js';

const JOB = 'a'.repeat(32);

/** A job of a source at `source` and a keyed vertex at `keyed`, whose requirements apply at once. */
function cluster(source: number, keyed: number, options: { schedulerType?: JobDetailsInfo['schedulerType']; clusterScheduler?: string } = {}) {
  const vertices = [
    { id: 'src', name: 'Source: input', parallelism: source, maxParallelism: 128, status: 'RUNNING' as const },
    { id: 'cost', name: 'cost -> output: Writer -> output: Committer', parallelism: keyed, maxParallelism: 128, status: 'RUNNING' as const },
  ];
  let requirements: JobResourceRequirementsBody = Object.fromEntries(vertices.map((v) => [v.id, { parallelism: { lowerBound: 1, upperBound: v.parallelism } }]));
  const puts: JobResourceRequirementsBody[] = [];
  const client = {
    getJob: async (): Promise<JobDetailsInfo> => ({ jid: JOB, state: 'RUNNING', vertices: vertices.map((v) => ({ ...v })), ...(options.schedulerType ? { schedulerType: options.schedulerType } : {}) }),
    getResourceRequirements: async () => structuredClone(requirements),
    putResourceRequirements: async (_: string, body: JobResourceRequirementsBody) => {
      puts.push(structuredClone(body));
      requirements = structuredClone(body);
      for (const v of vertices) v.parallelism = body[v.id]!.parallelism.upperBound;
    },
    getClusterConfig: async () => [{ key: 'jobmanager.scheduler', value: options.clusterScheduler ?? 'adaptive' }],
  } as unknown as FlinkRestClient;
  const settings = withDefaults({ restUrl: 'http://127.0.0.1:1', jobId: JOB, inPlace: 'auto', logger: silentLogger, clock: new FakeClock(0), pollIntervalMs: 10 });
  const jobs = new JobTracker(client, settings);
  return { inPlace: new InPlaceRescale(client, settings, jobs), client, puts, vertices };
}

describe('InPlaceRescale with a pinned source', () => {
  it('moves the keyed vertex and keeps the source at its partition count, up and down', async () => {
    const { inPlace, client, puts, vertices } = cluster(12, 3);
    const up = await inPlace.rescale(await client.getJob(JOB), 6);
    expect(up).toMatchObject({ outcome: 'completed', parallelism: 6 });
    expect(puts[0]).toEqual({ src: { parallelism: { lowerBound: 1, upperBound: 12 } }, cost: { parallelism: { lowerBound: 1, upperBound: 6 } } });
    expect(up.detail).toContain('1 pinned vertex kept');
    // At 12 the keyed vertex meets the source; the source stays pinned on the way down.
    await inPlace.rescale(await client.getJob(JOB), 12);
    const down = await inPlace.rescale(await client.getJob(JOB), 2);
    expect(down).toMatchObject({ outcome: 'completed', parallelism: 2 });
    expect(vertices.map((v) => v.parallelism)).toEqual([12, 2]);
  });

  it('moves every vertex of a job whose source follows the job', async () => {
    const { inPlace, client, vertices } = cluster(3, 3);
    expect(await inPlace.rescale(await client.getJob(JOB), 5)).toMatchObject({ outcome: 'completed', parallelism: 5 });
    expect(vertices.map((v) => v.parallelism)).toEqual([5, 5]);
  });
});

describe('InPlaceRescale.applies', () => {
  it('follows the job\'s own schedulerType where Flink reports it, the cluster\'s jobmanager.scheduler otherwise', async () => {
    const perJobDefault = cluster(2, 2, { schedulerType: 'Default', clusterScheduler: 'adaptive' });
    expect(await perJobDefault.inPlace.applies(await perJobDefault.client.getJob(JOB))).toBe(false);
    const perJobAdaptive = cluster(2, 2, { schedulerType: 'Adaptive', clusterScheduler: 'default' });
    expect(await perJobAdaptive.inPlace.applies(await perJobAdaptive.client.getJob(JOB))).toBe(true);
    const noField = cluster(2, 2, { clusterScheduler: 'adaptive' });
    expect(await noField.inPlace.applies(await noField.client.getJob(JOB))).toBe(true);
  });
});
