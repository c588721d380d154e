import type { ServerResponse } from 'node:http';

/**
 * While the save runs, the response must count as answered: code that runs after the action (Express's
 * 404 fallback, routing-controllers calling next(error) after its JSON error) would otherwise answer it
 * a second time. Express's final handler destroys the socket of an answered response that reaches it
 * with an error; that destroy is put off until the held response has been written, as it would have been
 * without a session. `release(write)` restores the response, writes, and carries out a put-off destroy.
 */
export function holdResponse(response: ServerResponse): (write: () => void) => void {
  const { socket } = response;
  const originalDestroy = socket?.destroy;
  let destroyRequested: unknown[] | undefined;
  Object.defineProperty(response, 'headersSent', { configurable: true, get: () => true });
  if (socket && originalDestroy) {
    socket.destroy = (...args: unknown[]) => {
      destroyRequested = args;
      return socket;
    };
  }
  return (write) => {
    delete (response as { headersSent?: boolean }).headersSent;
    if (socket && originalDestroy) socket.destroy = originalDestroy;
    write();
    if (socket && originalDestroy && destroyRequested)
      originalDestroy.apply(socket, destroyRequested as [Error]);
  };
}
