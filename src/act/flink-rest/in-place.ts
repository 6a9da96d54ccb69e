/**
 * The in-place rescale of the adaptive scheduler — chosen by the job's `schedulerType` in GET
 * /jobs/{id} (Flink 2.x; 1.20.3 leaves it out), else by GET /jobmanager/config →
 * jobmanager.scheduler = adaptive: PUT /jobs/{id}/resource-requirements with upper bound p on
 * every vertex that follows the job's parallelism (read with GET first; capped at a vertex's max
 * parallelism), then poll GET /jobs/{id} until the vertices run at their targets. A vertex the
 * job pinned to another parallelism (a source at the partition count, a sink at 1) keeps it, as
 * the job's own resubmission would. The job is never stopped, so nothing is journalled.
 */
import type { RescaleResult } from '../actuator.js';
import type { FlinkRestClient, JobDetailsInfo, JobResourceRequirementsBody } from './client.js';
import type { JobTracker } from './jobs.js';
import { secondsText, type FlinkRestSettings } from './settings.js';

export class InPlaceRescale {
  /** Whether the cluster runs the adaptive scheduler, once asked (it does not change while phoebe runs). */
  private adaptive: boolean | undefined;
  /**
   * Per job id, the vertices pinned to a parallelism of their own, as first seen: after an
   * in-place rescale a pinned vertex may coincide with the job's parallelism, so it is not
   * re-derived.
   */
  private readonly pinned = new Map<string, ReadonlySet<string>>();

  constructor(private readonly client: FlinkRestClient, private readonly settings: FlinkRestSettings, private readonly jobs: JobTracker) {}

  /**
   * Whether to rescale this job in place: as configured, or (auto) when its scheduler is
   * adaptive — the job's own `schedulerType` where the REST API reports one (a per-job setting
   * can differ from the cluster's), else the cluster's `jobmanager.scheduler`.
   */
  async applies(job?: JobDetailsInfo): Promise<boolean> {
    const setting = this.settings.inPlace;
    if (setting !== 'auto') return setting === 'always';
    // Asked once (it does not change while phoebe runs): also to refuse reactive mode, whose
    // jobs report the adaptive scheduler too.
    if (this.adaptive === undefined) {
      const config = await this.client.getClusterConfig();
      const value = (key: string): string | undefined => config.find((e) => e.key === key)?.value?.trim().toLowerCase();
      if (value('scheduler-mode') === 'reactive') {
        throw new Error('the cluster runs in reactive mode (parallelism follows the TaskManagers); use the taskmanager-deployment actuator');
      }
      this.adaptive = value('jobmanager.scheduler') === 'adaptive';
    }
    if (job?.schedulerType !== undefined) return job.schedulerType === 'Adaptive';
    return this.adaptive;
  }

  private pinnedVertices(job: JobDetailsInfo, current: JobResourceRequirementsBody): ReadonlySet<string> {
    const known = this.pinned.get(job.jid);
    if (known) return known;
    const jobP = this.jobs.parallelism(job);
    const set = new Set<string>();
    for (const v of job.vertices) {
      const p = current[v.id]?.parallelism?.upperBound ?? v.parallelism;
      if (jobP !== undefined && p !== jobP) set.add(v.id);
    }
    this.pinned.set(job.jid, set);
    return set;
  }

  async rescale(job: JobDetailsInfo, p: number): Promise<Omit<RescaleResult, 'seconds'>> {
    const current = await this.client.getResourceRequirements(job.jid);
    const vertexIds = Object.keys(current);
    if (vertexIds.length === 0) return { outcome: 'failed', detail: `job ${job.jid} reports no resource requirements` };
    const maxOf = new Map(job.vertices.map((v) => [v.id, v.maxParallelism] as const));
    const pinned = this.pinnedVertices(job, current);
    const targets = new Map<string, number>();
    const body: JobResourceRequirementsBody = {};
    for (const id of vertexIds) {
      if (pinned.has(id)) {
        // Kept as it is: the same requirement, and the same parallelism to wait for.
        const kept = current[id]!;
        body[id] = kept;
        targets.set(id, job.vertices.find((v) => v.id === id)?.parallelism ?? kept.parallelism.upperBound);
        continue;
      }
      const max = maxOf.get(id);
      const target = max !== undefined && max > 0 ? Math.min(p, max) : p;
      const lower = current[id]?.parallelism?.lowerBound ?? 1;
      targets.set(id, target);
      body[id] = { parallelism: { lowerBound: Math.max(1, Math.min(lower, target)), upperBound: target } };
    }
    const capped = [...targets].some(([id, t]) => t < p && !pinned.has(id));
    this.settings.logger.info('rescaling in place (adaptive scheduler)', { job: job.jid, to: p, vertices: vertexIds.length, pinned: pinned.size });
    await this.client.putResourceRequirements(job.jid, body);

    const atTargets = (now: JobDetailsInfo): boolean => [...targets].every(([id, t]) => now.vertices.find((v) => v.id === id)?.parallelism === t);
    const waited = await this.jobs.awaitRunning(job.jid, atTargets);
    if (!waited.ok) {
      const why = waited.fatal ? 'the job left RUNNING' : `not running at ${p} within ${secondsText(this.settings.runningTimeoutMs)}`;
      return { outcome: 'failed', detail: `in place: upper bound set to ${p}, but ${why} (${waited.state})` };
    }
    const reached = this.jobs.parallelism(waited.value) ?? p;
    return {
      outcome: 'completed',
      parallelism: reached,
      detail: `in place (adaptive scheduler): job ${job.jid} runs at ${reached}${capped ? ' (some vertices capped at their max parallelism)' : ''}${pinned.size > 0 ? ` (${pinned.size} pinned vertex${pinned.size > 1 ? 'es' : ''} kept)` : ''}`,
    };
  }
}
