/**
 * What the real-cluster test measures beside phoebe: when the job was down (from the REST API,
 * every 200 ms), and the statistics of its figures.
 */

export interface DownInterval {
  /** Unix ms. */
  from: number;
  /** Unix ms; undefined while still down. */
  to: number | undefined;
}

export interface DowntimeWatch {
  intervals(): DownInterval[];
  /** Milliseconds down within [from, to] (unix ms). */
  downWithin(from: number, to: number): number;
  stop(): Promise<void>;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/**
 * The job named `jobName` is up while one job of that name is RUNNING with every vertex
 * RUNNING; anything else (no such job, restarting, a REST API that does not answer while the
 * cluster restarts) is down. Bounded: it stops by itself after `maxSeconds`.
 */
export function watchDowntime(restUrl: () => string, jobName: string, maxSeconds: number): DowntimeWatch {
  const intervals: DownInterval[] = [];
  let stopped = false;
  const until = Date.now() + maxSeconds * 1000;
  const up = async (): Promise<boolean> => {
    try {
      const overview = await getJson(`${restUrl()}/jobs/overview`) as { jobs: Array<{ jid: string; name: string; state: string }> };
      const job = overview.jobs.find((j) => j.name === jobName && j.state === 'RUNNING');
      if (!job) return false;
      const details = await getJson(`${restUrl()}/jobs/${job.jid}`) as { state: string; vertices: Array<{ status: string }> };
      return details.state === 'RUNNING' && details.vertices.every((v) => v.status === 'RUNNING');
    } catch {
      return false;
    }
  };
  const loop = (async () => {
    while (!stopped && Date.now() < until) {
      const t = Date.now();
      const isUp = await up();
      const open = intervals.at(-1);
      if (!isUp && (!open || open.to !== undefined)) intervals.push({ from: t, to: undefined });
      if (isUp && open && open.to === undefined) open.to = t;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    intervals: () => intervals.map((i) => ({ ...i })),
    downWithin: (from, to) => intervals.reduce((sum, i) => sum + Math.max(0, Math.min(to, i.to ?? Date.now()) - Math.max(from, i.from)), 0),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** |estimate − truth| / truth. */
export function relativeError(estimate: number, truth: number): number {
  return Math.abs(estimate - truth) / Math.abs(truth);
}
