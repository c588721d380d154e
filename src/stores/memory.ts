import { createDataRecord } from '../session/change-tracker';
import type { SessionRecord, SessionRecordMeta } from '../store/record';
import { asSessionRecord, parseEnvelope } from '../store/record';
import { KeyvAdapterBase, isExpired } from './adapter-base';
import type { AtomicSessionStore, SessionChange } from '../store/contract';
import { flashKeysAfter, unreadableSession } from '../store/contract';

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

/** A session kept by key: each data key as its JSON, so no two readers ever share an object. */
interface StoredSession {
  /** Never changed once stored: a save stores a new map. */
  fields: ReadonlyMap<string, string>;
  meta: Omit<SessionRecordMeta, 'flash'>;
  flash: string[];
}

/** A value written through Keyv (its serialized text), or a session written by `applySession`. */
type MemoryEntry = { expires: number | undefined } & (
  { text: string; session?: undefined } | { session: StoredSession; text?: undefined }
);

function copyMeta(meta: Omit<SessionRecordMeta, 'flash'>): Omit<SessionRecordMeta, 'flash'> {
  return meta.cookie ? { ...meta, cookie: { ...meta.cookie } } : { ...meta };
}

/** The session kept for a record that was written through Keyv, whole. */
function storedSessionOf(record: SessionRecord): StoredSession {
  const { flash, ...meta } = record.meta;
  const fields = new Map(Object.entries(record.data).map(([key, value]) => [key, JSON.stringify(value)]));
  return { fields, meta: copyMeta(meta), flash: flash ? [...flash] : [] };
}

function recordOf(session: StoredSession): SessionRecord {
  const data = createDataRecord();
  for (const [key, json] of session.fields) data[key] = JSON.parse(json);
  const meta = copyMeta(session.meta);
  return {
    data,
    meta: session.flash.length > 0 ? { ...meta, flash: [...session.flash] } : meta,
    json: session.fields,
  };
}

/** The `{ value, expires }` text a Keyv of this library reads, assembled from the kept JSON of each key. */
function envelopeOf(session: StoredSession, expires: number | undefined): string {
  const data = [...session.fields].map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',');
  const meta = session.flash.length > 0 ? { ...session.meta, flash: session.flash } : session.meta;
  const expiry = expires === undefined ? '' : `,"expires":${expires}`;
  return `{"value":{"data":{${data}},"meta":${JSON.stringify(meta)}}${expiry}}`;
}

/** What Keyv reads at an entry: its text, or the text of the session kept there. */
function textOf(entry: MemoryEntry): string {
  return entry.session ? envelopeOf(entry.session, entry.expires) : entry.text;
}

/**
 * An in-process store with expiry sweeping and an optional LRU bound: a Keyv storage adapter, and an atomic
 * session store whose apply merges one request's change in place in one synchronous step (no lock, no re-read).
 */
export class MemoryStore extends KeyvAdapterBase implements AtomicSessionStore {
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

  /** The live entry at a key, now the most recently used. */
  private entryAt(key: string): MemoryEntry | undefined {
    const entries = this.mapOf(key);
    const storedKey = this.prefixed(key);
    const entry = entries.get(storedKey);
    if (!entry) return undefined;
    entries.delete(storedKey);
    if (isExpired(entry.expires)) return undefined;
    entries.set(storedKey, entry);
    return entry;
  }

  private put(key: string, entry: MemoryEntry): void {
    const entries = this.mapOf(key);
    const storedKey = this.prefixed(key);
    entries.delete(storedKey);
    if (isExpired(entry.expires)) return;
    entries.set(storedKey, entry);
    while (this.entries.size > this.max) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.entryAt(key);
    return entry && textOf(entry);
  }

  protected async setUntil(key: string, value: unknown, expires: number | undefined): Promise<boolean> {
    this.put(key, { text: value as string, expires });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.mapOf(key).delete(this.prefixed(key));
  }

  /** A session written through Keyv is read from its text; anything else there is unreadable. */
  private sessionIn(entry: MemoryEntry): StoredSession | undefined {
    if (entry.session) return entry.session;
    const record = asSessionRecord(parseEnvelope(entry.text)?.value);
    return record && storedSessionOf(record);
  }

  async readSession(key: string): Promise<SessionRecord | typeof unreadableSession | undefined> {
    const entry = this.entryAt(key);
    if (!entry) return undefined;
    const session = this.sessionIn(entry);
    return session ? recordOf(session) : unreadableSession;
  }

  async applySession(key: string, change: SessionChange, expiresAt: number): Promise<'saved' | 'gone'> {
    return this.applyInPlace(key, change, expiresAt);
  }

  applySessionNow(key: string, change: SessionChange, expiresAt: number): 'saved' | 'gone' | undefined {
    return this.applyInPlace(key, change, expiresAt);
  }

  /** One synchronous step: nothing else can run between the read of the stored session and its write. */
  private applyInPlace(key: string, change: SessionChange, expiresAt: number): 'saved' | 'gone' {
    const entry = this.entryAt(key);
    if (!entry && !change.create) return 'gone';
    const stored = entry && this.sessionIn(entry);
    // a new map, never the stored one changed: readers were handed the stored one
    const fields = new Map(stored?.fields);
    for (const [name, json] of Object.entries(change.set)) fields.set(name, json);
    for (const name of change.removed) fields.delete(name);
    const flash = flashKeysAfter(stored?.flash ?? [], change);
    this.put(key, { session: { fields, meta: copyMeta(change.meta), flash }, expires: expiresAt });
    return 'saved';
  }

  async removeSession(key: string): Promise<void> {
    await this.delete(key);
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
      if (key === undefined || isExpired(entry.expires)) continue;
      yield [key, textOf(entry)];
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
