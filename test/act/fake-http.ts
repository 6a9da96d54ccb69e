/**
 * A local HTTP server on 127.0.0.1 (free port) that records every request and answers from
 * routes registered by the test. Unmatched requests get 404 in Flink's error shape.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, match: RegExpMatchArray) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        let json: unknown;
        try {
          json = body === '' ? undefined : JSON.parse(body);
        } catch {
          json = undefined;
        }
        const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, json };
        this.requests.push(recorded);
        const route = this.routes.find((r) => r.method === recorded.method && r.pattern.test(recorded.path));
        if (!route) {
          sendJson(res, 404, { errors: [`Not found: ${recorded.path}`] });
          return;
        }
        const match = recorded.path.match(route.pattern)!;
        Promise.resolve(route.handler(recorded, res, match)).catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { errors: [String(err)] });
        });
      });
    });
  }

  /** Registers a route; the first registered match wins. */
  on(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests matching method and path pattern. */
  find(method: string, pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path));
  }
}

/** A 127.0.0.1 port with nothing listening (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * True when a request could cancel a Flink job: any DELETE, PATCH /jobs/{id} (mode=cancel), the
 * legacy /jobs/{id}/yarn-cancel, /applications/{id}/cancel, or a savepoint with cancel-job.
 */
export function isCancelRequest(r: RecordedRequest): boolean {
  if (r.method === 'DELETE') return true;
  if (r.method === 'PATCH' && /^\/jobs\/[^/]+\/?$/.test(r.path)) return true;
  if (/\/yarn-cancel\/?$/.test(r.path) || /\/cancel\/?$/.test(r.path)) return true;
  if (r.query.get('mode')?.toLowerCase() === 'cancel') return true;
  if (/\/savepoints\/?$/.test(r.path) && r.json && typeof r.json === 'object' && (r.json as Record<string, unknown>)['cancel-job'] === true) return true;
  return false;
}
