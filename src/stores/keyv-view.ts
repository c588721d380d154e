import { EventEmitter } from 'node:events';
import { Keyv } from 'keyv';
import type { SessionStore } from '../store/contract';
import { unreadableSession } from '../store/contract';
import { asSessionRecord, parseEnvelope } from '../store/record';
import { isUserIndexKey } from '../store/user-index-key';
import { replacingChange } from '../store/merge';

/** Keyv 6 passes an absolute expiry; Keyv 5 passes a time to live. No TTL is 30 years, no timestamp is so early. */
const earliestTimestamp = 1e12;

/** An absolute expiry (ms since epoch) from what either Keyv version passed as set's third argument. */
export function expiresAtOf(expiresOrTtl: unknown, now = Date.now()): number | undefined {
  if (typeof expiresOrTtl !== 'number' || !Number.isFinite(expiresOrTtl)) return undefined;
  return expiresOrTtl < earliestTimestamp ? now + expiresOrTtl : expiresOrTtl;
}

/**
 * A session store seen as a Keyv storage adapter (of Keyv 5 and 6), for `handler.store` and apps that want
 * Keyv's API over their sessions. The request path never goes through it. A session record set through it
 * replaces the stored session whole.
 */
export class KeyvViewAdapter extends EventEmitter {
  namespace: string | undefined;

  constructor(readonly sessions: SessionStore) {
    super();
  }

  /** Tells Keyv 6 this adapter takes absolute expiries itself (Keyv 5 does not ask). */
  get capabilities(): { readonly expires: true } {
    return { expires: true };
  }

  /** The store's key: Keyv 5 prefixes its namespace to every key it hands an adapter. */
  private keyOf(key: string): string {
    const prefix = this.namespace ? `${this.namespace}:` : undefined;
    return prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
  }

  async get(key: string): Promise<string | undefined> {
    const storeKey = this.keyOf(key);
    const record = isUserIndexKey(storeKey) ? unreadableSession : await this.sessions.read(storeKey);
    if (record === undefined) return undefined;
    if (record === unreadableSession) {
      const value = await this.sessions.readValue(storeKey);
      return value === undefined ? undefined : JSON.stringify({ value });
    }
    const expires = await this.sessions.expiryOf?.(storeKey);
    return JSON.stringify({ value: { data: record.data, meta: record.meta }, expires });
  }

  async set(key: string, text: unknown, expiresOrTtl?: number): Promise<boolean> {
    const storeKey = this.keyOf(key);
    const envelope = parseEnvelope(String(text));
    const value = envelope ? (envelope.value ?? null) : String(text);
    const expiresAt = expiresAtOf(expiresOrTtl);
    const record = isUserIndexKey(storeKey) ? undefined : asSessionRecord(value);
    if (!record) {
      await this.sessions.updateValue(storeKey, () => ({ value, expiresAt }));
      return true;
    }
    await this.sessions.apply(storeKey, replacingChange(record), expiresAt ?? Number.MAX_SAFE_INTEGER);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const storeKey = this.keyOf(key);
    if (!isUserIndexKey(storeKey)) return this.sessions.remove(storeKey);
    let existed = false;
    await this.sessions.updateValue(storeKey, (current) => {
      existed = current !== undefined;
      return undefined;
    });
    return existed;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async getMany(keys: string[]): Promise<Array<string | undefined>> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  async setMany(
    entries: Array<{ key: string; value: unknown; expires?: number; ttl?: number }>,
  ): Promise<boolean[]> {
    return Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.expires ?? entry.ttl)));
  }

  async deleteMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.delete(key)));
  }

  async clear(): Promise<void> {
    await this.sessions.clear();
  }

  async *iterator(): AsyncGenerator<[string, string], void> {
    for await (const [key, record] of this.sessions.list()) {
      yield [key, JSON.stringify({ value: { data: record.data, meta: record.meta } })];
    }
  }

  async disconnect(): Promise<void> {
    await this.sessions.close();
  }
}

/** The Keyv (of whichever version the app installed) over a session store: `handler.store`. */
export function keyvViewOf(sessions: SessionStore): Keyv {
  const plainJson = {
    serialization: { stringify: JSON.stringify, parse: JSON.parse },
    serialize: JSON.stringify,
    deserialize: JSON.parse,
  };
  const adapter = new KeyvViewAdapter(sessions);
  const keyv = new Keyv({
    store: adapter,
    namespace: undefined,
    ...plainJson,
  } as unknown as ConstructorParameters<typeof Keyv>[0]);
  // keyv 5 gives `iterator` only to the adapters it knows by their dialect
  const five = keyv as unknown as { iterator?: unknown; generateIterator?: (iterator: unknown) => unknown };
  if (typeof five.iterator !== 'function' && typeof five.generateIterator === 'function') {
    five.iterator = five.generateIterator(adapter.iterator.bind(adapter));
  }
  return keyv;
}

/** The session store behind a Keyv made by `keyvViewOf`, if it is one. */
export function sessionStoreBehind(keyv: unknown): SessionStore | undefined {
  const adapter = (keyv as { store?: unknown } | null)?.store;
  return adapter instanceof KeyvViewAdapter ? adapter.sessions : undefined;
}
