import { EventEmitter } from 'node:events';
import type { Keyv } from 'keyv';
import type { SessionRecord } from '../store/record';
import type { ExpressSessionRecord } from './express-session';
import { fromExpressRecord, toExpressRecord } from './express-session';
import { SessionValidationError } from '../errors';

type Callback<T> = (error: unknown, result?: T) => void;

/** What `request.sessionStore` needs from the lifecycle: sessions by their raw ids, under their locks. */
export interface StoredSessions {
  readonly keyv: Keyv;
  read(sessionId: string): Promise<SessionRecord | undefined>;
  write(sessionId: string, record: SessionRecord, expiresAt: number | undefined): Promise<void>;
  touch(sessionId: string, expiresAt: number | undefined): Promise<void>;
  remove(sessionId: string): Promise<void>;
  list(): AsyncIterable<[string, SessionRecord]>;
}

function settle<T>(operation: Promise<T>, callback: Callback<T> | undefined): Promise<T> {
  if (callback) operation.then((result) => callback(null, result), callback);
  return operation;
}

const expressRecordOf = (record: SessionRecord) => toExpressRecord({ value: record, expires: undefined });

/**
 * `request.sessionStore`: express-session's Store API (get, set, destroy, touch, all, length, clear) over
 * whatever store is configured, so code written for express-session (`req.sessionStore.destroy(sid, cb)` to
 * sign out another device) keeps working. Every method takes a callback and also returns a Promise.
 * With the Keyv drivers, `all()` is keyed by the at-rest hash of each id, never the id itself.
 */
export class ExpressStoreApi extends EventEmitter {
  constructor(private readonly sessions: StoredSessions) {
    super();
  }

  /** The Keyv that holds the sessions. */
  get keyv(): Keyv {
    return this.sessions.keyv;
  }

  get(sid: string, callback?: Callback<ExpressSessionRecord | null>): Promise<ExpressSessionRecord | null> {
    const read = this.sessions.read(sid).then((record) => (record ? expressRecordOf(record) : null));
    return settle(read, callback);
  }

  set(sid: string, session: ExpressSessionRecord, callback?: Callback<void>): Promise<void> {
    const parsed = fromExpressRecord(session);
    const written = parsed
      ? this.sessions.write(sid, parsed.value, parsed.expires)
      : Promise.reject(
          new SessionValidationError('sessionStore.set() takes a session with a cookie object.'),
        );
    return settle(written, callback);
  }

  touch(sid: string, session: ExpressSessionRecord, callback?: Callback<void>): Promise<void> {
    const expires = fromExpressRecord(session)?.expires;
    return settle(this.sessions.touch(sid, expires), callback);
  }

  destroy(sid: string, callback?: Callback<void>): Promise<void> {
    return settle(this.sessions.remove(sid), callback);
  }

  all(
    callback?: Callback<Record<string, ExpressSessionRecord>>,
  ): Promise<Record<string, ExpressSessionRecord>> {
    const listed = (async () => {
      const all: Record<string, ExpressSessionRecord> = {};
      for await (const [key, record] of this.sessions.list()) all[key] = expressRecordOf(record);
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
    return settle(this.sessions.keyv.clear(), callback);
  }
}
