import { randomBytes } from 'node:crypto';
import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from '../../store/contract';
import { unreadableSession } from '../../store/contract';
import { takeWithBackOff } from '../../store/back-off';
import { KeyedLock } from '../../store/keyed-lock';
import { asSessionRecord } from '../../store/record';
import { isUserIndexKey } from '../../store/user-index-key';
import { createDataRecord, isUnsafeKey } from '../../session/change-tracker';
import type { Answer, RedisOptions } from './connection';
import { RedisConnection } from './connection';
import { applyScript, releaseLockScript } from './scripts';

const lockMs = 5000;

/** The session record in a hash's fields; the unreadable marker for anything else. */
function recordOf(fields: string[]): ReadResult {
  const data = createDataRecord();
  const json = new Map<string, string>();
  let meta: unknown;
  let flash: unknown;
  try {
    for (let index = 0; index < fields.length; index += 2) {
      const field = fields[index]!;
      const value = fields[index + 1]!;
      if (field === 'm') meta = JSON.parse(value);
      else if (field === 'f') flash = JSON.parse(value);
      else if (!field.startsWith('d:')) return unreadableSession;
      else {
        const key = field.slice(2);
        if (isUnsafeKey(key)) continue;
        data[key] = JSON.parse(value);
        json.set(key, value);
      }
    }
  } catch {
    return unreadableSession;
  }
  // `meta` is parsed here, so the record may keep it (and a parsed string or array fails the check)
  if (flash !== undefined) meta = { ...(meta as object), flash };
  const record = asSessionRecord({ data, meta });
  return record ? { data: record.data, meta: record.meta, json } : unreadableSession;
}

/** An HGETALL reply as the record it holds: field/value pairs under RESP2, a map under RESP3. */
const readAnswer: Answer<string[] | Record<string, string>, ReadResult> = {
  reply(answer) {
    const fields = Array.isArray(answer) ? answer : Object.entries(answer).flat();
    return fields.length === 0 ? undefined : recordOf(fields);
  },
  failure(error) {
    // a string, a list, a set... at a session's key: not a session, whatever put it there
    if (isWrongType(error)) return unreadableSession;
    throw error;
  },
};

const applyAnswer: Answer<number, ApplyResult> = { reply: (applied) => (applied === 1 ? 'saved' : 'gone') };

/** The apply script's arguments for a change (see `applyScript`). */
function applyArgs(change: SessionChange, expiresAt: number): string[] {
  const { flash } = change;
  const args = [
    change.create ? '1' : '0',
    JSON.stringify(change.meta),
    String(Math.round(expiresAt)),
    flash ? '1' : '0',
    flash ? JSON.stringify(flash.aged) : '[]',
    flash ? JSON.stringify(flash.flashed) : '[]',
    change.replace ? '1' : '0',
    '', // the number of keys set
    '', // the number of ops
  ];
  let setCount = 0;
  for (const name in change.set) {
    args.push(name, change.set[name]!);
    setCount += 1;
  }
  args[7] = String(setCount);
  const { ops } = change;
  if (ops) {
    for (const op of ops) {
      if (op.op === 'increment') args.push('i', op.key, String(op.by));
      else args.push('p', op.key, op.items.join(','));
    }
  }
  args[8] = ops ? String(ops.length) : '0';
  for (const name of change.removed) args.push(name);
  return args;
}

function isWrongType(error: unknown): boolean {
  return String((error as Error | null)?.message).startsWith('WRONGTYPE');
}

/**
 * Sessions in Redis (a single node or a Cluster): a hash per session, read with one HGETALL and changed with
 * one script that sets and deletes only the changed fields, sets the expiry and refuses a session removed
 * meanwhile; one key per session, so every command is routed by it. The user index is a string under a
 * short Redis lock (`SET NX PX`, released by its owner only).
 */
export class RedisSessionStore implements SessionStore {
  readonly name: string;
  readonly callTimeoutMs: number;
  private readonly prefix: string;
  private readonly connection: RedisConnection;
  private readonly processLock = new KeyedLock();

  constructor(options: RedisOptions = {}) {
    this.connection = new RedisConnection(options);
    this.prefix = options.prefix ?? 'sess';
    this.name = `redis (${this.connection.displayUrl})`;
    this.callTimeoutMs = this.connection.commandTimeoutMs;
  }

  /** Reports the first error of an outage (the client reconnects on its own). */
  onError(listener: (error: unknown) => void): void {
    this.connection.on('error', listener);
  }

  /** The Redis key of a store key (the layout of earlier releases). */
  private redisKey(key: string): string {
    return `${this.prefix}::${key}`;
  }

  read(key: string): Promise<ReadResult> {
    const redisKey = this.redisKey(key);
    return this.connection.command(redisKey, ['HGETALL', redisKey], readAnswer);
  }

  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    return this.connection.script(applyScript, this.redisKey(key), applyArgs(change, expiresAt), applyAnswer);
  }

  async remove(key: string): Promise<boolean> {
    const redisKey = this.redisKey(key);
    return (await this.connection.send<number>(redisKey, ['DEL', redisKey])) > 0;
  }

  async expiryOf(key: string): Promise<number | undefined> {
    const redisKey = this.redisKey(key);
    const ttl = await this.connection.send<number>(redisKey, ['PTTL', redisKey]);
    return ttl > 0 ? Date.now() + ttl : undefined;
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    const keyPrefix = this.redisKey('');
    for await (const keys of this.connection.scan(`${keyPrefix}*`)) {
      for (const redisKey of keys) {
        const key = redisKey.slice(keyPrefix.length);
        if (isUserIndexKey(key)) continue;
        const record = await this.read(key);
        if (record && record !== unreadableSession) yield [key, record];
      }
    }
  }

  async readValue(key: string): Promise<unknown> {
    const redisKey = this.redisKey(key);
    const text = await this.connection.send<string | null>(redisKey, ['GET', redisKey]);
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.withLock(key, async () => {
      const next = await update(await this.readValue(key));
      const redisKey = this.redisKey(key);
      if (next === undefined) {
        await this.connection.send(redisKey, ['DEL', redisKey]);
        return;
      }
      const ttl =
        next.expiresAt === undefined ? [] : ['PX', String(Math.max(1, next.expiresAt - Date.now()))];
      await this.connection.send(redisKey, ['SET', redisKey, JSON.stringify(next.value), ...ttl]);
    });
  }

  /** Runs `task` holding a Redis lock on `key`, taken with `SET NX PX` and released by its owner only. */
  private withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.processLock.run(key, async () => {
      const lockKey = `${this.prefix}:lock:${key}`;
      const token = randomBytes(16).toString('hex');
      const take = async () =>
        (await this.connection.send<string | null>(lockKey, [
          'SET',
          lockKey,
          token,
          'NX',
          'PX',
          String(lockMs),
        ])) === 'OK';
      await takeWithBackOff(
        take,
        Date.now() + lockMs,
        () => `the lock ${lockKey} was not released within ${lockMs} ms`,
      );
      try {
        return await task();
      } finally {
        await this.connection.script(releaseLockScript, lockKey, [token]).catch(() => undefined);
      }
    });
  }

  /** Deletes every key of this store's prefix (sessions, user index, locks). */
  async clear(): Promise<void> {
    for await (const keys of this.connection.scan(`${this.prefix}:*`)) {
      for (const key of keys) await this.connection.send(key, ['UNLINK', key]);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
