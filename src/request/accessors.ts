import { IncomingMessage } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { SessionCookieOptions } from '../session/cookie';
import type { RequestSession } from './request-session';
import { sharedPrototypeOf } from './shared-prototype';
import { sessionsViewOf } from './named-sessions';

/** What builds a request's session on first use, and answers `request.sessionStore`. */
export interface SlotOwner {
  readonly sessionStore: unknown;
  /** `name`: the cookie's name, and the session's key in `request.sessions`. */
  readonly config: { readonly name: string };
  build(request: IncomingMessage, slot: RequestSlot): RequestSession;
}

/** What this library keeps on a request: whose session it is, and what building it on first use needs. */
export interface RequestSlot extends ResponseState {
  owner: SlotOwner;
  next: ((error?: unknown) => void) | undefined;
  /** Undefined for a WebSocket handshake or `loadSession()`: nothing is sent, and only `session.save()` writes. */
  response: ServerResponse | undefined;
  cookieOptions: SessionCookieOptions;
  /** The session is still to be built when the request first touches it (no cookie came with the request). */
  lazy: boolean;
  /** The request's session work, once built: `request.session` and `request.sessionID` read through it. */
  current?: RequestSession;
  /** On the main slot: the slots of the session middlewares with other names that ran after it (named-sessions.ts). */
  beside?: RequestSlot[];
  /** On a slot beside the main one: its session, as `request.sessions[name]` shows it. */
  shown?: unknown;
  /** On the main slot: `request.sessions`, once read. */
  sessions?: object;
}

/**
 * What this library keeps for a response: the watch of its end (response-hooks.ts) and whether it is held
 * (response-hold.ts). Kept in the request's main slot: under Express every response has a hidden class of its
 * own, so a property added to a response costs a new map and a copy of its descriptors (about 1.7 KB each).
 */
export interface ResponseState {
  responseWatch?: unknown;
  responseHeld?: boolean;
}

const responseStateSlot = Symbol('routing-controllers-session response');
type ResponseWithState = ServerResponse & { [responseStateSlot]?: ResponseState };

/**
 * The response's state if it has any: in its request's slot when the slot is that response's, else on the
 * response itself (a request has one slot, but an app may dispatch it again into another response).
 */
export function peekResponseState(response: ServerResponse): ResponseState | undefined {
  const request = response.req as IncomingMessage | undefined;
  const slot = request && slotOf(request);
  return slot?.response === response ? slot : (response as ResponseWithState)[responseStateSlot];
}

/** The response's state, made where it is missing. */
export function responseStateOf(response: ServerResponse): ResponseState {
  const known = peekResponseState(response);
  if (known) return known;
  const state: ResponseState = {};
  (response as ResponseWithState)[responseStateSlot] = state;
  return state;
}

const requestSlot = Symbol('routing-controllers-session');
type SlottedRequest = IncomingMessage & { [requestSlot]?: RequestSlot };
const preparedPrototypes = new WeakSet<object>();

export function slotOf(request: IncomingMessage): RequestSlot | undefined {
  return (request as SlottedRequest)[requestSlot];
}

/** Shows a slot's session on the request: `request.session` for the main slot, `request.sessions[name]` for the others. */
export function showSession(request: IncomingMessage, slot: RequestSlot, value: unknown): void {
  if ((request as SlottedRequest)[requestSlot] === slot) ownValue(request, 'session', value);
  else slot.shown = value;
}

/** The session the request shows for a slot (what `showSession` put there, unless the app replaced or unset it). */
export function shownSession(request: IncomingMessage, slot: RequestSlot): unknown {
  return (request as SlottedRequest)[requestSlot] === slot
    ? (request as { session?: unknown }).session
    : slot.shown;
}

export function ownValue(target: object, property: string, value: unknown): void {
  Object.defineProperty(target, property, { value, writable: true, configurable: true, enumerable: true });
}

/** The request's session work, built now if the request came without a cookie and first touches it here. */
function currentOf(request: SlottedRequest): RequestSession | undefined {
  const slot = request[requestSlot];
  if (!slot) return undefined;
  if (slot.current || !slot.lazy) return slot.current;
  slot.lazy = false;
  return slot.owner.build(request, slot);
}

/**
 * Puts the slot on the request. `request.session` (until the session is built), `request.sessionID` and
 * `request.sessionStore` are accessors on Express's request object (that every app's inherits) that read
 * through the slot: an
 * accessor defined on each request object would cost closures and a descriptor per request, and slow down
 * every later property access Express makes. Node's own IncomingMessage.prototype is
 * left alone (it is every request's in the process): on a bare Node server they are defined on the request.
 * For a request this library does not manage they read undefined and assign like plain properties.
 */
export function attachSlot(request: IncomingMessage, slot: RequestSlot): void {
  (request as SlottedRequest)[requestSlot] = slot;
  const prototype = sharedPrototypeOf(request, IncomingMessage.prototype);
  if (preparedPrototypes.has(prototype)) return;
  preparedPrototypes.add(prototype);
  Object.defineProperties(prototype, {
    session: {
      configurable: true,
      // once built, the session is an own property of the request (as express-session's, so that
      // `delete request.session` unsets it): these run before that, or for a request not managed here
      get(this: SlottedRequest) {
        return this[requestSlot]?.lazy ? currentOf(this)!.session : undefined;
      },
      set(this: SlottedRequest, value: unknown) {
        currentOf(this);
        ownValue(this, 'session', value);
      },
    },
    sessionID: {
      configurable: true,
      get(this: SlottedRequest) {
        return currentOf(this)?.sessionIdValue();
      },
      set(this: SlottedRequest, value: unknown) {
        const current = currentOf(this);
        if (current) current.replacedId = { value };
        else ownValue(this, 'sessionID', value);
      },
    },
    sessionStore: {
      configurable: true,
      get(this: SlottedRequest) {
        return this[requestSlot]?.owner.sessionStore;
      },
      set(this: SlottedRequest, value: unknown) {
        ownValue(this, 'sessionStore', value);
      },
    },
    sessions: {
      configurable: true,
      get(this: SlottedRequest) {
        const slot = this[requestSlot];
        return slot && sessionsViewOf(this, slot);
      },
      set(this: SlottedRequest, value: unknown) {
        ownValue(this, 'sessions', value);
      },
    },
  });
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
