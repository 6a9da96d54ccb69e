/**
 * The in-place rescale of the adaptive scheduler (GET /jobmanager/config → jobmanager.scheduler =
 * adaptive): PUT /jobs/{id}/resource-requirements with upper bound p on every vertex (read with GET
 * first; capped at a vertex's max parallelism), then poll GET /jobs/{id} until the vertices run at
 * their targets. The job is never stopped, so nothing is journalled.
 */
import type { RescaleResult } from '../actuator.js';
import type { FlinkRestClient, JobDetailsInfo, JobResourceRequirementsBody } from './client.js';
import { jobParallelism, type JobTracker } from './jobs.js';
import { secondsText, type FlinkRestSettings } from './settings.js';

export class InPlaceRescale {
  /** Whether the cluster runs the adaptive scheduler, once asked (it does not change while phoebe runs). */
  private adaptive: boolean | undefined;

  constructor(private readonly client: FlinkRestClient, private readonly settings: FlinkRestSettings, private readonly jobs: JobTracker) {}

  /** Whether to rescale in place: as configured, or (auto) when the cluster's scheduler is adaptive. */
  async applies(): Promise<boolean> {
    const setting = this.settings.inPlace;
    if (setting !== 'auto') return setting === 'always';
    if (this.adaptive !== undefined) return this.adaptive;
    const config = await this.client.getClusterConfig();
    const value = (key: string): string | undefined => config.find((e) => e.key === key)?.value?.trim().toLowerCase();
    if (value('scheduler-mode') === 'reactive') {
      throw new Error('the cluster runs in reactive mode (parallelism follows the TaskManagers); use the taskmanager-deployment actuator');
    }
    this.adaptive = value('jobmanager.scheduler') === 'adaptive';
    return this.adaptive;
  }

  async rescale(job: JobDetailsInfo, p: number): Promise<Omit<RescaleResult, 'seconds'>> {
    const current = await this.client.getResourceRequirements(job.jid);
    const vertexIds = Object.keys(current);
    if (vertexIds.length === 0) return { outcome: 'failed', detail: `job ${job.jid} reports no resource requirements` };
    const maxOf = new Map(job.vertices.map((v) => [v.id, v.maxParallelism] as const));
    const targets = new Map<string, number>();
    const body: JobResourceRequirementsBody = {};
    for (const id of vertexIds) {
      const max = maxOf.get(id);
      const target = max !== undefined && max > 0 ? Math.min(p, max) : p;
      const lower = current[id]?.parallelism?.lowerBound ?? 1;
      targets.set(id, target);
      body[id] = { parallelism: { lowerBound: Math.max(1, Math.min(lower, target)), upperBound: target } };
    }
    const capped = [...targets.values()].some((t) => t < p);
    this.settings.logger.info('rescaling in place (adaptive scheduler)', { job: job.jid, to: p, vertices: vertexIds.length });
    await this.client.putResourceRequirements(job.jid, body);

    const atTargets = (now: JobDetailsInfo): boolean => [...targets].every(([id, t]) => now.vertices.find((v) => v.id === id)?.parallelism === t);
    const waited = await this.jobs.awaitRunning(job.jid, atTargets);
    if (!waited.ok) {
      const why = waited.fatal ? 'the job left RUNNING' : `not running at ${p} within ${secondsText(this.settings.runningTimeoutMs)}`;
      return { outcome: 'failed', detail: `in place: upper bound set to ${p}, but ${why} (${waited.state})` };
    }
    const reached = jobParallelism(waited.value) ?? p;
    return {
      outcome: 'completed',
      parallelism: reached,
      detail: `in place (adaptive scheduler): job ${job.jid} runs at ${reached}${capped ? ' (some vertices capped at their max parallelism)' : ''}`,
    };
  }
}
