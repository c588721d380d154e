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

const noFlashKeys: readonly string[] = Object.freeze([]);

/**
 * A session kept by key, as small as it can be (it is what an idle session costs): each data key as its JSON
 * in one flat list `[key, json, key, json, ...]`, so no two readers ever share an object. Never changed once
 * stored: a save stores a new one.
 */
class KeptSession {
  /**
   * The times as distances back from the expiry where that is exact: distances under 12 days are small integers,
   * kept in the object itself, where a timestamp takes a number object of its own. Else the times themselves.
   */
  private readonly seen: number;
  private readonly created: number;
  private readonly relative: boolean;

  constructor(
    readonly expires: number,
    readonly fields: readonly string[],
    createdAt: number,
    lastSeenAt: number,
    readonly cookie: SessionRecordMeta['cookie'],
    readonly flash: readonly string[],
  ) {
    this.relative =
      Number.isSafeInteger(expires) && Number.isSafeInteger(lastSeenAt) && Number.isSafeInteger(createdAt);
    this.seen = this.relative ? expires - lastSeenAt : lastSeenAt;
    this.created = this.relative ? lastSeenAt - createdAt : createdAt;
  }

  get lastSeenAt(): number {
    return this.relative ? this.expires - this.seen : this.seen;
  }

  get createdAt(): number {
    return this.relative ? this.lastSeenAt - this.created : this.created;
  }
}

/** A value beside the sessions (the user index), as its JSON. */
interface KeptValue {
  expires: number | undefined;
  json: string;
}

type MemoryEntry = KeptSession | KeptValue;

function isExpired(expires: number | undefined, now = Date.now()): boolean {
  return expires !== undefined && expires <= now;
}

function recordOf(session: KeptSession): SessionRecord {
  const data = createDataRecord();
  const json = new Map<string, string>();
  const { fields } = session;
  for (let index = 0; index < fields.length; index += 2) {
    data[fields[index]!] = JSON.parse(fields[index + 1]!);
    json.set(fields[index]!, fields[index + 1]!);
  }
  const meta: SessionRecordMeta = { createdAt: session.createdAt, lastSeenAt: session.lastSeenAt };
  if (session.cookie) meta.cookie = { ...session.cookie };
  if (session.flash.length > 0) meta.flash = [...session.flash];
  return { data, meta, json };
}

/**
 * The JSON of a value as kept: a short one is copied to a string of its exact size. The strings JSON.stringify
 * returns keep about 48 bytes of its working buffer, as much as an idle session's whole small value.
 */
const keptText = (json: string): string =>
  json.length <= 512 ? (JSON.parse(JSON.stringify(json)) as string) : json;

/** The fields after a change, in the flat list's form. */
function fieldListAfter(stored: KeptSession | undefined, change: SessionChange): readonly string[] {
  const pairs: Array<[string, string]> = [];
  const kept = stored?.fields ?? [];
  for (let index = 0; index < kept.length; index += 2) pairs.push([kept[index]!, kept[index + 1]!]);
  const fields = fieldsAfter(pairs, change, keptText, (json) => json);
  // sized once: a list grown by push keeps room for more, and every idle session would carry that room
  const list = new Array<string>(fields.size * 2);
  let index = 0;
  for (const [name, json] of fields) {
    list[index++] = name;
    list[index++] = json;
  }
  return list;
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
    return entry instanceof KeptSession ? recordOf(entry) : unreadableSession;
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
    const entry = this.entryAt(key);
    const stored = entry instanceof KeptSession ? entry : undefined;
    if (!stored && !change.create) return 'gone';
    const flash = flashKeysAfter(stored?.flash ?? noFlashKeys, change);
    const { createdAt, lastSeenAt, cookie } = change.meta;
    this.put(
      key,
      new KeptSession(
        expiresAt,
        fieldListAfter(stored, change),
        createdAt,
        lastSeenAt,
        cookie && { ...cookie },
        flash.length > 0 ? flash : noFlashKeys,
      ),
    );
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
      if (entry instanceof KeptSession && !isExpired(entry.expires)) yield [key, recordOf(entry)];
    }
  }

  async readValue(key: string): Promise<unknown> {
    const entry = this.entryAt(key);
    return entry === undefined || entry instanceof KeptSession ? undefined : JSON.parse(entry.json);
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
