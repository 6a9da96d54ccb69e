/**
 * Prometheus HTTP API queries that keep the labels (the shared harness's `query` returns only
 * values): what the real-cluster test records about Flink's metric names and labels.
 */

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RangeSeries {
  metric: Record<string, string>;
  /** [unix seconds, value] */
  values: Array<[number, number]>;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await response.json() as { status: string; error?: string; data?: T };
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${url}: ${body.error ?? response.status}`);
  return body.data;
}

export async function instant(prometheusUrl: string, expr: string): Promise<Sample[]> {
  const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
    `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return data.result.map((r) => ({ metric: r.metric, value: Number.parseFloat(r.value[1]) }));
}

export async function range(prometheusUrl: string, expr: string, startSeconds: number, endSeconds: number, stepSeconds = 1): Promise<RangeSeries[]> {
  const data = await api<{ result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }>(
    `${prometheusUrl}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${startSeconds}&end=${endSeconds}&step=${stepSeconds}`);
  return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number.parseFloat(v)] as [number, number]) }));
}

/** Every metric name Prometheus holds. */
export async function metricNames(prometheusUrl: string): Promise<string[]> {
  return api<string[]>(`${prometheusUrl}/api/v1/label/__name__/values`);
}

/** Polls until `expr` has at least `min` series; rejects after timeoutMs. */
export async function waitForSeries(prometheusUrl: string, expr: string, min: number, timeoutMs: number): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: Sample[] = [];
  for (;;) {
    last = await instant(prometheusUrl, expr);
    if (last.length >= min) return last;
    if (Date.now() > deadline) throw new Error(`fewer than ${min} series for ${expr} within ${timeoutMs} ms (got ${last.length})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
