import { KeyvAdapterBase, isExpired } from './adapter-base';

export interface MemoryStoreOptions {
  /** The most sessions kept; the least recently used is evicted first. Unbounded when omitted. */
  max?: number;
  /** How often expired entries are swept, in milliseconds. */
  sweepIntervalMs?: number;
}

interface MemoryEntry {
  value: string;
  expires: number | undefined;
}

/** An in-process Keyv storage adapter with expiry sweeping and an optional LRU bound. */
export class MemoryStore extends KeyvAdapterBase {
  private readonly entries = new Map<string, MemoryEntry>();
  private readonly max: number;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.max = options.max ?? Infinity;
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const storedKey = this.prefixed(key);
    const entry = this.entries.get(storedKey);
    if (!entry) return undefined;
    this.entries.delete(storedKey);
    if (isExpired(entry.expires)) return undefined;
    this.entries.set(storedKey, entry);
    return entry.value;
  }

  async set(key: string, value: unknown, expires?: number): Promise<boolean> {
    const storedKey = this.prefixed(key);
    this.entries.delete(storedKey);
    if (isExpired(expires)) return true;
    this.entries.set(storedKey, { value: value as string, expires });
    while (this.entries.size > this.max) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(this.prefixed(key));
  }

  async clear(): Promise<void> {
    for (const storedKey of [...this.entries.keys()]) {
      if (this.unprefixed(storedKey) !== undefined) this.entries.delete(storedKey);
    }
  }

  async *iterator(): AsyncGenerator<[string, string], void> {
    for (const [storedKey, entry] of [...this.entries]) {
      const key = this.unprefixed(storedKey);
      if (key !== undefined && !isExpired(entry.expires)) yield [key, entry.value];
    }
  }

  /** Removes every expired entry now; runs on a timer too. */
  sweep(): void {
    const now = Date.now();
    for (const [storedKey, entry] of this.entries) {
      if (isExpired(entry.expires, now)) this.entries.delete(storedKey);
    }
  }

  override async disconnect(): Promise<void> {
    clearInterval(this.sweepTimer);
  }
}
