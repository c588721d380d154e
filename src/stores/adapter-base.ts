import { EventEmitter } from 'node:events';

/** Keyv 6 passes an absolute expiry; Keyv 5 passes a time to live. No TTL is 30 years, no timestamp is so early. */
const earliestTimestamp = 1e12;

/** An absolute expiry (ms since epoch) from what either Keyv version passed as set's third argument. */
export function expiresAtOf(expiresOrTtl: number | undefined, now = Date.now()): number | undefined {
  if (typeof expiresOrTtl !== 'number' || !Number.isFinite(expiresOrTtl)) return undefined;
  return expiresOrTtl < earliestTimestamp ? now + expiresOrTtl : expiresOrTtl;
}

/** One entry of Keyv's setMany. */
export interface StorageEntry {
  key: string;
  value: unknown;
  expires?: number;
  ttl?: number;
}

/**
 * What every Keyv storage adapter of this library shares: both Keyv contracts (Keyv 6 passes an absolute
 * `expires` and reads `capabilities.expires`; Keyv 5 passes a relative `ttl`), namespacing of keys, and the
 * batch methods written in terms of the single ones.
 */
export abstract class KeyvAdapterBase extends EventEmitter {
  namespace: string | undefined;

  /** Tells Keyv 6 this adapter takes absolute expiries itself (Keyv 5 does not ask). */
  get capabilities(): { readonly expires: true } {
    return { expires: true };
  }

  abstract get(key: string): Promise<unknown>;
  /** Stores a value until `expiresAt` (ms since epoch), or for ever. */
  protected abstract setUntil(key: string, value: unknown, expiresAt: number | undefined): Promise<boolean>;
  abstract delete(key: string): Promise<boolean>;
  abstract clear(): Promise<void>;

  /** Keyv's set: the third argument is Keyv 6's absolute expiry or Keyv 5's time to live. */
  set(key: string, value: unknown, expiresOrTtl?: number): Promise<boolean> {
    return this.setUntil(key, value, expiresAtOf(expiresOrTtl));
  }

  protected prefixed(key: string): string {
    return this.namespace ? `${this.namespace}:${key}` : key;
  }

  /** The caller's key for a stored key of this namespace, or undefined for another namespace's key. */
  protected unprefixed(storedKey: string): string | undefined {
    if (!this.namespace) return storedKey;
    const prefix = `${this.namespace}:`;
    return storedKey.startsWith(prefix) ? storedKey.slice(prefix.length) : undefined;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  async setMany(entries: StorageEntry[]): Promise<boolean[]> {
    return Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.expires ?? entry.ttl)));
  }

  async deleteMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.delete(key)));
  }

  async disconnect(): Promise<void> {}
}

export function isExpired(expires: number | undefined, now = Date.now()): boolean {
  return typeof expires === 'number' && expires <= now;
}
