import { SessionValidationError } from '../errors';
import { assertJsonSafe, plainPrototypes } from './json-safety';

export type SessionDataRecord = Record<string, unknown>;

export interface SessionChanges {
  set: SessionDataRecord;
  /** The JSON of each key in `set`, as compared (a save writes it as it is). */
  json: Record<string, string>;
  removed: string[];
}

export function isUnsafeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** A data record without a prototype, and without the keys that could reach one. */
export function createDataRecord(entries: Iterable<[string, unknown]> = []): SessionDataRecord {
  const record: SessionDataRecord = Object.create(null);
  for (const [key, value] of entries) {
    if (!isUnsafeKey(key)) record[key] = value;
  }
  return record;
}

/** A copy of a data record, without the keys that could reach a prototype. */
function copyOf(data: SessionDataRecord): SessionDataRecord {
  const copy: SessionDataRecord = Object.create(null);
  for (const key in data) {
    if (Object.hasOwn(data, key) && !isUnsafeKey(key)) copy[key] = data[key];
  }
  return copy;
}

/** A baseline value that a save wrote: parsed from its JSON only if `loaded` is asked for. */
const savedAsJson = Symbol('saved as JSON');

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/**
 * The session's data and what changed in it, per top-level key, deep mutations included.
 *
 * Comparing every key's JSON at load and at save costs two stringifies per key per request. Instead a key
 * is compared only when it can have changed: it was written or removed (`dirty`), or its object value was
 * handed out to the app, which may mutate it; a snapshot of its JSON is taken when it is first handed out.
 * A key the request never touched is left alone.
 */
export class ChangeTracker {
  /** The values as loaded or last saved (`savedAsJson` for one whose JSON is in `baselineJson`). */
  private baseline: SessionDataRecord;
  /** JSON of baseline values at the moment they were first handed out. */
  private snapshots = new Map<string, string>();
  /** JSON of baseline values as the store keeps them, where it said (memory, Redis), and as saves wrote them. */
  private baselineJson: ReadonlyMap<string, string>;
  private dirty = new Set<string>();
  /** Keys holding a validated class instance (from @SessionValue): stored as their own properties. */
  private instanceKeys: Set<string> | undefined;
  /** The last `jsonAfter` asked, kept for the save that asks it again. */
  private lastJsonAfter: { changes: SessionChanges; json: Map<string, string> } | undefined;
  data: SessionDataRecord;

  /** A tracker of the data as loaded (`json`: each key's JSON where the store gave it), or of a new session. */
  constructor(loaded?: SessionDataRecord, json: ReadonlyMap<string, string> = new Map()) {
    this.data = loaded ? copyOf(loaded) : createDataRecord();
    this.baseline = loaded ? copyOf(this.data) : createDataRecord();
    this.baselineJson = json;
  }

  /** The data as loaded or last saved. */
  get loaded(): SessionDataRecord {
    for (const key in this.baseline) {
      if (this.baseline[key] === savedAsJson) this.baseline[key] = JSON.parse(this.baselineJson.get(key)!);
    }
    return this.baseline;
  }

  /** A value for the app: from here on the app may mutate it, so its JSON is kept to compare. */
  handOut(key: string): unknown {
    if (!Object.hasOwn(this.data, key)) return undefined;
    const value = this.data[key];
    if (isObject(value) && !this.snapshots.has(key) && !this.dirty.has(key)) {
      this.snapshots.set(key, this.baselineJson.get(key) ?? JSON.stringify(value));
    }
    return value;
  }

  /** A value for this library only, never handed to the app. */
  peek(key: string): unknown {
    return Object.hasOwn(this.data, key) ? this.data[key] : undefined;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.data, key);
  }

  keys(): string[] {
    return Object.keys(this.data);
  }

  write(key: string, value: unknown): void {
    this.dirty.add(key);
    this.instanceKeys?.delete(key);
    this.data[key] = value;
  }

  remove(key: string): void {
    this.dirty.add(key);
    this.instanceKeys?.delete(key);
    delete this.data[key];
  }

  /**
   * Puts a value the app did not write itself (a decorator's default, or a validated class instance in
   * place of the stored plain value) without counting it as a change: it is saved once the app changes it.
   */
  adopt<T>(key: string, value: T): T {
    if (!Object.hasOwn(this.baseline, key)) {
      this.baseline[key] = value;
      this.snapshots.set(key, JSON.stringify(value));
    } else if (!this.snapshots.has(key) && !this.dirty.has(key)) {
      this.snapshots.set(key, this.baselineJsonOf(key)!);
    }
    if (isObject(value) && !plainPrototypes.has(Object.getPrototypeOf(value))) {
      (this.instanceKeys ??= new Set()).add(key);
    }
    this.data[key] = value;
    return value;
  }

  /** The keys whose JSON differs from the baseline, and the keys removed. Throws if a changed value is not JSON-safe. */
  changes(): SessionChanges {
    const set: SessionDataRecord = {};
    const json: Record<string, string> = {};
    const removed: string[] = [];
    for (const key of new Set([...this.dirty, ...this.snapshots.keys()])) {
      const wasThere = Object.hasOwn(this.baseline, key);
      if (!Object.hasOwn(this.data, key)) {
        if (wasThere) removed.push(key);
        continue;
      }
      const value = this.data[key];
      const before = this.snapshots.get(key) ?? (wasThere ? this.baselineJsonOf(key) : undefined);
      const after = jsonOf(key, value);
      if (after !== before) {
        assertJsonSafe(key, value, this.instanceKeys?.has(key) === true);
        set[key] = value;
        json[key] = after!;
      }
    }
    return { set, json, removed };
  }

  private baselineJsonOf(key: string): string | undefined {
    return this.baselineJson.get(key) ?? JSON.stringify(this.baseline[key]);
  }

  /** The JSON of every key once `changes` is stored, where it is known without a stringify. */
  jsonAfter(changes: SessionChanges): Map<string, string> {
    if (this.lastJsonAfter?.changes === changes) return this.lastJsonAfter.json;
    const known = new Map(this.baselineJson);
    for (const key of changes.removed) known.delete(key);
    for (const key in changes.json) known.set(key, changes.json[key]!);
    this.lastJsonAfter = { changes, json: known };
    return known;
  }

  /** The byte length of the data's JSON, from the JSON of each key where it is known. */
  byteLength(known: ReadonlyMap<string, string>): number {
    const keys = Object.keys(this.data);
    let size = 1 + Math.max(keys.length, 1);
    for (const key of keys) {
      const json = known.get(key) ?? JSON.stringify(this.data[key]);
      if (json !== undefined) size += Buffer.byteLength(JSON.stringify(key)) + 1 + Buffer.byteLength(json);
    }
    return size;
  }

  /**
   * What a save stored becomes the baseline: the keys it set, as the JSON it wrote, and the keys it removed.
   * What the app changed after that save was planned still differs from this baseline, so the next save
   * carries it (a key set after the first byte of the response, or after an un-awaited `save()`).
   */
  commit(saved: SessionChanges): void {
    for (const key of saved.removed) {
      delete this.baseline[key];
      this.snapshots.delete(key);
    }
    for (const key in saved.json) {
      this.baseline[key] = savedAsJson;
      this.snapshots.set(key, saved.json[key]!);
      this.dirty.delete(key);
    }
    this.baselineJson = this.jsonAfter(saved);
    this.lastJsonAfter = undefined;
  }

  /**
   * Makes `data` (read from, or just written to, the store) the new baseline. Values the app may still hold
   * (handed out or written by it) are snapshotted again, so later changes to them count.
   */
  reset(data: SessionDataRecord, json: ReadonlyMap<string, string> = new Map()): void {
    const held = new Set([...this.dirty, ...this.snapshots.keys()]);
    this.data = copyOf(data);
    this.baseline = copyOf(this.data);
    this.lastJsonAfter = undefined;
    this.baselineJson = json;
    this.snapshots = new Map();
    this.dirty = new Set();
    for (const key of held) {
      if (Object.hasOwn(this.data, key) && isObject(this.data[key])) {
        this.snapshots.set(key, json.get(key) ?? JSON.stringify(this.data[key]));
      }
    }
  }
}

/** A value's JSON; what JSON cannot hold (a cycle, a BigInt, made after the key was set) is an error naming the key. */
function jsonOf(key: string, value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    assertJsonSafe(key, value);
    throw new SessionValidationError(
      `Session key "${key}" cannot be stored as JSON: ${(error as Error).message}`,
      key,
    );
  }
}

export function hasChanges(changes: SessionChanges): boolean {
  return changes.removed.length > 0 || Object.keys(changes.set).length > 0;
}
