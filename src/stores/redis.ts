import { randomBytes } from 'node:crypto';
import type { Duration, SessionStoreOptions } from '../config';
import { durationOption } from '../config';
import { withDeadline } from '../deadline';
import { SessionConfigError } from '../errors';
import { KeyvAdapterBase } from './adapter-base';
import { KeyedLock } from './keyed-lock';

type RedisOptions = NonNullable<SessionStoreOptions['redis']>;

/** The parts of a node-redis client this store uses. */
interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  sendCommand<T>(args: string[]): Promise<T>;
  on(event: string, listener: (error?: unknown) => void): unknown;
}

/** The parts of the `redis` package (node-redis) this store uses. */
interface RedisModule {
  createClient(options: object): RedisClient;
}

/** A lock this process holds: its token, and the read of the session made with it, until the task uses it. */
interface HeldLock {
  lockKey: string;
  token: string;
  prefetched?: { value: string | undefined };
}

interface Connection {
  client: RedisClient;
}

const releaseLockScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const lockMs = 5000;

/** Deletes the lock only if it still holds this owner's token. */
function release(client: RedisClient, held: HeldLock): Promise<unknown> {
  return client.sendCommand(['EVAL', releaseLockScript, '1', held.lockKey, held.token]);
}
const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function requireInstalled(): void {
  try {
    require.resolve('redis');
  } catch {
    throw new SessionConfigError("driver 'redis' needs the redis package (node-redis): npm install redis");
  }
}

/**
 * Sessions in Redis; the redis package (node-redis) is loaded on first use, so apps without Redis need not
 * install it.
 * Every command is bounded by `commandTimeout`; commands are not queued while Redis is unreachable, so an
 * outage fails fast. `withLock` takes a short Redis lock (SET NX PX, released by its owner only) so saves
 * from several processes merge instead of overwriting each other.
 */
export class RedisStore extends KeyvAdapterBase {
  readonly displayUrl: string;
  private readonly url: string;
  private readonly prefix: string;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly processLock = new KeyedLock();
  private connection: Promise<Connection> | undefined;
  private readonly locks = new Map<string, HeldLock>();
  private connecting: Promise<unknown> | undefined;
  private outageReported = false;

  /** A client the app made and owns: used as it is, never connected or closed here. */
  private readonly appClient: RedisClient | undefined;

  constructor(options: RedisOptions = {}) {
    super();
    this.appClient = options.client as RedisClient | undefined;
    if (!this.appClient) requireInstalled();
    this.url = options.url ?? 'redis://127.0.0.1:6379';
    this.displayUrl = this.appClient
      ? 'the client in redis.client'
      : this.url.replace(/\/\/[^@/]*@/, '//***@');
    this.prefix = options.prefix ?? 'sess';
    this.connectTimeoutMs = durationOption('redis.connectTimeout', options.connectTimeout as Duration, '1s');
    this.commandTimeoutMs = durationOption('redis.commandTimeout', options.commandTimeout as Duration, '1s');
  }

  private async createConnection(): Promise<Connection> {
    const { createClient } = (await import('redis')) as unknown as RedisModule;
    const client = createClient({
      url: this.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: this.connectTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    });
    client.on('error', (error) => {
      if (this.outageReported) return;
      this.outageReported = true;
      this.emit('error', error);
    });
    client.on('ready', () => (this.outageReported = false));
    return { client };
  }

  /**
   * The connection, ready for a command. The first call connects; while Redis is unreachable the client
   * reconnects in the background and commands fail at once instead of queueing.
   */
  private async ready(): Promise<Connection> {
    if (this.appClient) {
      if (!this.appClient.isReady) throw new Error('the Redis client given in redis.client is not ready');
      return { client: this.appClient };
    }
    this.connection ??= this.createConnection();
    const connection = await this.connection;
    const { client } = connection;
    if (client.isReady) return connection;
    if (!client.isOpen) {
      this.connecting ??= client.connect().finally(() => (this.connecting = undefined));
    }
    if (this.connecting) await this.connecting;
    if (!client.isReady) throw new Error(`Redis at ${this.displayUrl} is unreachable; reconnecting`);
    return connection;
  }

  /** Runs one Redis operation, failing when Redis does not answer within commandTimeout. */
  private redis<T>(operation: (connection: Connection) => Promise<T>): Promise<T> {
    return withDeadline(
      this.ready().then(operation),
      this.commandTimeoutMs,
      () => `Redis at ${this.displayUrl} did not answer within ${this.commandTimeoutMs} ms`,
    );
  }

  /** The Redis key of a store key (the layout of @keyv/redis, so sessions stored by earlier versions stay readable). */
  private redisKey(key: string): string {
    return `${this.prefix}::${key}`;
  }

  async get(key: string): Promise<unknown> {
    const held = this.locks.get(key);
    if (held?.prefetched) {
      const { value } = held.prefetched;
      held.prefetched = undefined;
      return value;
    }
    const value = await this.redis(({ client }) =>
      client.sendCommand<string | null>(['GET', this.redisKey(key)]),
    );
    return value ?? undefined;
  }

  protected async setUntil(key: string, value: unknown, expires: number | undefined): Promise<boolean> {
    const ttl = expires === undefined ? [] : ['PX', String(Math.max(1, expires - Date.now()))];
    const held = this.locks.get(key);
    await this.redis(({ client }) => {
      const written = client.sendCommand(['SET', this.redisKey(key), String(value), ...ttl]);
      if (!held) return written;
      // Sent in the same tick, the release follows the write on the connection: one round trip for both.
      this.locks.delete(key);
      return Promise.all([written, release(client, held).catch(() => undefined)]);
    });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const removed = await this.redis(({ client }) => client.sendCommand<number>(['DEL', this.redisKey(key)]));
    return removed > 0;
  }

  /** Every session key of this store and its value, a SCAN page at a time. */
  async *iterator(): AsyncGenerator<[string, string], void> {
    const sessionPrefix = this.redisKey('');
    let cursor = '0';
    do {
      const [next, keys] = await this.redis(({ client }) =>
        client.sendCommand<[string, string[]]>([
          'SCAN',
          cursor,
          'MATCH',
          `${sessionPrefix}*`,
          'COUNT',
          '500',
        ]),
      );
      for (const redisKey of keys) {
        const value = await this.redis(({ client }) => client.sendCommand<string | null>(['GET', redisKey]));
        if (value !== null) yield [redisKey.slice(sessionPrefix.length), value];
      }
      cursor = next;
    } while (cursor !== '0');
  }

  /** Deletes every key of this store's prefix (sessions, user index, locks), a SCAN page at a time. */
  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis(({ client }) =>
        client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', '500']),
      );
      if (keys.length > 0) await this.redis(({ client }) => client.sendCommand(['UNLINK', ...keys]));
      cursor = next;
    } while (cursor !== '0');
  }

  /**
   * Runs `task` holding the session's Redis lock (`SET NX PX`, released by its owner only). The lock request
   * and a read of the session go out together, and Redis runs them in that order, so a task's first read of
   * the key is answered from that read: it was made under the lock. A write of the key releases the lock in
   * the same round trip.
   */
  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.processLock.run(key, async () => {
      const held: HeldLock = {
        lockKey: `${this.prefix}:lock:${key}`,
        token: randomBytes(16).toString('hex'),
      };
      const deadline = Date.now() + lockMs;
      for (let attempt = 0; ; attempt += 1) {
        const [taken, read] = await this.redis(({ client }) => {
          const lock = client.sendCommand<string | null>([
            'SET',
            held.lockKey,
            held.token,
            'NX',
            'PX',
            String(lockMs),
          ]);
          const value = client.sendCommand<string | null>(['GET', this.redisKey(key)]);
          return Promise.all([lock, value]);
        });
        if (taken === 'OK') {
          held.prefetched = { value: read ?? undefined };
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`the session lock ${held.lockKey} was not released within ${lockMs} ms`);
        await pause(Math.min(2 + attempt, 20));
      }
      this.locks.set(key, held);
      try {
        return await task();
      } finally {
        if (this.locks.get(key) === held) {
          this.locks.delete(key);
          await this.redis(({ client }) => release(client, held)).catch(() => undefined);
        }
      }
    });
  }

  override async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) (await connection).client.destroy();
  }
}
