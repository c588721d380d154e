import { Keyv } from 'keyv';
import type { KeyvStorageAdapterLike, SessionStoreOptions } from '../config/options';
import { checkDriver, durationOption } from '../config/options';
import { SessionConfigError } from '../errors';
import { ExpressStoreAdapter, isExpressSessionStore } from './express-session';
import { FileStore } from './file/store';
import { MemoryStore } from './memory';
import { RedisStore } from './redis/store';
import { watchStoreErrors } from '../store/guarded';
import { isUserIndexKey } from '../store/user-index-key';

const storeNames = new WeakMap<Keyv, string>();

function isKeyv(candidate: unknown): candidate is Keyv {
  if (candidate instanceof Keyv) return true;
  const keyv = candidate as Partial<Keyv> | null;
  return (
    typeof keyv?.get === 'function' && typeof keyv.set === 'function' && 'store' in keyv && 'hooks' in keyv
  );
}

function isStorageAdapter(candidate: unknown): candidate is KeyvStorageAdapterLike {
  const adapter = candidate as Partial<KeyvStorageAdapterLike> | null;
  return typeof adapter?.get === 'function' && typeof adapter.set === 'function';
}

/**
 * Plain JSON for the Keyvs this library makes: session data is checked to be JSON-safe when it is set, so
 * Keyv's own serializer (a deep copy that tags Buffers and BigInts, and a reviver on every parse) is cost
 * without use. Keyv 6 reads `serialization`, Keyv 5 `serialize` and `deserialize`.
 */
const plainJson = {
  serialization: { stringify: JSON.stringify, parse: JSON.parse },
  serialize: JSON.stringify,
  deserialize: JSON.parse,
};
/** No serialization: the adapter takes and gives objects (an express-session store). */
const noSerialization = { serialization: false, serialize: undefined, deserialize: undefined };

/** A Keyv of whichever version the app installed, over one of our adapters. */
function keyvOver(store: object, serialization: object): Keyv {
  return new Keyv({ store, ...serialization } as ConstructorParameters<typeof Keyv>[0]);
}

/**
 * A Keyv the app passed in throws its store's errors: Keyv 5 would otherwise turn a failed read into
 * `undefined` without a word, and an outage must never look like "no session".
 */
function throwingErrors(keyv: Keyv): Keyv {
  if ('throwOnErrors' in keyv) (keyv as { throwOnErrors: boolean }).throwOnErrors = true;
  return keyv;
}

/** A Keyv this library made for a driver: no namespace, plain JSON, one of our adapters. */

function named(keyv: Keyv, name: string): Keyv {
  storeNames.set(keyv, name);
  return keyv;
}

function fromUserStore(store: unknown): Keyv {
  if (isKeyv(store))
    return named(throwingErrors(store), `Keyv (${store.store?.constructor?.name ?? 'custom'})`);
  const storeName = (store as object).constructor?.name ?? 'custom store';
  if (isExpressSessionStore(store)) {
    return named(keyvOver(new ExpressStoreAdapter(store), noSerialization), storeName);
  }
  if (isStorageAdapter(store))
    return named(throwingErrors(new Keyv({ store } as ConstructorParameters<typeof Keyv>[0])), storeName);
  throw new SessionConfigError(
    'Option store must be a Keyv instance, a Keyv storage adapter or an express-session store ' +
      '(with get, set and destroy); use driver instead for the built-in stores.',
  );
}

function fromDriver(options: SessionStoreOptions): Keyv {
  const driver = checkDriver(options.driver);
  if (driver === 'memory') {
    const { max, sweepInterval } = options.memory ?? {};
    const sweepIntervalMs = durationOption('memory.sweepInterval', sweepInterval, '1m');
    const memoryStore = new MemoryStore({ max, sweepIntervalMs, evictable: (key) => !isUserIndexKey(key) });
    return named(keyvOver(memoryStore, plainJson), 'memory');
  }
  if (driver === 'redis') {
    const redisStore = new RedisStore(options.redis);
    return named(keyvOver(redisStore, plainJson), `redis (${redisStore.displayUrl})`);
  }
  const { directory, sweepInterval } = options.file ?? {};
  const sweepIntervalMs = durationOption('file.sweepInterval', sweepInterval, '10m');
  const lockTimeoutMs = durationOption('storeTimeout', options.storeTimeout, '5s');
  const fileStore = new FileStore({ directory, sweepIntervalMs, lockTimeoutMs });
  fileStore.on('warning', (message: string) => (options.logger ?? console).warn(message));
  return named(keyvOver(fileStore, plainJson), `file (${fileStore.directory})`);
}

/**
 * The Keyv that holds sessions: a built-in driver ('file' by default, 'memory', 'redis'), or the `store`
 * given (a Keyv, a Keyv storage adapter, an express-session store). An 'error' listener is always attached.
 */
export function createSessionStore(options: SessionStoreOptions = {}): Keyv {
  const keyv = options.store === undefined ? fromDriver(options) : fromUserStore(options.store);
  watchStoreErrors(keyv, options.logger ?? console);
  return keyv;
}

/** The name used in error messages and logs for a store made by createSessionStore. */
export function storeNameOf(keyv: Keyv): string {
  return storeNames.get(keyv) ?? 'Keyv store';
}
