/**
 * The admin API, mounted at /api/v1/admin when `admin.enabled` (off by default):
 *
 *   POST /api/v1/admin/pause                  recommend-only until resume (phoebe keeps deciding and exporting)
 *   POST /api/v1/admin/resume                 act on decisions again
 *   POST /api/v1/admin/force-parallelism      {"parallelism": n}: one rescale to n through the normal
 *                                             actuation path (leadership, rate limits, circuit breaker);
 *                                             202 when started, 409 with the reason when held
 *   POST /api/v1/admin/reset-circuit-breaker  act again after consecutive failed rescales
 *
 * Every request needs `Authorization: Bearer <token>`: 401 without (or malformed), 403 with a wrong
 * token. Tokens are compared in constant time (SHA-256 digests compared with timingSafeEqual, so
 * neither content nor length leaks through timing). The token is never logged or echoed; bodies
 * are parsed only after authentication and limited to 1 KiB.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Secret } from '../util/secret.js';
import { adminTokenProblem } from './admin-token.js';

/** The token in `path` (surrounding whitespace dropped); errors name the file and a code, never content. */
export function readAdminToken(path: string): Secret {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read admin.tokenFile ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const problem = adminTokenProblem(text);
  if (problem) throw new Error(`admin.tokenFile ${path}: the token ${problem}`);
  return new Secret(text.trim());
}

export type ForceOutcome = { accepted: true } | { accepted: false; reason: string; detail: string };

/** What the admin API can do (the control loop and its actuation gate implement it). */
export interface AdminController {
  /** True when it was not paused before. */
  pause(): boolean;
  /** True when it was paused before. */
  resume(): boolean;
  /** Starts one rescale to `parallelism` unless held (the outcome is in the status and the logs). */
  force(parallelism: number): ForceOutcome;
  /** True when the breaker was open. */
  resetCircuitBreaker(): boolean;
}

export interface AdminEvent {
  event: 'admin';
  action: string;
  outcome: string;
  remote: string;
  [key: string]: unknown;
}

export interface AdminRouterOptions {
  token: Secret;
  controller: AdminController;
  /** Parallelism a forced rescale may ask for (the configured bounds). */
  bounds: { min: number; max: number };
  log?: (event: AdminEvent) => void;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time equality of two tokens, whatever their lengths. */
export function tokensEqual(given: string, expected: string): boolean {
  // Digests have one length, so timingSafeEqual never throws and the time depends neither on
  // the lengths nor on where the strings differ.
  return timingSafeEqual(digest(given), digest(expected));
}

function remoteOf(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function adminRouter(options: AdminRouterOptions): express.Router {
  const router = express.Router();
  const log = options.log ?? (() => undefined);
  const expected = options.token.reveal();
  if (expected.length === 0) throw new Error('the admin token is empty');

  // Authentication first, for every path under /api/v1/admin (unknown ones too).
  router.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
    if (!match) {
      log({ event: 'admin', action: req.path, outcome: 'unauthenticated', remote: remoteOf(req) });
      res.status(401).set('WWW-Authenticate', 'Bearer realm="phoebe-admin"').json({ error: 'missing or malformed Authorization: Bearer <token>' });
      return;
    }
    if (!tokensEqual(match[1] as string, expected)) {
      log({ event: 'admin', action: req.path, outcome: 'forbidden', remote: remoteOf(req) });
      res.status(403).json({ error: 'wrong token' });
      return;
    }
    next();
  });
  router.use(express.json({ limit: '1kb', strict: true }));

  router.post('/pause', (req, res) => {
    const changed = options.controller.pause();
    log({ event: 'admin', action: 'pause', outcome: changed ? 'paused' : 'already paused', remote: remoteOf(req) });
    res.json({ paused: true, changed });
  });

  router.post('/resume', (req, res) => {
    const changed = options.controller.resume();
    log({ event: 'admin', action: 'resume', outcome: changed ? 'resumed' : 'was not paused', remote: remoteOf(req) });
    res.json({ paused: false, changed });
  });

  router.post('/reset-circuit-breaker', (req, res) => {
    const wasOpen = options.controller.resetCircuitBreaker();
    log({ event: 'admin', action: 'reset-circuit-breaker', outcome: wasOpen ? 'closed' : 'was closed', remote: remoteOf(req) });
    res.json({ circuitBreakerOpen: false, wasOpen });
  });

  router.post('/force-parallelism', (req, res) => {
    const body: unknown = req.body;
    const p = body && typeof body === 'object' && !Array.isArray(body) ? (body as { parallelism?: unknown }).parallelism : undefined;
    const { min, max } = options.bounds;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < min || p > max) {
      log({ event: 'admin', action: 'force-parallelism', outcome: 'bad request', remote: remoteOf(req) });
      res.status(400).json({ error: `body must be JSON {"parallelism": n} with an integer n in [${min}, ${max}]` });
      return;
    }
    const outcome = options.controller.force(p);
    log({ event: 'admin', action: 'force-parallelism', outcome: outcome.accepted ? 'started' : `held: ${outcome.reason}`, remote: remoteOf(req), parallelism: p });
    if (outcome.accepted) res.status(202).json({ accepted: true, parallelism: p });
    else res.status(409).json({ accepted: false, parallelism: p, reason: outcome.reason, detail: outcome.detail });
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'unknown admin endpoint (POST pause, resume, force-parallelism, reset-circuit-breaker)' });
  });

  // Malformed or oversized JSON: a short answer, never the parser's message or a stack trace.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = err && typeof err === 'object' && 'status' in err && typeof (err as { status: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    res.status(status >= 400 && status < 500 ? status : 500).json({ error: status === 413 ? 'body too large' : status < 500 ? 'invalid JSON body' : 'internal error' });
  });
  return router;
}
