/**
 * Turning errors into RescaleResult details and log lines that never carry a secret: no
 * Authorization header, bearer token, password, client key or kubeconfig content, and no
 * credentials embedded in a URL. Only a short, redacted reason survives.
 */

const MAX_DETAIL = 300;

/** An HTTP error with the parts that are safe to show. */
export class HttpStatusError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** Short server-side reason (already redacted and truncated). */
    readonly reason: string,
  ) {
    super(`${method} ${path}: HTTP ${status}${reason ? ` ${reason}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/(authorization\s*[:=]\s*)("?)[^\s",}]+(\s+[^\s",}]+)?/gi, '$1$2[redacted]'],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  [/("?(?:token|password|passwd|secret|client-key-data|client-certificate-data|certificate-authority-data|id-token|refresh-token|access-token|api[-_]?key)"?\s*[:=]\s*)("?)[^\s",}&]+/gi, '$1$2[redacted]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi, '$1[redacted]@'],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]'],
  [/-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g, '[redacted-pem]'],
];

/**
 * Whether the server answered (an HTTP status came back): Flink's HttpStatusError or
 * client-node's ApiException (numeric `code`). Without an answer (timeout, connection lost) a
 * write may or may not have been applied.
 */
export function isHttpAnswer(err: unknown): boolean {
  if (err instanceof HttpStatusError) return true;
  return !!err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'number';
}

/** Removes anything that looks like a credential and cuts to `max` characters. */
export function redact(text: string, max = MAX_DETAIL): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

function codeOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name resolution failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'socket closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'response headers timed out',
};

/** A one-line, secret-free description of any error thrown while acting. */
export function describeError(err: unknown): string {
  if (err instanceof HttpStatusError) return redact(err.message);
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'request timed out';
    const code = codeOf(err) ?? codeOf((err as { cause?: unknown }).cause);
    if (code && NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
    const kube = describeKubeApiError(err);
    if (kube) return kube;
    if (err.message === 'fetch failed' && err.cause instanceof Error) return redact(`fetch failed: ${err.cause.message}`);
    return redact(err.message || err.name);
  }
  return redact(String(err));
}

/**
 * @kubernetes/client-node's ApiException carries `code` (HTTP status) and the response body; its
 * message also embeds response headers, so only the status and the Status object's reason and
 * message are used.
 */
function describeKubeApiError(err: Error): string | undefined {
  const e = err as { code?: unknown; body?: unknown };
  if (typeof e.code !== 'number') return undefined;
  let reason = '';
  let body: unknown = e.body;
  if (typeof e.body === 'string') {
    const raw = e.body;
    try {
      body = JSON.parse(raw);
    } catch {
      reason = raw;
    }
  }
  if (body && typeof body === 'object') {
    const status = body as { reason?: unknown; message?: unknown };
    reason = [status.reason, status.message].filter((s) => typeof s === 'string' && s).join(': ');
  }
  return redact(`Kubernetes API HTTP ${e.code}${reason ? ` ${reason}` : ''}`);
}
