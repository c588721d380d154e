import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Keyv } from 'keyv';
import type { SessionOptions } from './config/options';
import { resolveConfig } from './config/options';
import { renderSessionError } from './request/error-response';
import { SessionConfigError } from './errors';
import type { SessionRequest } from './manager';
import { SessionManager } from './manager';
import { hideCookieFromLoadedClassTransformer, routingControllers } from './optional-peers';
import { schemaChecks } from './routing-controllers/schema';
import { sessionStoreFor } from './stores/create';
import { GuardedStore } from './store/guarded';
import { EncryptedStore } from './store/encrypted';
import type { UserSessionInfo } from './store/user-index';
import { UserSessionIndex } from './store/user-index';
import { userIndexLifetime } from './config/lifetime';
import { SessionEvents } from './events';
import type { LoadedSession } from './request/load-session';
import { loadSession } from './request/load-session';

export type NextFunction = (error?: unknown) => void;

/** Listing and revoking a user's sessions (option `userKey`), on the handler and the middleware class. */
export interface UserSessions {
  /**
   * The user's live sessions; `id` is the at-rest hash, never the cookie value. `current` (a raw session id,
   * e.g. `request.sessionID`) marks that session with `current: true`.
   */
  listUserSessions(userId: string | number, options?: { current?: string }): Promise<UserSessionInfo[]>;
  /** Deletes the user's sessions, but `except` (a raw session id, e.g. `request.sessionID`); resolves to how many. */
  revokeUserSessions(userId: string | number, options?: { except?: string }): Promise<number>;
}

/** Sessions outside an Express route, on the handler and the middleware class. */
export interface SessionLoader {
  /**
   * The session of a WebSocket handshake (ws's `upgrade` or `connection`), from the request's cookie (or
   * session header), also put on `request.session`. No cookie can be sent: a new session made here never
   * reaches the client. Nothing is saved on its own: `save()` writes, `reload()` reads the store again (and
   * rejects with "failed to load session" once the session is gone).
   */
  loadSession(request: IncomingMessage): Promise<LoadedSession>;
}

/** The request handler returned by `session()`: Express middleware that also runs on a bare Node server. */
export interface SessionHandler extends UserSessions, SessionLoader {
  (request: IncomingMessage, response: ServerResponse, next?: NextFunction): void;
  /** The Keyv that holds the sessions. */
  readonly store: Keyv;
  /** The sessions' lifecycle: created, regenerated, destroyed, expired, revoked, rejected. */
  readonly events: SessionEvents;
}

/** Builds the per-app object (config, store, checks, user index) once, at start-up. */
function createManager(options: SessionOptions = {}): SessionManager {
  const config = resolveConfig(options);
  hideCookieFromLoadedClassTransformer();
  const stored = sessionStoreFor(options);
  const sealed = options.encryption ? new EncryptedStore(stored, options.encryption.keys) : stored;
  const store = new GuardedStore(sealed, config.storeTimeoutMs, config.logger);
  const events = new SessionEvents(config.logger);
  const userIndex = config.userKey
    ? new UserSessionIndex(store, config.userKey, {
        lifetimeMs: userIndexLifetime(config),
        pendingMs: 2 * config.storeTimeoutMs + 1000,
        events,
        maxSessions: config.maxSessionsPerUser,
        onLimit: config.onSessionLimit,
      })
    : undefined;
  return new SessionManager(config, store, events, schemaChecks(config), userIndex);
}

function userSessionsOf(manager: SessionManager): UserSessions {
  const index = () => {
    if (!manager.userIndex) {
      throw new SessionConfigError(
        "Set option userKey (e.g. 'userId' or 'passport.user') to list or revoke a user's sessions.",
      );
    }
    return manager.userIndex;
  };
  return {
    listUserSessions: async (userId, options = {}) =>
      index().list(userId, await manager.sessionKeyOf(options.current)),
    revokeUserSessions: async (userId, options = {}) =>
      index().revoke(userId, await manager.sessionKeyOf(options.except)),
  };
}

/** Loads the session before the next handler runs; without `next` (a bare Node server) errors are answered here. */
export function runSessionMiddleware(
  manager: SessionManager,
  request: IncomingMessage,
  response: ServerResponse,
  next: NextFunction | undefined,
): void {
  const fail = (error: unknown) => (next ? next(error) : renderSessionError(response, error));
  let loading: Promise<void> | undefined;
  try {
    loading = manager.attach(request as SessionRequest, response, next);
  } catch (error) {
    fail(error);
    return;
  }
  if (loading) loading.then(() => next?.(), fail);
  else next?.();
}

/** Express (or bare Node) middleware: `app.use(session({ secret, driver: 'file' }))`. */
export function session(options: SessionOptions = {}): SessionHandler {
  const manager = createManager(options);
  const handler = (request: IncomingMessage, response: ServerResponse, next?: NextFunction) =>
    runSessionMiddleware(manager, request, response, next);
  const loader: SessionLoader = { loadSession: (request) => loadSession(manager, request) };
  return Object.assign(
    handler,
    { store: manager.keyv, events: manager.events },
    userSessionsOf(manager),
    loader,
  );
}

/** What routing-controllers' ExpressMiddlewareInterface asks of a middleware (routing-controllers is optional). */
export interface SessionMiddlewareInstance {
  use(request: IncomingMessage, response: ServerResponse, next: NextFunction): void;
}

/** The class returned by `createSessionMiddleware()`, with its store and the user-session methods as static members. */
export interface SessionMiddlewareClass extends UserSessions, SessionLoader {
  new (): SessionMiddlewareInstance;
  readonly store: Keyv;
  readonly events: SessionEvents;
}

/**
 * A routing-controllers middleware class (type 'before') with its own options and store:
 * `useExpressServer(app, { middlewares: [createSessionMiddleware(options)], controllers: [...] })`.
 */
export function createSessionMiddleware(options: SessionOptions = {}): SessionMiddlewareClass {
  const { Middleware } = routingControllers('createSessionMiddleware');
  const manager = createManager(options);
  const userSessions = userSessionsOf(manager);

  class SessionMiddleware implements SessionMiddlewareInstance {
    static readonly store = manager.keyv;
    static readonly events = manager.events;
    static readonly listUserSessions = userSessions.listUserSessions;
    static readonly revokeUserSessions = userSessions.revokeUserSessions;
    static readonly loadSession = (request: IncomingMessage) => loadSession(manager, request);

    use(request: IncomingMessage, response: ServerResponse, next: NextFunction): void {
      runSessionMiddleware(manager, request, response, next);
    }
  }
  Middleware({ type: 'before', priority: 1_000_000 })(SessionMiddleware);
  return SessionMiddleware;
}
