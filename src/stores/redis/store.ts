import { createHash, randomBytes } from 'node:crypto';
import type { Duration, SessionStoreOptions } from '../../config/options';
import { durationOption } from '../../config/options';
import { withDeadline } from '../../store/deadline';
import { SessionConfigError } from '../../errors';
import { KeyvAdapterBase } from '../adapter-base';
import { takeWithBackOff } from '../../store/back-off';
import { KeyedLock } from '../../store/keyed-lock';
import type { AtomicSessionStore, SessionChange } from '../../store/contract';
import { unreadableSession } from '../../store/contract';
import type { SessionRecord } from '../../store/record';
import { asSessionRecord, parseEnvelope } from '../../store/record';
import { createDataRecord, isUnsafeKey } from '../../session/change-tracker';
import { isUserIndexKey } from '../../store/user-index-key';

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

/** The parts of a node-redis cluster client (`createCluster()`) this store uses. */
interface RedisClusterClient extends Omit<RedisClient, 'sendCommand'> {
  readonly masters: unknown[];
  nodeClient(node: unknown): Promise<RedisClient>;
  sendCommand<T>(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<T>;
}

type AnyRedisClient = RedisClient | RedisClusterClient;

function isCluster(client: AnyRedisClient): client is RedisClusterClient {
  return typeof (client as Partial<RedisClusterClient>).nodeClient === 'function';
}

/** The parts of the `redis` package (node-redis) this store uses. */
interface RedisModule {
  createClient(options: object): RedisClient;
  createCluster(options: object): RedisClusterClient;
}

/** A lock this process holds, by its token. */
interface HeldLock {
  lockKey: string;
  token: string;
}

/** A client, single node or cluster, as one way to send a command about a key, and the nodes to SCAN. */
interface Connection {
  client: AnyRedisClient;
  send<T>(key: string | undefined, args: string[]): Promise<T>;
  nodes(): Promise<RedisClient[]>;
}

function connectionOf(client: AnyRedisClient): Connection {
  if (!isCluster(client)) {
    return { client, send: (_key, args) => client.sendCommand(args), nodes: async () => [client] };
  }
  return {
    client,
    send: (key, args) => client.sendCommand(key, false, args),
    nodes: () => Promise.all(client.masters.map((master) => client.nodeClient(master))),
  };
}

const releaseLockScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Applies one request's change to a session hash (fields: `m` meta, `f` flash keys, `d:<key>` one JSON value
 * per data key; `r` a value that is not a session). Refuses (0) a session that is gone unless it is created.
 * ARGV: create, meta, expireAt, flash changed, aged flash keys, flashed keys (JSON arrays of strings),
 * number of keys set, then key/JSON pairs, then removed keys.
 */
const applyScript = `
local key = KEYS[1]
if ARGV[1] == '0' and redis.call('EXISTS', key) == 0 then return 0 end
local count = tonumber(ARGV[7])
local i = 8
for _ = 1, count do
  redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', key, 'd:' .. ARGV[i])
  i = i + 1
end
redis.call('HDEL', key, 'r')
redis.call('HSET', key, 'm', ARGV[2])
if ARGV[4] == '1' then
  local aged = {}
  for _, name in ipairs(cjson.decode(ARGV[5])) do aged[name] = true end
  local kept, seen = {}, {}
  local stored = redis.call('HGET', key, 'f')
  if stored then
    for _, name in ipairs(cjson.decode(stored)) do
      if not aged[name] and not seen[name] then kept[#kept + 1] = name; seen[name] = true end
    end
  end
  for _, name in ipairs(cjson.decode(ARGV[6])) do
    if not seen[name] then kept[#kept + 1] = name; seen[name] = true end
  end
  if #kept > 0 then redis.call('HSET', key, 'f', cjson.encode(kept)) else redis.call('HDEL', key, 'f') end
end
redis.call('PEXPIREAT', key, ARGV[3])
return 1
`;

/** Replaces a session hash whole (a Keyv set of a session key): ARGV expireAt ('' for none), then field/value pairs. */
const replaceScript = `
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[1] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1
`;

const scriptHashes = new Map<string, string>();
function sha1Of(script: string): string {
  let hash = scriptHashes.get(script);
  if (!hash) scriptHashes.set(script, (hash = createHash('sha1').update(script).digest('hex')));
  return hash;
}

/** The hash fields of a session record. */
function fieldsOf(record: SessionRecord): string[] {
  const { flash, ...meta } = record.meta;
  const fields = ['m', JSON.stringify(meta)];
  if (flash && flash.length > 0) fields.push('f', JSON.stringify(flash));
  for (const [name, value] of Object.entries(record.data)) fields.push(`d:${name}`, JSON.stringify(value));
  return fields;
}

/** The session record in a hash's fields; the unreadable marker for anything else. */
function recordOf(fields: string[]): SessionRecord | typeof unreadableSession {
  const data = createDataRecord();
  const json = new Map<string, string>();
  let meta: unknown;
  let flash: unknown;
  try {
    for (let index = 0; index < fields.length; index += 2) {
      const [field, value] = [fields[index]!, fields[index + 1]!];
      if (field === 'm') meta = JSON.parse(value);
      else if (field === 'f') flash = JSON.parse(value);
      else if (!field.startsWith('d:')) return unreadableSession;
      else if (!isUnsafeKey(field.slice(2))) {
        data[field.slice(2)] = JSON.parse(value);
        json.set(field.slice(2), value);
      }
    }
  } catch {
    return unreadableSession;
  }
  const record = asSessionRecord({
    data,
    meta: { ...(meta as object), ...(flash === undefined ? {} : { flash }) },
  });
  return record ? { ...record, json } : unreadableSession;
}
const lockMs = 5000;

/** Deletes the lock only if it still holds this owner's token. */
function release(connection: Connection, held: HeldLock): Promise<unknown> {
  return connection.send(held.lockKey, ['EVAL', releaseLockScript, '1', held.lockKey, held.token]);
}

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
export class RedisStore extends KeyvAdapterBase implements AtomicSessionStore {
  readonly displayUrl: string;
  private readonly url: string;
  private readonly prefix: string;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly processLock = new KeyedLock();
  private connection: Promise<Connection> | undefined;
  private connecting: Promise<unknown> | undefined;
  private outageReported = false;

  /** A client the app made and owns: used as it is, never connected or closed here. */
  private readonly appClient: AnyRedisClient | undefined;
  /** The URLs of some nodes of a Redis Cluster, for a cluster client of our own. */
  private readonly clusterUrls: string[] | undefined;
  private appConnection: Connection | undefined;

  constructor(options: RedisOptions = {}) {
    super();
    this.appClient = options.client as AnyRedisClient | undefined;
    this.clusterUrls = options.cluster;
    if (!this.appClient) requireInstalled();
    this.url = options.url ?? options.cluster?.[0] ?? 'redis://127.0.0.1:6379';
    this.displayUrl = this.appClient
      ? 'the client in redis.client'
      : this.url.replace(/\/\/[^@/]*@/, '//***@');
    this.prefix = options.prefix ?? 'sess';
    this.connectTimeoutMs = durationOption('redis.connectTimeout', options.connectTimeout as Duration, '1s');
    this.commandTimeoutMs = durationOption('redis.commandTimeout', options.commandTimeout as Duration, '1s');
  }

  private async createConnection(): Promise<Connection> {
    const { createClient, createCluster } = (await import('redis')) as unknown as RedisModule;
    const clientOptions = {
      disableOfflineQueue: true,
      // every command is bounded by commandTimeout here, with one shared timer; node-redis 6 would otherwise
      // arm an AbortSignal timer of its own for each command
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.connectTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    };
    const client: AnyRedisClient = this.clusterUrls
      ? createCluster({ rootNodes: this.clusterUrls.map((url) => ({ url })), defaults: clientOptions })
      : createClient({ url: this.url, ...clientOptions });
    client.on('error', (error) => {
      if (this.outageReported) return;
      this.outageReported = true;
      this.emit('error', error);
    });
    client.on('ready', () => (this.outageReported = false));
    return connectionOf(client);
  }

  /**
   * The connection, ready for a command. The first call connects; while Redis is unreachable the client
   * reconnects in the background and commands fail at once instead of queueing.
   */
  private async ready(): Promise<Connection> {
    if (this.appClient) {
      if (!this.appClient.isReady) throw new Error('the Redis client given in redis.client is not ready');
      return (this.appConnection ??= connectionOf(this.appClient));
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

  /** Runs a Lua script by its hash, loading it the first time Redis does not know it. */
  private async script<T>(
    connection: Connection,
    script: string,
    keys: string[],
    args: string[],
  ): Promise<T> {
    const call = (command: string, body: string) =>
      connection.send<T>(keys[0], [command, body, String(keys.length), ...keys, ...args]);
    try {
      return await call('EVALSHA', sha1Of(script));
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return call('EVAL', script);
    }
  }

  /** A session is a hash; the user index (and anything else kept beside the sessions) a string. */
  private isSession(key: string): boolean {
    return !isUserIndexKey(key);
  }

  /** A hash's fields as [field, value, ...] (node-redis answers HGETALL with an array or an object). */
  private async hashFields(redisKey: string): Promise<string[]> {
    let answer: string[] | Record<string, string>;
    try {
      answer = await this.redis((connection) =>
        connection.send<string[] | Record<string, string>>(redisKey, ['HGETALL', redisKey]),
      );
    } catch (error) {
      if (!String((error as Error).message).startsWith('WRONGTYPE')) throw error;
      return this.migrateStringSession(redisKey);
    }
    return Array.isArray(answer) ? answer : Object.entries(answer).flat();
  }

  /**
   * A session stored by version 0.1 is one JSON string (`{ value, expires }`): it is rewritten as a hash, with
   * its expiry, the first time it is read, so that users stay signed in across the upgrade.
   */
  private async migrateStringSession(redisKey: string): Promise<string[]> {
    const [stored, ttl] = await this.redis((connection) =>
      Promise.all([
        connection.send<string | null>(redisKey, ['GET', redisKey]),
        connection.send<number>(redisKey, ['PTTL', redisKey]),
      ]),
    );
    const record = asSessionRecord(parseEnvelope(stored)?.value);
    const fields = record ? fieldsOf(record) : ['r', stored ?? ''];
    const expireAt = ttl > 0 ? String(Date.now() + ttl) : '';
    await this.redis((connection) =>
      this.script(connection, replaceScript, [redisKey], [expireAt, ...fields]),
    );
    return fields;
  }

  async readSession(key: string): Promise<SessionRecord | typeof unreadableSession | undefined> {
    const fields = await this.hashFields(this.redisKey(key));
    return fields.length === 0 ? undefined : recordOf(fields);
  }

  async applySession(key: string, change: SessionChange, expiresAt: number): Promise<'saved' | 'gone'> {
    const sets = Object.entries(change.set).flat();
    const args = [
      change.create ? '1' : '0',
      JSON.stringify(change.meta),
      String(Math.round(expiresAt)),
      change.flash ? '1' : '0',
      JSON.stringify(change.flash?.aged ?? []),
      JSON.stringify(change.flash?.flashed ?? []),
      String(sets.length / 2),
      ...sets,
      ...change.removed,
    ];
    const applied = await this.redis((connection) =>
      this.script<number>(connection, applyScript, [this.redisKey(key)], args),
    );
    return applied === 1 ? 'saved' : 'gone';
  }

  async removeSession(key: string): Promise<void> {
    await this.delete(key);
  }

  /** Keyv's get: a session as the `{ value, expires }` JSON a Keyv of this library stores, assembled from its hash. */
  async get(key: string): Promise<unknown> {
    const redisKey = this.redisKey(key);
    if (!this.isSession(key)) {
      const value = await this.redis((connection) =>
        connection.send<string | null>(redisKey, ['GET', redisKey]),
      );
      return value ?? undefined;
    }
    const [fields, ttl] = await Promise.all([
      this.hashFields(redisKey),
      this.redis((connection) => connection.send<number>(redisKey, ['PTTL', redisKey])),
    ]);
    if (fields.length === 0) return undefined;
    if (fields[0] === 'r' && fields.length === 2) return fields[1];
    const record = recordOf(fields);
    if (record === unreadableSession) return 'not a session record';
    return JSON.stringify({ value: record, ...(ttl > 0 ? { expires: Date.now() + ttl } : {}) });
  }

  /** Keyv's set: a session record becomes its hash; any other value of a session key is kept as it is (`r`). */
  protected async setUntil(key: string, value: unknown, expires: number | undefined): Promise<boolean> {
    const redisKey = this.redisKey(key);
    if (!this.isSession(key)) {
      const ttl = expires === undefined ? [] : ['PX', String(Math.max(1, expires - Date.now()))];
      await this.redis((connection) => connection.send(redisKey, ['SET', redisKey, String(value), ...ttl]));
      return true;
    }
    const record = asSessionRecord(parseEnvelope(String(value))?.value);
    const fields = record ? fieldsOf(record) : ['r', String(value)];
    const expireAt = expires === undefined ? '' : String(Math.round(expires));
    await this.redis((connection) =>
      this.script(connection, replaceScript, [redisKey], [expireAt, ...fields]),
    );
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const redisKey = this.redisKey(key);
    const removed = await this.redis((connection) => connection.send<number>(redisKey, ['DEL', redisKey]));
    return removed > 0;
  }

  /** Every Redis key matching `pattern`, a SCAN page at a time on each node (each master of a cluster). */
  private async *scan(pattern: string): AsyncGenerator<string[], void> {
    for (const node of await this.redis((connection) => connection.nodes())) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis(() =>
          node.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500']),
        );
        yield keys;
        cursor = next;
      } while (cursor !== '0');
    }
  }

  /** Every key of this store (sessions and the user index) and its value. */
  async *iterator(): AsyncGenerator<[string, string], void> {
    const keyPrefix = this.redisKey('');
    for await (const keys of this.scan(`${keyPrefix}*`)) {
      for (const redisKey of keys) {
        const key = redisKey.slice(keyPrefix.length);
        const value = await this.get(key);
        if (typeof value === 'string') yield [key, value];
      }
    }
  }

  /** Deletes every key of this store's prefix (sessions, user index, locks). */
  async clear(): Promise<void> {
    for await (const keys of this.scan(`${this.prefix}:*`)) {
      for (const key of keys) await this.redis((connection) => connection.send(key, ['UNLINK', key]));
    }
  }

  /** Runs `task` holding a Redis lock on `key` (`SET NX PX`, released by its owner only): the user index. */
  withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.processLock.run(key, async () => {
      const held: HeldLock = {
        lockKey: `${this.prefix}:lock:${key}`,
        token: randomBytes(16).toString('hex'),
      };
      const takeLock = async () => {
        const answer = await this.redis((connection) =>
          connection.send<string | null>(held.lockKey, [
            'SET',
            held.lockKey,
            held.token,
            'NX',
            'PX',
            String(lockMs),
          ]),
        );
        return answer === 'OK';
      };
      await takeWithBackOff(
        takeLock,
        Date.now() + lockMs,
        () => `the lock ${held.lockKey} was not released within ${lockMs} ms`,
      );
      try {
        return await task();
      } finally {
        await this.redis((connection) => release(connection, held)).catch(() => undefined);
      }
    });
  }

  override async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) (await connection).client.destroy();
  }
}
