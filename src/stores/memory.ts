import type { SessionRecordMeta } from '../store/record';
import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from '../store/contract';
import { unreadableSession } from '../store/contract';
import { KeyedLock } from '../store/keyed-lock';
import { fieldsAfter, flashKeysAfter } from '../store/merge';
import { createDataRecord } from '../session/change-tracker';
import { isUserIndexKey } from '../store/user-index-key';

export interface MemoryStoreOptions {
  /** The most sessions kept; the least recently used is evicted first. Unbounded when omitted. */
  max?: number;
  /** How often expired entries are swept, in milliseconds. */
  sweepIntervalMs?: number;
}

/** A session kept by key: each data key as its JSON, so no two readers ever share an object. */
interface KeptSession {
  /** Never changed once stored: a save stores a new map. */
  fields: ReadonlyMap<string, string>;
  meta: Omit<SessionRecordMeta, 'flash'>;
  flash: readonly string[];
}

type MemoryEntry = { expires: number | undefined } & (
  { session: KeptSession; json?: undefined } | { json: string; session?: undefined }
);

function isExpired(expires: number | undefined, now = Date.now()): boolean {
  return expires !== undefined && expires <= now;
}

function recordOf(session: KeptSession): SessionRecord {
  const data = createDataRecord();
  for (const [key, json] of session.fields) data[key] = JSON.parse(json);
  const meta =
    session.flash.length > 0 ? { ...session.meta, flash: [...session.flash] } : { ...session.meta };
  return { data, meta, json: session.fields };
}

/**
 * Sessions in this process, with expiry sweeping and an optional LRU bound (`max`; users' indexes are never
 * evicted, they must outlive the sessions they list). An apply merges one request's change in one synchronous
 * step: nothing can run between the read of the stored session and its write.
 */
export class MemoryStore implements SessionStore {
  readonly name: string = 'memory';
  /** Sessions, least recently used first. */
  private readonly sessions = new Map<string, MemoryEntry>();
  /** Values beside the sessions (the user index): never evicted. */
  private readonly values = new Map<string, MemoryEntry>();
  private readonly valueUpdates = new KeyedLock();
  private readonly max: number;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.max = options.max ?? Infinity;
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.sessions.size + this.values.size;
  }

  private mapOf(key: string): Map<string, MemoryEntry> {
    return isUserIndexKey(key) ? this.values : this.sessions;
  }

  /** The live entry at a key, now the most recently used. */
  private entryAt(key: string): MemoryEntry | undefined {
    const entries = this.mapOf(key);
    const entry = entries.get(key);
    if (!entry) return undefined;
    entries.delete(key);
    if (isExpired(entry.expires)) return undefined;
    entries.set(key, entry);
    return entry;
  }

  private put(key: string, entry: MemoryEntry): void {
    const entries = this.mapOf(key);
    entries.delete(key);
    if (isExpired(entry.expires)) return;
    entries.set(key, entry);
    while (this.sessions.size > this.max) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  readNow(key: string): ReadResult {
    const entry = this.entryAt(key);
    if (!entry) return undefined;
    return entry.session ? recordOf(entry.session) : unreadableSession;
  }

  async read(key: string): Promise<ReadResult> {
    return this.readNow(key);
  }

  async apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    return this.applyInPlace(key, change, expiresAt);
  }

  applyNow(key: string, change: SessionChange, expiresAt: number): ApplyResult | undefined {
    return this.applyInPlace(key, change, expiresAt);
  }

  /** One synchronous step: nothing else can run between the read of the stored session and its write. */
  private applyInPlace(key: string, change: SessionChange, expiresAt: number): ApplyResult {
    const stored = this.entryAt(key)?.session;
    if (!stored && !change.create) return 'gone';
    // a new map, never the stored one changed: readers were handed the stored one
    const fields = fieldsAfter(stored?.fields, change, (json) => json);
    const flash = flashKeysAfter(stored?.flash ?? [], change);
    const meta = change.meta.cookie
      ? { ...change.meta, cookie: { ...change.meta.cookie } }
      : { ...change.meta };
    this.put(key, { session: { fields, meta, flash }, expires: expiresAt });
    return 'saved';
  }

  async remove(key: string): Promise<boolean> {
    const existed = this.entryAt(key) !== undefined;
    this.mapOf(key).delete(key);
    return existed;
  }

  async expiryOf(key: string): Promise<number | undefined> {
    return this.entryAt(key)?.expires;
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    for (const [key, entry] of [...this.sessions]) {
      if (entry.session && !isExpired(entry.expires)) yield [key, recordOf(entry.session)];
    }
  }

  async readValue(key: string): Promise<unknown> {
    const json = this.entryAt(key)?.json;
    return json === undefined ? undefined : JSON.parse(json);
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.valueUpdates.run(key, async () => {
      const next = await update(await this.readValue(key));
      if (next === undefined) this.mapOf(key).delete(key);
      else this.put(key, { json: JSON.stringify(next.value), expires: next.expiresAt });
    });
  }

  async clear(): Promise<void> {
    this.sessions.clear();
    this.values.clear();
  }

  /** Removes every expired entry now; runs on a timer too. */
  sweep(): void {
    const now = Date.now();
    for (const entries of [this.sessions, this.values]) {
      for (const [key, entry] of entries) if (isExpired(entry.expires, now)) entries.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
  }
}
