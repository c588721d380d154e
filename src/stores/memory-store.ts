import { KeyvAdapterBase, isExpired } from './adapter-base';

export interface MemoryStoreOptions {
  /** The most sessions kept; the least recently used is evicted first. Unbounded when omitted. */
  max?: number;
  /** How often expired entries are swept, in milliseconds. */
  sweepIntervalMs?: number;
  /**
   * Which keys `max` counts and may evict (default: all). The others (the user index, which must outlive
   * the sessions it lists) are kept until they expire or are deleted.
   */
  evictable?: (key: string) => boolean;
}

interface MemoryEntry {
  value: string;
  expires: number | undefined;
}

/** An in-process Keyv storage adapter with expiry sweeping and an optional LRU bound. */
export class MemoryStore extends KeyvAdapterBase {
  /** Entries `max` counts, least recently used first. */
  private readonly entries = new Map<string, MemoryEntry>();
  /** Entries that are never evicted. */
  private readonly keptEntries = new Map<string, MemoryEntry>();
  private readonly max: number;
  private readonly evictable: (key: string) => boolean;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.max = options.max ?? Infinity;
    this.evictable = options.evictable ?? (() => true);
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.entries.size + this.keptEntries.size;
  }

  private mapOf(key: string): Map<string, MemoryEntry> {
    return this.evictable(key) ? this.entries : this.keptEntries;
  }

  async get(key: string): Promise<string | undefined> {
    const entries = this.mapOf(key);
    const storedKey = this.prefixed(key);
    const entry = entries.get(storedKey);
    if (!entry) return undefined;
    entries.delete(storedKey);
    if (isExpired(entry.expires)) return undefined;
    entries.set(storedKey, entry);
    return entry.value;
  }

  protected async setUntil(key: string, value: unknown, expires: number | undefined): Promise<boolean> {
    const entries = this.mapOf(key);
    const storedKey = this.prefixed(key);
    entries.delete(storedKey);
    if (isExpired(expires)) return true;
    entries.set(storedKey, { value: value as string, expires });
    while (this.entries.size > this.max) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.mapOf(key).delete(this.prefixed(key));
  }

  async clear(): Promise<void> {
    for (const entries of [this.entries, this.keptEntries]) {
      for (const storedKey of [...entries.keys()]) {
        if (this.unprefixed(storedKey) !== undefined) entries.delete(storedKey);
      }
    }
  }

  async *iterator(): AsyncGenerator<[string, string], void> {
    for (const [storedKey, entry] of [...this.entries, ...this.keptEntries]) {
      const key = this.unprefixed(storedKey);
      if (key !== undefined && !isExpired(entry.expires)) yield [key, entry.value];
    }
  }

  /** Removes every expired entry now; runs on a timer too. */
  sweep(): void {
    const now = Date.now();
    for (const entries of [this.entries, this.keptEntries]) {
      for (const [storedKey, entry] of entries) {
        if (isExpired(entry.expires, now)) entries.delete(storedKey);
      }
    }
  }

  override async disconnect(): Promise<void> {
    clearInterval(this.sweepTimer);
  }
}
