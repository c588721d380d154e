import { IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { SessionCookieOptions } from '../session/cookie';
import type { RequestSession } from './request-session';

/** What builds a request's session on first use, and answers `request.sessionStore`. */
export interface SlotOwner {
  readonly sessionStore: unknown;
  build(request: IncomingMessage, slot: RequestSlot): RequestSession;
}

/** What this library keeps on a request: whose session it is, and what building it on first use needs. */
export interface RequestSlot {
  owner: SlotOwner;
  next: ((error?: unknown) => void) | undefined;
  response: ServerResponse;
  cookieOptions: SessionCookieOptions;
  /** The session is still to be built when the request first touches it (no cookie came with the request). */
  lazy: boolean;
}

const requestSlot = Symbol('routing-controllers-session');
type SlottedRequest = IncomingMessage & { [requestSlot]?: RequestSlot };
const preparedPrototypes = new WeakSet<object>();

export function slotOf(request: IncomingMessage): RequestSlot | undefined {
  return (request as SlottedRequest)[requestSlot];
}

export function ownValue(target: object, property: string, value: unknown): void {
  Object.defineProperty(target, property, { value, writable: true, configurable: true, enumerable: true });
}

/**
 * Puts the slot on the request, and makes `request.session`, `request.sessionID` and `request.sessionStore`
 * read through it. For a request without a session cookie these are accessors on Express's per-app request
 * object, not on each request: accessors defined on every request object slow down every later property
 * access Express makes. Node's own IncomingMessage.prototype is left alone (it is every request's in the
 * process): on a bare Node server they are defined on the request. For a request this library does not
 * manage they read undefined and assign like plain properties.
 */
export function attachSlot(request: IncomingMessage, slot: RequestSlot): void {
  (request as SlottedRequest)[requestSlot] = slot;
  const ownPrototype = Object.getPrototypeOf(request) as object;
  const prototype = ownPrototype === IncomingMessage.prototype ? request : ownPrototype;
  if (preparedPrototypes.has(prototype)) return;
  preparedPrototypes.add(prototype);
  const builtFor = (request: SlottedRequest) => {
    const slot = request[requestSlot];
    if (!slot?.lazy) return undefined;
    slot.lazy = false;
    return slot.owner.build(request, slot);
  };
  const accessor = (property: string, read: (request: SlottedRequest) => unknown) =>
    Object.defineProperty(prototype, property, {
      configurable: true,
      get(this: SlottedRequest) {
        return read(this);
      },
      set(this: SlottedRequest, value: unknown) {
        builtFor(this);
        ownValue(this, property, value);
      },
    });
  accessor('session', (request) => builtFor(request)?.session);
  accessor('sessionID', (request) => builtFor(request)?.state.id);
  accessor('sessionStore', (request) => request[requestSlot]?.owner.sessionStore);
}

/** The path the request was made to, before any router mounting (express-session's `parseurl.original`). */
export function originalPathOf(request: IncomingMessage): string {
  const url = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '/';
  if (url.startsWith('/')) return url.split('?')[0]!;
  try {
    return new URL(url).pathname;
  } catch {
    return '/';
  }
}
