/**
 * Which vertices of a job are its sources, and so what the job's parallelism is: the one rule for
 * the flink-rest actuator, matching the catalogue's `parallelism` query.
 */
import { DEFAULT_SOURCE_TASK_PATTERN, sourceNamePattern } from '../../observe/promql-catalogue.js';
import type { JobDetailsInfo } from './client.js';

/** Whether a vertex (by its name in the REST API) is one of the job's sources. */
export type SourceTest = (vertexName: string) => boolean;

/**
 * The source test of `job.sourceTaskPattern`: the pattern is written for Prometheus labels, whose
 * values Flink's reporter sanitises, so both the REST name and its sanitised form are tried, with
 * or without Flink's vertex index prefix.
 */
export function sourceVertexTest(pattern: string = DEFAULT_SOURCE_TASK_PATTERN): SourceTest {
  const re = new RegExp(`^(?:${sourceNamePattern(pattern)})$`);
  return (name) => re.test(name) || re.test(name.replace(/[^A-Za-z0-9_:]/g, '_'));
}

const defaultSourceTest = sourceVertexTest();

/**
 * A job's parallelism: its widest vertex apart from the sources (which are often pinned to the
 * partition count, above or below it); a job of sources only, its widest source. The same rule
 * as the catalogue's `parallelism` query, so what phoebe observes is what it sets.
 */
export function jobParallelism(job: Pick<JobDetailsInfo, 'vertices'>, isSource: SourceTest = defaultSourceTest): number | undefined {
  const widest = (vertices: JobDetailsInfo['vertices']): number | undefined => {
    const ps = vertices.map((v) => v.parallelism).filter((p) => Number.isInteger(p) && p > 0);
    return ps.length === 0 ? undefined : Math.max(...ps);
  };
  return widest(job.vertices.filter((v) => !isSource(v.name ?? ''))) ?? widest(job.vertices);
}
