import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { PrometheusError } from '../../src/observe/prometheus-client.js';

/**
 * In-process stand-ins for a Prometheus HTTP API on 127.0.0.1, for the tests of the Prometheus
 * client (plain HTTP in test/observe, TLS in test/integration/observe), and the secrets the
 * client must never let into an error.
 */
export const TOKEN = 'tok-SECRET-abc123';
export const PASSWORD = 'pw-SECRET-xyz789';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The servers a test file started; close them after each test. */
export class FakeServers {
  private readonly servers: Server[] = [];

  /** Serves `handler` on a free port of 127.0.0.1 (on `server`, e.g. an HTTPS one) and returns the port. */
  async serve(handler: Handler, server: Server = createHttpServer()): Promise<number> {
    server.on('request', handler);
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  /** Closes the latest server, so that its port refuses connections. */
  async closeLast(): Promise<void> {
    await new Promise<void>((resolve) => this.servers.pop()?.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => { s.closeAllConnections?.(); s.close(() => resolve()); })));
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export const MATRIX = { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1000, '1.5'], [1001, 'NaN'], [1002, '2']] }] } };

/** The PrometheusError `p` rejects with; none of its renderings holds a secret. */
export async function caught(p: Promise<unknown>): Promise<PrometheusError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PrometheusError);
  const e = err as PrometheusError;
  for (const text of [e.message, inspect(e, { depth: 5 }), JSON.stringify(e)]) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(PASSWORD);
  }
  return e;
}
