import { readFile } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { PrometheusDriver, type QueryResult } from 'prometheus-query';
import type { SeriesLike } from './prometheus-convert.js';

/**
 * The one place phoebe talks HTTP to Prometheus: prometheus-query underneath, with
 * authentication, TLS, a hard deadline per request and typed errors that never carry a
 * credential.
 */

export type PrometheusErrorKind = 'timeout' | 'network' | 'tls' | 'http' | 'query' | 'response' | 'credentials';

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
  constructor(
    readonly kind: PrometheusErrorKind,
    message: string,
    /** HTTP status when Prometheus answered. */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface PrometheusClientOptions {
  /** Base URL of Prometheus, without credentials. */
  url: string;
  timeoutSeconds: number;
  basicAuth?: { username: string; password?: string; passwordFile?: string };
  bearerToken?: string;
  bearerTokenFile?: string;
  tls?: { caFile?: string; insecureSkipVerify?: boolean };
}

/** What the source needs of Prometheus: range queries returning series (times in unix s). */
export interface PrometheusClient {
  rangeQuery(query: string, start: number, end: number, stepSeconds: number): Promise<SeriesLike[]>;
  instantQuery(query: string, time?: number): Promise<Array<{ value: number; time: number }>>;
}

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  return new DriverClient(options);
}

/** Replaces every known secret in a text; used on every message that leaves this module. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('<redacted>');
  return out;
}

class DriverClient implements PrometheusClient {
  private readonly driver: PrometheusDriver;
  private readonly timeoutMs: number;
  private readonly origin: string;
  /** Secrets seen so far (configured or read from files), scrubbed from messages. */
  private readonly secrets = new Set<string>();

  constructor(private readonly options: PrometheusClientOptions) {
    this.timeoutMs = Math.round(options.timeoutSeconds * 1000);
    const url = new URL(options.url);
    this.origin = `${url.protocol}//${url.host}`;
    if (options.basicAuth?.password) this.secrets.add(options.basicAuth.password);
    if (options.bearerToken) this.secrets.add(options.bearerToken);
    let httpsAgent: HttpsAgent | undefined;
    if (url.protocol === 'https:' && (options.tls?.caFile || options.tls?.insecureSkipVerify)) {
      let ca: Buffer | undefined;
      if (options.tls.caFile) {
        try {
          ca = readFileSync(options.tls.caFile);
        } catch (err) {
          throw new PrometheusError('tls', `cannot read the CA file ${options.tls.caFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
        }
      }
      httpsAgent = new HttpsAgent({ ...(ca ? { ca } : {}), rejectUnauthorized: !options.tls.insecureSkipVerify, keepAlive: true });
    }
    const basePath = url.pathname.replace(/\/$/, '');
    this.driver = new PrometheusDriver({
      endpoint: this.origin,
      baseURL: `${basePath}/api/v1/`,
      timeout: this.timeoutMs,
      requestInterceptor: {
        onFulfilled: async (config) => {
          const authorization = await this.authorization();
          if (authorization) config.headers.set('Authorization', authorization);
          if (httpsAgent) config.httpsAgent = httpsAgent;
          // A hard deadline for the whole exchange (axios' own timeout only watches the socket).
          config.signal = AbortSignal.timeout(this.timeoutMs);
          return config;
        },
      },
    });
  }

  private async authorization(): Promise<string | undefined> {
    const { basicAuth, bearerToken, bearerTokenFile } = this.options;
    if (basicAuth) {
      const password = basicAuth.password ?? (basicAuth.passwordFile ? await this.readSecret(basicAuth.passwordFile, 'password file') : '');
      return `Basic ${Buffer.from(`${basicAuth.username}:${password}`).toString('base64')}`;
    }
    if (bearerToken) return `Bearer ${bearerToken}`;
    // Read on every request: projected service-account tokens rotate.
    if (bearerTokenFile) return `Bearer ${await this.readSecret(bearerTokenFile, 'bearer token file')}`;
    return undefined;
  }

  private async readSecret(file: string, what: string): Promise<string> {
    let value: string;
    try {
      value = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new PrometheusError('credentials', `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    if (value.length === 0) throw new PrometheusError('credentials', `the ${what} ${file} is empty`);
    this.secrets.add(value);
    return value;
  }

  async rangeQuery(query: string, start: number, end: number, stepSeconds: number): Promise<SeriesLike[]> {
    const result = await this.call(() => this.driver.rangeQuery(query, start * 1000, end * 1000, stepSeconds, this.evalTimeout()));
    if (result.resultType !== 'matrix') throw new PrometheusError('response', `expected a matrix, got ${String(result.resultType)}`);
    return (result.result as Array<{ values: Array<{ time: Date; value: number }> }>).map((series) => ({
      values: series.values.map((v) => ({ time: v.time.getTime() / 1000, value: v.value })),
    }));
  }

  async instantQuery(query: string, time?: number): Promise<Array<{ value: number; time: number }>> {
    const result = await this.call(() => this.driver.instantQuery(query, time === undefined ? undefined : time * 1000, this.evalTimeout()));
    if (result.resultType === 'scalar') {
      const [time, value] = result.result as unknown as [number, string];
      return [{ time, value: Number.parseFloat(value) }];
    }
    if (result.resultType !== 'vector') throw new PrometheusError('response', `expected a vector, got ${String(result.resultType)}`);
    return (result.result as Array<{ value: { time: Date; value: number } }>).map((s) => ({ time: s.value.time.getTime() / 1000, value: s.value.value }));
  }

  /** Prometheus' own evaluation timeout, a little under ours so it answers before we give up. */
  private evalTimeout(): string {
    return `${Math.max(1, Math.floor(this.timeoutMs * 0.9))}ms`;
  }

  private async call(request: () => Promise<QueryResult>): Promise<QueryResult> {
    try {
      return await request();
    } catch (err) {
      throw this.toError(err);
    }
  }

  /** Maps whatever prometheus-query threw to a PrometheusError with a safe message. */
  private toError(err: unknown): PrometheusError {
    if (err instanceof PrometheusError) return err;
    // An error of our own (a credentials file) thrown in the request interceptor comes back wrapped.
    const original = (err as { original?: unknown } | undefined)?.original;
    if (original instanceof PrometheusError) return original;
    // prometheus-query re-wraps its own error objects thrown on the success path (a non-API answer).
    if (original && typeof original === 'object' && 'errorType' in original && !('isAxiosError' in original)) return this.toError(original);
    const secrets = [...this.secrets].sort((a, b) => b.length - a.length);
    const safe = (text: string) => scrub(text, secrets).slice(0, 500);
    const e = (err ?? {}) as { errorType?: string; code?: string; error?: string; httpStatus?: number; message?: string };
    // prometheus-query throws plain objects whose `original` holds the request (headers included): never used.
    switch (e.errorType) {
      case 'timeout_error':
        return new PrometheusError('timeout', `Prometheus at ${this.origin} did not answer within ${this.timeoutMs / 1000} s`);
      case 'ssl_error':
        return new PrometheusError('tls', `TLS error talking to Prometheus at ${this.origin} (${safe(e.code ?? 'ssl')})`);
      case 'network_error':
        if (e.code === 'ERR_CANCELED') return new PrometheusError('timeout', `Prometheus at ${this.origin} did not answer within ${this.timeoutMs / 1000} s`);
        if (e.code && /CERT|SSL|TLS|SELF_SIGNED/.test(e.code)) return new PrometheusError('tls', `TLS error talking to Prometheus at ${this.origin} (${safe(e.code)})`);
        return new PrometheusError('network', `cannot reach Prometheus at ${this.origin} (${safe(e.code ?? 'network error')})`);
      case 'http_error': {
        const status = e.httpStatus;
        const detail = e.error ? `: ${safe(String(e.error))}` : '';
        if (status === 400 || status === 422) return new PrometheusError('query', `Prometheus rejected the query (HTTP ${status})${detail}`, status);
        if (status === 401 || status === 403) return new PrometheusError('credentials', `Prometheus at ${this.origin} refused the credentials (HTTP ${status})`, status);
        return new PrometheusError('http', `Prometheus at ${this.origin} answered HTTP ${status ?? '?'}${detail}`, status);
      }
      case 'client_error':
        return new PrometheusError('response', `unexpected answer from Prometheus at ${this.origin} (not the Prometheus API?)`);
      default:
        return new PrometheusError('response', `unexpected error talking to Prometheus at ${this.origin}: ${safe(e.message ?? String(err))}`);
    }
  }
}
