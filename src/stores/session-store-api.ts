import { EventEmitter } from 'node:events';
import type { Keyv } from 'keyv';
import { expiresAt, sessionLimits } from '../config/lifetime';
import { SessionValidationError } from '../errors';
import type { SessionManager } from '../manager';
import type { SessionChange } from '../store/contract';
import type { SessionRecord } from '../store/record';
import { replacingChange } from '../store/merge';
import type { ExpressSessionRecord } from './express-session';
import { fromExpressRecord, toExpressRecord } from './express-session';

type Callback<T> = (error: unknown, result?: T) => void;

function settle<T>(operation: Promise<T>, callback: Callback<T> | undefined): Promise<T> {
  if (callback) operation.then((result) => callback(null, result), callback);
  return operation;
}

/**
 * `request.sessionStore`: express-session's Store API (get, set, destroy, touch, all, length, clear) over
 * whatever store is configured, so code written for express-session (`req.sessionStore.destroy(sid, cb)` to
 * sign out another device) keeps working. Every method takes a callback and also returns a Promise.
 * With the hashing stores, `all()` is keyed by the at-rest hash of each id, never the id itself.
 */
export class SessionStoreApi extends EventEmitter {
  constructor(private readonly manager: SessionManager) {
    super();
  }

  /** The sessions as a Keyv. */
  get keyv(): Keyv {
    return this.manager.keyv;
  }

  get(sid: string, callback?: Callback<ExpressSessionRecord | null>): Promise<ExpressSessionRecord | null> {
    const read = this.manager
      .readLive(sid)
      .then((record) => (record ? toExpressRecord(record, undefined) : null));
    return settle(read, callback);
  }

  set(sid: string, session: ExpressSessionRecord, callback?: Callback<void>): Promise<void> {
    const parsed = fromExpressRecord(session);
    const written = parsed
      ? this.write(sid, parsed.record, parsed.expires)
      : Promise.reject(
          new SessionValidationError('sessionStore.set() takes a session with a cookie object.'),
        );
    return settle(written, callback);
  }

  touch(sid: string, session: ExpressSessionRecord, callback?: Callback<void>): Promise<void> {
    const expires = fromExpressRecord(session)?.expires;
    return settle(this.extend(sid, expires), callback);
  }

  destroy(sid: string, callback?: Callback<void>): Promise<void> {
    const removed = this.manager.store
      .read(sid)
      .then((stored) => this.manager.removeSession(sid, stored?.data))
      .then(() => undefined);
    return settle(removed, callback);
  }

  all(
    callback?: Callback<Record<string, ExpressSessionRecord>>,
  ): Promise<Record<string, ExpressSessionRecord>> {
    const listed = (async () => {
      const all: Record<string, ExpressSessionRecord> = {};
      for await (const [key, record] of this.manager.store.list())
        all[key] = toExpressRecord(record, undefined);
      return all;
    })();
    return settle(listed, callback);
  }

  length(callback?: Callback<number>): Promise<number> {
    return settle(
      this.all().then((all) => Object.keys(all).length),
      callback,
    );
  }

  clear(callback?: Callback<void>): Promise<void> {
    return settle(this.manager.store.clear(), callback);
  }

  private expiryOf(record: SessionRecord, createdAt: number, now: number): number {
    return expiresAt(
      sessionLimits(this.manager.config, record.meta.cookie?.originalMaxAge ?? null),
      createdAt,
      now,
    );
  }

  /** Stores a session given whole in place of the stored one, keeping its creation time and its user's index. */
  private async write(sid: string, record: SessionRecord, expires: number | undefined): Promise<void> {
    const { store, userIndex } = this.manager;
    const stored = await store.read(sid);
    const now = Date.now();
    const createdAt = stored?.meta.createdAt ?? record.meta.createdAt;
    const whole = replacingChange(record);
    const change: SessionChange = { ...whole, meta: { ...whole.meta, createdAt, lastSeenAt: now } };
    const [before, after] = [userIndex?.userOf(stored?.data), userIndex?.userOf(record.data)];
    const key = store.keyOf(sid);
    if (after !== undefined && after !== before) await userIndex!.add(after, key, undefined);
    await store.apply(sid, change, expires ?? this.expiryOf(record, createdAt, now));
    if (before !== undefined && before !== after) await userIndex!.unlink(before, key);
  }

  /** Extends a stored session's life (`store.touch`); a session that is not stored stays so. */
  private async extend(sid: string, expires: number | undefined): Promise<void> {
    const stored = await this.manager.store.read(sid);
    if (!stored) return;
    const now = Date.now();
    const { flash: _flash, ...meta } = stored.meta;
    const change: SessionChange = { set: {}, removed: [], meta: { ...meta, lastSeenAt: now }, create: false };
    await this.manager.store.apply(sid, change, expires ?? this.expiryOf(stored, stored.meta.createdAt, now));
  }
}
