import { describe, expect, it } from 'vitest';
import type { FlinkRestClient, JarListInfo } from '../../../src/act/flink-rest/client.js';
import { JobTracker } from '../../../src/act/flink-rest/jobs.js';
import { withDefaults } from '../../../src/act/flink-rest/settings.js';
import { silentLogger } from '../../../src/act/logger.js';

/** Only GET /jars matters here: the uploads as Flink lists them. */
function trackerWith(files: JarListInfo['files'], choice: { jarId?: string; jarName?: string }): JobTracker {
  const client = { listJars: async () => ({ files }) } as unknown as FlinkRestClient;
  return new JobTracker(client, withDefaults({ restUrl: 'http://127.0.0.1:1', jobName: 'cars', logger: silentLogger, ...choice }));
}

describe('JobTracker.resolveJar', () => {
  const uploads = [
    { id: 'old_TopSpeedWindowing.jar', name: 'TopSpeedWindowing.jar', uploaded: 1000 },
    { id: 'new_TopSpeedWindowing.jar', name: 'TopSpeedWindowing.jar', uploaded: 2000 },
    { id: 'x_Other.jar', name: 'Other.jar', uploaded: 3000 },
  ];

  it('by file name: the newest upload of that name', async () => {
    expect(await trackerWith(uploads, { jarName: 'TopSpeedWindowing.jar' }).resolveJar()).toBe('new_TopSpeedWindowing.jar');
  });

  it('by id: only when it is uploaded', async () => {
    expect(await trackerWith(uploads, { jarId: 'old_TopSpeedWindowing.jar' }).resolveJar()).toBe('old_TopSpeedWindowing.jar');
    await expect(trackerWith(uploads, { jarId: 'gone.jar' }).resolveJar()).rejects.toThrow('jar gone.jar is not among the uploaded jars (GET /jars)');
    await expect(trackerWith(uploads, { jarName: 'Missing.jar' }).resolveJar()).rejects.toThrow('no uploaded jar named "Missing.jar" (GET /jars)');
  });
});
