import { EventEmitter } from 'node:events';
import type { SessionCookieJSON } from '../session/cookie';
import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from '../store/contract';
import { KeyedLock } from '../store/keyed-lock';
import { recordAfter } from '../store/merge';
import { asSessionRecord } from '../store/record';
import { createDataRecord } from '../session/change-tracker';

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
export function toExpressRecord(record: SessionRecord, expires: number | undefined): ExpressSessionRecord {
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
export function fromExpressRecord(
  stored: ExpressSessionRecord,
): { record: SessionRecord; expires: number | undefined } | undefined {
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
  return record && { record, expires: Number.isNaN(expires) ? undefined : expires };
}

/**
 * An express-session store (connect-redis, connect-pg-simple, ...) as a session store, so an app moving from
 * express-session keeps its store and its users' sessions: keys are the raw session ids and records keep
 * express-session's `{ cookie, ...data }` shape. A change is applied by read, merge and write under a lock
 * of this process. It cannot hold the user index.
 */
export class ExpressSessionStoreAdapter implements SessionStore {
  readonly keepsRawIds = true;
  connected = true;
  private readonly lock = new KeyedLock();

  constructor(
    readonly store: ExpressSessionStore,
    readonly name: string,
    logError: (error: unknown) => void,
  ) {
    if (store instanceof EventEmitter) {
      store.on('error', logError);
      store.on('disconnect', () => (this.connected = false));
      store.on('connect', () => (this.connected = true));
    }
  }

  private async get(key: string): Promise<SessionRecord | undefined> {
    const stored = await call<ExpressSessionRecord | null>((done) => this.store.get(key, done)).catch(
      (error: unknown) => {
        // express-session's own reading: a store (session-file-store) that reports a missing session as ENOENT
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return undefined;
        throw error;
      },
    );
    return stored ? fromExpressRecord(stored)?.record : undefined;
  }

  read(key: string): Promise<ReadResult> {
    return this.get(key);
  }

  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    return this.lock.run(key, async () => {
      const stored = change.create ? undefined : await this.get(key);
      if (stored === undefined && !change.create) return 'gone';
      const record = toExpressRecord(recordAfter(stored, change), expiresAt);
      await call((done) => this.store.set(key, record, done));
      return 'saved';
    });
  }

  remove(key: string): Promise<boolean> {
    return this.lock.run(key, async () => {
      const existed = (await this.get(key)) !== undefined;
      await call((done) => this.store.destroy(key, done));
      return existed;
    });
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    const { all } = this.store as { all?: (callback: NodeCallback<unknown>) => void };
    if (typeof all !== 'function') throw new Error('this express-session store cannot list its sessions');
    const listed = await call<unknown>((done) => all.call(this.store, done));
    const entries = Array.isArray(listed)
      ? listed.map((stored: ExpressSessionRecord & { id?: string }) => [stored.id, stored] as const)
      : Object.entries((listed ?? {}) as Record<string, ExpressSessionRecord>);
    for (const [key, stored] of entries) {
      const parsed = typeof key === 'string' ? fromExpressRecord(stored) : undefined;
      if (parsed) yield [key as string, parsed.record];
    }
  }

  async readValue(): Promise<unknown> {
    return undefined;
  }

  async updateValue(
    _key: string,
    _update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>,
  ): Promise<void> {
    throw new Error('an express-session store cannot hold values beside the sessions');
  }

  async clear(): Promise<void> {
    const { store } = this;
    if (store.clear) await call((done) => store.clear!(done));
  }

  async close(): Promise<void> {}
}
