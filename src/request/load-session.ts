import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session, SessionData } from 'express-session';
import { SessionError } from '../errors';
import type { SessionManager } from '../manager';
import type { SessionRequest } from './request-session';
import { slotOf } from './accessors';
import { sessionsViewOf } from './named-sessions';

/** A session as `request.session` types it. */
export type LoadedSession = Session & Partial<SessionData>;

/**
 * The response the session sends its cookie through and saves before: none for a WebSocket handshake (a
 * request Node handed to an `upgrade` listener, as engine.io hands it to `io.engine.use(handler)`), whose
 * "response" is a 101 that ws writes, or a socket's that is never ended.
 */
export function hookableResponseOf(
  request: IncomingMessage,
  response: ServerResponse | undefined,
): ServerResponse | undefined {
  return (request as { upgrade?: boolean }).upgrade === true ? undefined : response;
}

/** Each session middleware's loading of each request: named sessions put several on one request. */
const loading = new WeakMap<SessionManager, WeakMap<IncomingMessage, Promise<LoadedSession>>>();

/**
 * The session of a request that no HTTP response answers (a WebSocket handshake in ws's `upgrade` or
 * `connection`), read from its cookie or session header as an HTTP request's is, and put on `request.session`.
 * Nothing is saved on its own and no cookie can be sent: `save()` writes, `reload()` reads the store again.
 * Asked again for the same request, it resolves to the same session.
 */
export function loadSession(manager: SessionManager, request: IncomingMessage): Promise<LoadedSession> {
  let loadingOfManager = loading.get(manager);
  if (!loadingOfManager) loading.set(manager, (loadingOfManager = new WeakMap()));
  let session = loadingOfManager.get(request);
  if (!session) {
    session = load(manager, request as SessionRequest);
    loadingOfManager.set(request, session);
  }
  return session;
}

async function load(manager: SessionManager, request: SessionRequest): Promise<LoadedSession> {
  await manager.attach(request, undefined);
  // this middleware's session: `request.session`, or beside it under its name (named sessions)
  const main = slotOf(request);
  const session = main && (sessionsViewOf(request, main) as Record<string, unknown>)[manager.config.name];
  if (session) return session as LoadedSession;
  throw new SessionError(
    "No session for this request: it was destroyed, the request is outside the session cookie's path, " +
      'another middleware gave it a session, or the express-session store says it is disconnected.',
    500,
  );
}
