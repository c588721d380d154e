import { debuglog } from 'node:util';
import { SessionError, SessionStoreUnavailableError } from './errors';
import { storeKeyOf } from './session/ids';

const log = debuglog('routing-controllers-session');

/**
 * `NODE_DEBUG=routing-controllers-session`: one line on stderr per session decision. Node reads NODE_DEBUG
 * once, at start-up, so this is a constant: a call site tests it before building its line, and a process
 * without tracing pays one boolean test per decision.
 */
export const tracing: boolean = log.enabled;

export function trace(line: string): void {
  log(line);
}

/** How a trace names a session: the first 8 characters of its at-rest hash, never the id itself. */
export function traceId(sessionId: string): string {
  return storeKeyOf(sessionId).slice(0, 8);
}

/**
 * An error, named without its message (a store's message can hold a path or a key): its class, the store,
 * and what the store failed with (its code, or its class; a deadline passed is named as such).
 */
export function traceError(error: unknown): string {
  if (error instanceof SessionStoreUnavailableError) {
    const cause = error.cause as { code?: unknown; name?: unknown; message?: unknown } | undefined;
    const deadline = typeof cause?.message === 'string' && /^no answer within \d+ ms$/.test(cause.message);
    const what = deadline
      ? (cause.message as string)
      : typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.name === 'string'
          ? cause.name
          : typeof cause;
    return `${error.name} (store ${error.storeName}: ${what})`;
  }
  if (error instanceof SessionError) return `${error.name} (${error.status})`;
  return error instanceof Error ? error.name : typeof error;
}
