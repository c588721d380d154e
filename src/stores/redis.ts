import type { SessionStoreOptions } from '../config';
import { SessionConfigError } from '../errors';
import type { KeyvAdapterBase } from './adapter-base';

export type RedisAdapter = KeyvAdapterBase & { displayUrl: string };

export function createRedisAdapter(_options: NonNullable<SessionStoreOptions['redis']>): RedisAdapter {
  throw new SessionConfigError("driver 'redis' is not available in this version; use 'file' or 'memory'.");
}
