import { OutgoingMessage, ServerResponse } from 'node:http';
import { sharedPrototypeOf } from './shared-prototype';
import { peekResponseState, responseStateOf } from './accessors';

const isHeld = (response: ServerResponse) => peekResponseState(response)?.responseHeld === true;
const preparedPrototypes = new WeakSet<object>();
const nodeHeadersSent = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, 'headersSent')!.get!;

const headerMethods = ['setHeader', 'appendHeader', 'removeHeader'] as const;

function refuseWhileHeld(): never {
  const error = new Error('Cannot set headers after they are sent to the client') as NodeJS.ErrnoException;
  error.code = 'ERR_HTTP_HEADERS_SENT';
  throw error;
}

/**
 * While held, the response counts as sent: `headersSent` reads true, and changing its headers fails as Node
 * fails it after `end()` (ERR_HTTP_HEADERS_SENT), so code that ends twice behaves as it would without a
 * session. Defined once on the response's prototype: defining and deleting them on each response would turn
 * every response object into a slow dictionary-mode object.
 */
function prepareResponsePrototype(response: ServerResponse): void {
  const prototype = sharedPrototypeOf(response, ServerResponse.prototype);
  if (preparedPrototypes.has(prototype)) return;
  preparedPrototypes.add(prototype);
  Object.defineProperty(prototype, 'headersSent', {
    configurable: true,
    get(this: ServerResponse) {
      return isHeld(this) || (nodeHeadersSent.call(this) as boolean);
    },
  });
  for (const method of headerMethods) {
    const inherited = (prototype as Record<string, unknown>)[method];
    if (typeof inherited !== 'function') continue;
    Object.defineProperty(prototype, method, {
      configurable: true,
      writable: true,
      value(this: ServerResponse, ...args: unknown[]): unknown {
        if (isHeld(this)) refuseWhileHeld();
        return (inherited as (...args: unknown[]) => unknown).apply(this, args);
      },
    });
  }
}

/**
 * While the save runs, the response must count as answered: code that runs after the action (Express's
 * 404 fallback, routing-controllers calling next(error) after its JSON error) would otherwise answer it
 * a second time. Express's final handler destroys the socket of an answered response that reaches it
 * with an error; that destroy is put off until the held response has been written, as it would have been
 * without a session. `release(write)` restores the response, writes, and carries out a put-off destroy.
 */
export function holdResponse(response: ServerResponse): (write: () => void) => void {
  const state = responseStateOf(response);
  prepareResponsePrototype(response);
  const { socket } = response;
  const originalDestroy = socket?.destroy;
  let destroyRequested: unknown[] | undefined;
  state.responseHeld = true;
  const { statusCode, statusMessage } = response;
  if (socket && originalDestroy) {
    socket.destroy = (...args: unknown[]) => {
      destroyRequested = args;
      return socket;
    };
  }
  return (write) => {
    state.responseHeld = false;
    // a status set while held (an error handler that runs after the end) has no effect, as after a real end
    response.statusCode = statusCode;
    response.statusMessage = statusMessage;
    if (socket && originalDestroy) socket.destroy = originalDestroy;
    write();
    if (socket && originalDestroy && destroyRequested)
      originalDestroy.apply(socket, destroyRequested as [Error]);
  };
}
