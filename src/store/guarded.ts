import type { Keyv } from 'keyv';
import type { SessionLogger } from '../config/options';
import { withDeadline } from './deadline';
import { SessionStoreUnavailableError } from '../errors';

interface StoreWatch {
  /** The last failure of an operation on each key, until the caller of that operation collects it. */
  failures: Map<string, unknown>;
}

const watches = new WeakMap<Keyv, StoreWatch>();

/**
 * Keyv turns a failing store operation into `undefined` (or `false`) plus two events, emitted one after the
 * other in the same tick: 'error' with the error, then 'stat:error' with the key. Pairing them pins each
 * failure to its key, so the caller can tell "the store failed" from "no session". An 'error' that no
 * 'stat:error' follows (a connection dropping) is logged.
 */
export function watchStoreErrors(keyv: Keyv, logger: SessionLogger): void {
  if (watches.has(keyv)) return;
  const watch: StoreWatch = { failures: new Map() };
  watches.set(keyv, watch);
  let unpaired: unknown;
  keyv.on('error', (error: unknown) => {
    unpaired = error;
    queueMicrotask(() => {
      if (unpaired !== error) return;
      unpaired = undefined;
      logger.error('routing-controllers-session: session store error', error);
    });
  });
  keyv.on('stat:error', (event: { key?: string }) => {
    if (event.key !== undefined && unpaired !== undefined) watch.failures.set(event.key, unpaired);
    unpaired = undefined;
  });
}

/** Runs one store operation on `key`; a store error or a time-out becomes SessionStoreUnavailableError. */
export async function callStore<T>(
  keyv: Keyv,
  storeName: string,
  timeoutMs: number,
  key: string,
  operation: () => Promise<T>,
): Promise<T> {
  const failures = watches.get(keyv)?.failures;
  failures?.delete(key);
  try {
    const result = await withDeadline(operation(), timeoutMs, () => `no answer within ${timeoutMs} ms`);
    if (failures?.has(key)) {
      const failure = failures.get(key);
      failures.delete(key);
      throw failure;
    }
    return result;
  } catch (error) {
    throw error instanceof SessionStoreUnavailableError
      ? error
      : new SessionStoreUnavailableError(storeName, error);
  }
}
