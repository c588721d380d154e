import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Keyv } from 'keyv';
import type { ExpressMiddlewareInterface } from 'routing-controllers';
import { Middleware } from 'routing-controllers';
import type { SessionOptions } from './config';
import { resolveConfig } from './config';
import { SessionError } from './errors';
import type { SessionRequest } from './lifecycle';
import { SessionLifecycle } from './lifecycle';
import { schemaChecks } from './schema';
import { createSessionStore } from './stores/create-store';
import { SessionRecords } from './stores/session-records';

export type NextFunction = (error?: unknown) => void;

/** The request handler returned by `session()`: Express middleware that also runs on a bare Node server. */
export interface SessionHandler {
  (request: IncomingMessage, response: ServerResponse, next?: NextFunction): void;
  /** The Keyv that holds the sessions. */
  readonly store: Keyv;
  readonly lifecycle: SessionLifecycle;
}

/** Builds the lifecycle (config, store, checks) once, at start-up. */
export function createLifecycle(options: SessionOptions = {}): SessionLifecycle {
  const config = resolveConfig(options);
  const keyv = createSessionStore(options);
  const records = new SessionRecords(keyv, config.storeTimeoutMs);
  return new SessionLifecycle(config, records, schemaChecks(config));
}

function respondWithError(response: ServerResponse, error: unknown): void {
  const status = error instanceof SessionError ? error.status : 500;
  const body = JSON.stringify(error instanceof SessionError ? error : { message: 'Internal Server Error' });
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(body);
}

/** Loads the session before the next handler runs; without `next` (a bare Node server) errors are answered here. */
export function runLifecycle(
  lifecycle: SessionLifecycle,
  request: IncomingMessage,
  response: ServerResponse,
  next: NextFunction | undefined,
): void {
  lifecycle.attach(request as SessionRequest, response).then(
    () => next?.(),
    (error: unknown) => (next ? next(error) : respondWithError(response, error)),
  );
}

/** Express (or bare Node) middleware: `app.use(session({ secret, driver: 'file' }))`. */
export function session(options: SessionOptions = {}): SessionHandler {
  const lifecycle = createLifecycle(options);
  const handler = (request: IncomingMessage, response: ServerResponse, next?: NextFunction) =>
    runLifecycle(lifecycle, request, response, next);
  return Object.assign(handler, { store: lifecycle.records.keyv, lifecycle });
}

/** The class returned by `createSessionMiddleware()`, with its store and lifecycle as static members. */
export interface SessionMiddlewareClass {
  new (): ExpressMiddlewareInterface;
  readonly store: Keyv;
  readonly lifecycle: SessionLifecycle;
}

/**
 * A routing-controllers middleware class (type 'before') with its own options and store:
 * `useExpressServer(app, { middlewares: [createSessionMiddleware(options)], controllers: [...] })`.
 */
export function createSessionMiddleware(options: SessionOptions = {}): SessionMiddlewareClass {
  const lifecycle = createLifecycle(options);

  @Middleware({ type: 'before', priority: 1_000_000 })
  class SessionMiddleware implements ExpressMiddlewareInterface {
    static readonly store = lifecycle.records.keyv;
    static readonly lifecycle = lifecycle;

    use(request: IncomingMessage, response: ServerResponse, next: NextFunction): void {
      runLifecycle(lifecycle, request, response, next);
    }
  }
  return SessionMiddleware;
}
