import { EventEmitter } from 'node:events';
import { keyvStorageCapability } from 'keyv';
import type { KeyvStorageCapability, KeyvStorageEntry, KeyvStorageGetResult } from 'keyv';

/**
 * What every Keyv storage adapter of this library shares: the v6 contract (absolute `expires`),
 * namespacing of keys, and the batch methods written in terms of the single ones.
 */
export abstract class KeyvAdapterBase extends EventEmitter {
  namespace: string | undefined;

  get capabilities(): KeyvStorageCapability {
    return keyvStorageCapability(this);
  }

  abstract get<Value>(key: string): Promise<KeyvStorageGetResult<Value>>;
  abstract set(key: string, value: unknown, expires?: number): Promise<boolean>;
  abstract delete(key: string): Promise<boolean>;
  abstract clear(): Promise<void>;

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

  async getMany<Value>(keys: string[]): Promise<Array<KeyvStorageGetResult<Value | undefined>>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)));
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }

  async setMany(entries: KeyvStorageEntry[]): Promise<boolean[]> {
    return Promise.all(entries.map((entry) => this.set(entry.key, entry.value, entry.expires)));
  }

  async deleteMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.delete(key)));
  }

  async disconnect(): Promise<void> {}
}

export function isExpired(expires: number | undefined, now = Date.now()): boolean {
  return typeof expires === 'number' && expires <= now;
}
