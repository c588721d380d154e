import { EventEmitter } from 'node:events';
import type { SessionCookieJSON } from '../session/cookie';
import type { SessionRecord } from '../store/record';
import { asSessionRecord } from '../store/record';
import { createDataRecord } from '../session/change-tracker';
import { KeyvAdapterBase } from './adapter-base';

type NodeCallback<T = unknown> = (error?: unknown, result?: T) => void;

/**
 * The store interface of express-session, as connect-redis, connect-pg-simple and the others implement it.
 * Loosely typed on purpose: each of those packages declares its own session and callback types.
 */
export interface ExpressSessionStore {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  get(sid: string, callback: (error: any, session?: any) => void): void;
  set(sid: string, session: any, callback?: (error?: any) => void): void;
  destroy(sid: string, callback?: (error?: any) => void): void;
  clear?(callback?: (error?: any) => void): void;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

/** express-session's record: the cookie beside the data keys. */
export interface ExpressSessionRecord {
  cookie: Partial<SessionCookieJSON> & { createdAt?: number; lastSeenAt?: number; flash?: string[] };
  [key: string]: unknown;
}

export interface KeyvEnvelope {
  value: SessionRecord;
  expires?: number;
}

export function isExpressSessionStore(candidate: unknown): candidate is ExpressSessionStore {
  const store = candidate as Partial<ExpressSessionStore> | null;
  return (
    typeof store?.get === 'function' && typeof store.set === 'function' && typeof store.destroy === 'function'
  );
}

function call<T>(operation: (callback: NodeCallback<T>) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    operation((error, result) => (error ? reject(error as Error) : resolve(result)));
  });
}

/** A stored session in express-session's shape, `{ cookie, ...data }`. */
export function toExpressRecord({ value: record, expires }: KeyvEnvelope): ExpressSessionRecord {
  const { cookie, createdAt, lastSeenAt, flash } = record.meta;
  return {
    ...record.data,
    cookie: {
      originalMaxAge: null,
      httpOnly: true,
      path: '/',
      ...cookie,
      expires: expires === undefined ? (cookie?.expires ?? null) : new Date(expires).toISOString(),
      createdAt,
      lastSeenAt,
      flash,
    },
  };
}

/** A session in express-session's shape as our record and expiry; undefined when it has no cookie object. */
export function fromExpressRecord(stored: ExpressSessionRecord): KeyvEnvelope | undefined {
  const { cookie, ...data } = stored;
  if (typeof cookie !== 'object' || cookie === null) return undefined;
  const { createdAt, lastSeenAt, flash, ...cookieJson } = cookie;
  const now = Date.now();
  const expires = cookieJson.expires ? Date.parse(cookieJson.expires) : undefined;
  const record = asSessionRecord({
    data: createDataRecord(Object.entries(data)),
    meta: {
      createdAt: createdAt ?? now,
      lastSeenAt: lastSeenAt ?? now,
      cookie: cookieJson,
      ...(flash ? { flash } : {}),
    },
  });
  return record && { value: record, expires: Number.isNaN(expires) ? undefined : expires };
}

/**
 * Lets an express-session store serve as a Keyv storage adapter, so an app migrating from express-session
 * keeps its store and its users' sessions: keys are the raw session ids and records keep express-session's
 * `{ cookie, ...data }` shape. Used with Keyv's serialization turned off.
 */
export class ExpressStoreAdapter extends KeyvAdapterBase {
  constructor(readonly store: ExpressSessionStore) {
    super();
    if (store instanceof EventEmitter) store.on('error', (error: unknown) => this.emit('error', error));
  }

  async get(key: string): Promise<unknown> {
    const stored = await call<ExpressSessionRecord | null>((done) => this.store.get(key, done)).catch(
      (error: unknown) => {
        // express-session's own reading: a store (session-file-store) that reports a missing session as ENOENT
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
        throw error;
      },
    );
    return stored ? fromExpressRecord(stored) : undefined;
  }

  protected async setUntil(key: string, value: unknown): Promise<boolean> {
    const expressRecord = toExpressRecord(value as KeyvEnvelope);
    await call((done) => this.store.set(key, expressRecord, done));
    return true;
  }

  async delete(key: string): Promise<boolean> {
    await call((done) => this.store.destroy(key, done));
    return true;
  }

  async clear(): Promise<void> {
    const { store } = this;
    if (store.clear) await call((done) => store.clear!(done));
  }
}
