import { AsyncLocalStorage } from 'node:async_hooks';
import type { Keyv } from 'keyv';
import type { SessionLogger } from '../config';
import { SessionStoreUnavailableError } from '../errors';

interface StoreCall {
  error?: unknown;
}

const currentCall = new AsyncLocalStorage<StoreCall>();
const watchedStores = new WeakSet<Keyv>();

/**
 * Keyv turns a failing store operation into `undefined` plus an 'error' event. The event is emitted
 * synchronously inside the failing call, so the listener can pin it to that call through
 * AsyncLocalStorage; errors outside any call (a connection dropping) are logged.
 */
export function watchStoreErrors(keyv: Keyv, logger: SessionLogger): void {
  if (watchedStores.has(keyv)) return;
  watchedStores.add(keyv);
  keyv.on('error', (error: unknown) => {
    const call = currentCall.getStore();
    if (call) call.error ??= error;
    else logger.error('routing-controllers-session: session store error', error);
  });
}

/** Runs one store operation; a store error or a time-out becomes SessionStoreUnavailableError. */
export async function callStore<T>(
  storeName: string,
  timeoutMs: number,
  operation: () => Promise<T>,
): Promise<T> {
  const call: StoreCall = {};
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([currentCall.run(call, operation), timeout]);
    if (call.error !== undefined) throw call.error;
    return result;
  } catch (error) {
    throw error instanceof SessionStoreUnavailableError
      ? error
      : new SessionStoreUnavailableError(storeName, error);
  } finally {
    clearTimeout(timer);
  }
}
