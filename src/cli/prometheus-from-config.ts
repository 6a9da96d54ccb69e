import type { PhoebeConfig } from '../config/phoebe-config.js';
import { createPrometheusClient } from '../observe/prometheus-client.js';
import { PrometheusSource, type PrometheusSourceOptions } from '../observe/prometheus-source.js';
import { QUERY_KEYS, type QuerySet } from '../observe/promql-catalogue.js';

/** A source reading the configured Prometheus with the configured queries. */
export function prometheusSourceFromConfig(config: PhoebeConfig, extra: Partial<Omit<PrometheusSourceOptions, 'client' | 'queries'>> = {}): PrometheusSource {
  const p = config.prometheus;
  const client = createPrometheusClient({
    url: p.url,
    timeoutSeconds: p.timeoutSeconds,
    ...(p.basicAuth ? {
      basicAuth: {
        username: p.basicAuth.username,
        ...(p.basicAuth.password ? { password: p.basicAuth.password.reveal() } : {}),
        ...(p.basicAuth.passwordFile ? { passwordFile: p.basicAuth.passwordFile } : {}),
      },
    } : {}),
    ...(p.bearerToken ? { bearerToken: p.bearerToken.reveal() } : {}),
    ...(p.bearerTokenFile ? { bearerTokenFile: p.bearerTokenFile } : {}),
    tls: p.tls,
  });
  const queries = Object.fromEntries(QUERY_KEYS.map((k) => [k, config.queries[k]])) as QuerySet;
  return new PrometheusSource({
    client,
    queries,
    stepSeconds: config.history.stepSeconds,
    backfillSeconds: config.history.backfillSeconds,
    carryForwardSeconds: config.history.carryForwardSeconds,
    answeredRecentlySeconds: Math.max(120, 4 * config.decision.intervalSeconds),
    clockCheck: true,
    ...extra,
  });
}
