import { Keyv } from 'keyv';
import type { KeyvStorageAdapterLike, SessionLogger, SessionStoreOptions } from '../config/options';
import { checkDriver, durationOption } from '../config/options';
import { SessionConfigError } from '../errors';
import type { SessionStore } from '../store/contract';
import { ExpressSessionStoreAdapter, isExpressSessionStore } from './express-session';
import { FileStore } from './file/store';
import { KeyvSessionStore } from './keyv';
import { keyvViewOf, sessionStoreBehind } from './keyv-view';
import { MemoryStore } from './memory';
import { PostgresSessionStore } from './postgres/store';
import { MysqlSessionStore } from './mysql/store';
import { RedisSessionStore } from './redis/store';

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

function isSessionStore(candidate: unknown): candidate is SessionStore {
  const store = candidate as Partial<SessionStore> | null;
  return (
    typeof store?.read === 'function' &&
    typeof store.apply === 'function' &&
    typeof store.updateValue === 'function'
  );
}

function fromDriver(options: SessionStoreOptions, logger: SessionLogger): SessionStore {
  const driver = checkDriver(options.driver);
  if (driver === 'memory') {
    const { max, sweepInterval } = options.memory ?? {};
    return new MemoryStore({
      max,
      sweepIntervalMs: durationOption('memory.sweepInterval', sweepInterval, '1m'),
    });
  }
  if (driver === 'redis') {
    const store = new RedisSessionStore(options.redis);
    store.onError((error) => logger.error('routing-controllers-session: session store error', error));
    return store;
  }
  if (driver === 'postgres') {
    const store = new PostgresSessionStore(options.postgres);
    store.onError((error) => logger.error('routing-controllers-session: session store error', error));
    return store;
  }
  if (driver === 'mysql') {
    const { sweepInterval, ...mysql } = options.mysql ?? {};
    const store = new MysqlSessionStore({
      ...mysql,
      sweepIntervalMs: durationOption('mysql.sweepInterval', sweepInterval, '10m'),
      lockTimeoutMs: durationOption('storeTimeout', options.storeTimeout, '5s'),
    });
    store.onError((error) => logger.error('routing-controllers-session: session store error', error));
    return store;
  }
  const { directory, sweepInterval } = options.file ?? {};
  const fileStore = new FileStore({
    directory,
    sweepIntervalMs: durationOption('file.sweepInterval', sweepInterval, '10m'),
    lockTimeoutMs: durationOption('storeTimeout', options.storeTimeout, '5s'),
  });
  fileStore.on('warning', (message: string) => logger.warn(message));
  return fileStore;
}

function fromUserStore(store: unknown, logger: SessionLogger): SessionStore {
  const logError = (error: unknown) =>
    logger.error('routing-controllers-session: session store error', error);
  if (isSessionStore(store)) return store;
  const behindView = sessionStoreBehind(store);
  if (behindView) return behindView;
  if (isKeyv(store)) {
    return new KeyvSessionStore(store, `Keyv (${store.store?.constructor?.name ?? 'custom'})`, logError);
  }
  const storeName = (store as object | null)?.constructor?.name ?? 'custom store';
  if (isExpressSessionStore(store)) return new ExpressSessionStoreAdapter(store, storeName, logError);
  if (isStorageAdapter(store)) {
    const keyv = new Keyv({ store } as ConstructorParameters<typeof Keyv>[0]);
    return new KeyvSessionStore(keyv, storeName, logError);
  }
  throw new SessionConfigError(
    'Option store must be a Keyv instance, a Keyv storage adapter or an express-session store ' +
      '(with get, set and destroy); use driver instead for the built-in stores.',
  );
}

/**
 * The store that holds sessions: a built-in driver ('file' by default, 'memory', 'redis', 'postgres'), or the `store`
 * given (a store of this library, a Keyv, a Keyv storage adapter, an express-session store).
 */
export function sessionStoreFor(options: SessionStoreOptions = {}): SessionStore {
  const logger = options.logger ?? console;
  return options.store === undefined ? fromDriver(options, logger) : fromUserStore(options.store, logger);
}

/**
 * The sessions as a Keyv, for code that wants Keyv's API over them (`handler.store` is the same view). Passed
 * back as `store`, it is the store itself again: the request path never goes through Keyv.
 */
export function createSessionStore(options: SessionStoreOptions = {}): Keyv {
  return keyvViewOf(sessionStoreFor(options));
}
