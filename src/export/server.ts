import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';

/** What the loop tells the server; read on every request, never computed there. */
export interface ServerState {
  /** Liveness: false once the loop has stopped ticking for too long. */
  live(): boolean;
  /** Readiness with the reason when not ready (fresh Prometheus data, models with data). */
  readiness(): { ready: boolean; reason: string };
  /** The status document of /api/v1/status (last decision's explanation, mode, readiness). */
  status(): unknown;
}

/** Parses `host:port` (IPv6 in brackets); the host is required so nothing binds to all interfaces by accident. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  if (!match) throw new Error(`listen address "${listen}" is not host:port`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`listen port ${port} is out of range`);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

export interface AppOptions {
  /** The admin API (src/export/admin.ts), mounted at /api/v1/admin when given; absent → 404 there. */
  admin?: express.Router;
}

export function createApp(registry: Registry, state: ServerState, options: AppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    // Rendering is synchronous work on small, fixed label sets: no caching needed.
    const body = await registry.metrics();
    res.set('Content-Type', registry.contentType).send(body);
  });
  app.get('/healthz', (_req, res) => {
    if (state.live()) res.type('text/plain').send('ok\n');
    else res.status(503).type('text/plain').send('decision loop stalled\n');
  });
  app.get('/readyz', (_req, res) => {
    const { ready, reason } = state.readiness();
    res.status(ready ? 200 : 503).type('text/plain').send(`${reason}\n`);
  });
  app.get('/api/v1/status', (_req, res) => {
    res.json(state.status());
  });
  if (options.admin) app.use('/api/v1/admin', options.admin);
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}

/** Starts the server on the given address; resolves once listening with the bound port. */
export async function startServer(app: express.Express, listen: string): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const { host, port } = parseListen(listen);
  const server = app.listen(port, host);
  // Keep-alive sockets of scrapers must not hold a shutdown open.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
