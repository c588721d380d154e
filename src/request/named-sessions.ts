import type { IncomingMessage } from 'node:http';
import { SessionConfigError } from '../errors';
import type { RequestSlot, SlotOwner } from './accessors';

/**
 * Named sessions: session middlewares with different `name`s on one request, each with its own cookie, store and
 * timeouts. The first that runs owns the request's main slot (`request.session`, as passport and connect-flash
 * expect); the others' slots sit beside it. `request.sessions` shows them all by name.
 */

const viewedRequest = Symbol('routing-controllers-session sessions of');
const viewedMain = Symbol('routing-controllers-session main slot');

interface SessionsView {
  [viewedRequest]: IncomingMessage & { session?: unknown };
  [viewedMain]: RequestSlot;
}

/**
 * Whether a session middleware (`owner`) that runs for a request whose main slot is taken adds its session beside
 * it: false when it did already (a mounted app passes a request through its middleware again); a
 * SessionConfigError when another one has its name, since the two would fight over one cookie.
 */
export function runsBeside(main: RequestSlot, owner: SlotOwner): boolean {
  if (main.owner === owner || main.beside?.some((slot) => slot.owner === owner)) return false;
  const { name } = owner.config;
  if (main.owner.config.name === name || main.beside?.some((slot) => slot.owner.config.name === name)) {
    throw new SessionConfigError(
      `Two different session middlewares ran for one request, both named '${name}'. Two sessions side by ` +
        "side need a name each (the cookie's, and the key in request.sessions): session({ name: 'admin', ... }). " +
        'routing-controllers registers every session middleware class in the process when `middlewares` is ' +
        "omitted: list this app's own `middlewares: [createSessionMiddleware(options)]`.",
    );
  }
  return true;
}

/** Puts a named session's slot beside the main one (and on `request.sessions`, if it was read already). */
export function addBeside(main: RequestSlot, slot: RequestSlot): void {
  (main.beside ??= []).push(slot);
  if (main.sessions) showIn(main.sessions, slot.owner);
}

/** `request.sessions`: made on first read, once per request; each session is read through when asked for. */
export function sessionsViewOf(request: IncomingMessage, main: RequestSlot): object {
  if (main.sessions) return main.sessions;
  const view = Object.defineProperties(
    {},
    { [viewedRequest]: { value: request }, [viewedMain]: { value: main } },
  ) as SessionsView;
  showIn(view, main.owner);
  for (const slot of main.beside ?? []) showIn(view, slot.owner);
  main.sessions = view;
  return view;
}

const gettersByOwner = new WeakMap<SlotOwner, (this: SessionsView) => unknown>();

/** One getter per session middleware, made once: no closure per request. */
function showIn(view: object, owner: SlotOwner): void {
  let get = gettersByOwner.get(owner);
  if (!get) {
    get = function (this: SessionsView) {
      return sessionShownBy(this, owner);
    };
    gettersByOwner.set(owner, get);
  }
  Object.defineProperty(view, owner.config.name, { get, enumerable: true, configurable: true });
}

function sessionShownBy(view: SessionsView, owner: SlotOwner): unknown {
  const request = view[viewedRequest];
  const main = view[viewedMain];
  // the main session is request.session, whose accessor builds it on first use
  if (main.owner === owner) return request.session;
  const slot = main.beside!.find((beside) => beside.owner === owner)!;
  if (!slot.current && slot.lazy) {
    slot.lazy = false;
    owner.build(request, slot);
  }
  return slot.shown;
}
