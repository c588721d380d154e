import { SessionValidationError } from '../errors';
import type { SessionOp } from '../store/contract';
import { assertJsonSafe, plainPrototypes } from './json-safety';
import type { PlannedOps } from './pending-ops';
import { PendingOps } from './pending-ops';

export type SessionDataRecord = Record<string, unknown>;

export interface SessionChanges {
  set: SessionDataRecord;
  /** The JSON of each key in `set`, as compared (a save writes it as it is). */
  json: Record<string, string>;
  removed: string[];
  /** The keys' increments and pushes, applied by the store to what it holds (keys in neither `set` nor `removed`). */
  ops?: SessionOp[];
  /** What `ops` took of the pending ops, for `commit`. */
  planned?: PlannedOps;
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
  /** `increment` and `push` calls not stored yet; undefined until the first. */
  private pending: PendingOps | undefined;
  /**
   * Keys that ops of this request have changed in the store: what the store holds there is not known (other
   * requests' ops count too), so a plain write of one is always saved, even when it looks unchanged.
   */
  private storedUnknown: Set<string> | undefined;
  /** Keys holding a default the app adopted, not a stored value: the store has nothing there to add to. */
  private adoptedDefaults: Set<string> | undefined;
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
    if (this.pending?.has(key)) this.dropOps(key);
    this.data[key] = value;
  }

  remove(key: string): void {
    this.dirty.add(key);
    this.instanceKeys?.delete(key);
    if (this.pending?.has(key)) this.dropOps(key);
    delete this.data[key];
  }

  /** A plain write of a key wins over the increments and pushes the request made of it before. */
  private dropOps(key: string): void {
    this.pending!.drop(key);
    (this.storedUnknown ??= new Set()).add(key);
  }

  /**
   * Adds `by` to a number key (a missing key counts as 0) and returns the request's new value. The store adds
   * `by` to what it holds when the session is saved, unless the request writes the key plainly (then that
   * write is saved, as it is after a plain write made before).
   */
  increment(key: string, by: number): number {
    const current = this.has(key) ? this.data[key] : 0;
    if (typeof current !== 'number') {
      throw new SessionValidationError(
        `Cannot increment session key "${key}": it holds a ${typeof current}.`,
        key,
      );
    }
    const total = current + by;
    if (!Number.isFinite(total)) {
      throw new SessionValidationError(`Session key "${key}" cannot be incremented beyond ${current}.`, key);
    }
    // a default other than 0 is not stored: the store would add to nothing, so the total is written plainly
    if (this.dirty.has(key) || (current !== 0 && this.adoptedDefaults?.has(key))) this.write(key, total);
    else {
      this.data[key] = total;
      (this.pending ??= new PendingOps()).increment(key, by);
    }
    return total;
  }

  /** Appends to an array key (a missing key starts one) and returns the array; stored as `increment` is. */
  push(key: string, value: unknown): unknown[] {
    const current = this.has(key) ? this.data[key] : undefined;
    if (current !== undefined && !Array.isArray(current)) {
      throw new SessionValidationError(`Cannot push to session key "${key}": it is not an array.`, key);
    }
    assertJsonSafe(key, value);
    const list = current ?? [];
    const pushedBefore = this.pending?.has(key) === true;
    // the JSON of the array as stored, which the first push of a key is made onto
    const base =
      pushedBefore || this.dirty.has(key)
        ? undefined
        : current === undefined
          ? '[]'
          : this.unchangedJsonOf(key);
    list.push(value);
    if (!pushedBefore && base === undefined) this.write(key, list);
    else {
      this.data[key] = list;
      // as JSON.stringify writes an item of an array
      (this.pending ??= new PendingOps()).push(key, JSON.stringify(value) ?? 'null', base ?? '');
    }
    return list;
  }

  /** The JSON of a key as loaded or last saved, if the app has not changed it in place since; else undefined. */
  private unchangedJsonOf(key: string): string | undefined {
    const snapshot = this.snapshots.get(key);
    // an adopted default array is not stored: pushes onto it can go to the store only when it is empty
    if (this.adoptedDefaults?.has(key) && snapshot !== '[]') return undefined;
    if (snapshot === undefined) return this.baselineJsonOf(key);
    return JSON.stringify(this.data[key]) === snapshot ? snapshot : undefined;
  }

  /**
   * Puts a value the app did not write itself (a decorator's default, or a validated class instance in
   * place of the stored plain value) without counting it as a change: it is saved once the app changes it.
   */
  adopt<T>(key: string, value: T): T {
    if (!Object.hasOwn(this.baseline, key)) {
      this.baseline[key] = value;
      this.snapshots.set(key, JSON.stringify(value));
      (this.adoptedDefaults ??= new Set()).add(key);
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
    const changes: SessionChanges = { set: {}, json: {}, removed: [] };
    for (const key of this.dirty) this.compare(key, changes);
    for (const key of this.snapshots.keys()) if (!this.dirty.has(key)) this.compare(key, changes);
    const { pending } = this;
    if (!pending || pending.size === 0) return changes;
    this.pushedInPlaceAsWrites(pending, changes.set, changes.json);
    const planned = pending.plan();
    return planned ? { ...changes, ...planned } : changes;
  }

  /** Adds a key that can have changed (written, removed or handed out) to the changes, if it did change. */
  private compare(key: string, { set, json, removed }: SessionChanges): void {
    if (this.pending?.has(key)) return;
    const wasThere = Object.hasOwn(this.baseline, key);
    const forced = this.storedUnknown?.has(key) === true && this.dirty.has(key);
    if (!Object.hasOwn(this.data, key)) {
      if (wasThere || forced) removed.push(key);
      return;
    }
    const value = this.data[key];
    const before = forced
      ? undefined
      : (this.snapshots.get(key) ?? (wasThere ? this.baselineJsonOf(key) : undefined));
    const after = jsonOf(key, value);
    if (after !== before) {
      assertJsonSafe(key, value, this.instanceKeys?.has(key) === true);
      set[key] = value;
      json[key] = after!;
    }
  }

  /**
   * A pushed array that the app also changed in place (an item edited, one removed) no longer matches its
   * pushes: it is saved whole, as a plain write, which wins over the pushes.
   */
  private pushedInPlaceAsWrites(
    pending: PendingOps,
    set: SessionDataRecord,
    json: Record<string, string>,
  ): void {
    for (const key of [...pending.keys()]) {
      const expected = pending.expectedJson(key);
      if (expected === undefined) continue;
      const value = this.data[key];
      const after = jsonOf(key, value)!;
      if (after === expected) continue;
      assertJsonSafe(key, value);
      this.dirty.add(key);
      this.dropOps(key);
      set[key] = value;
      json[key] = after;
    }
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
    // what the store holds at an op's key is not known here: the request's own value is measured instead
    if (changes.ops) for (const op of changes.ops) known.delete(op.key);
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
      this.storedUnknown?.delete(key);
      this.adoptedDefaults?.delete(key);
    }
    const known = this.jsonAfter(saved);
    this.baselineJson = known;
    this.lastJsonAfter = undefined;
    if (saved.planned) this.opsStored(saved.planned, known);
  }

  /**
   * The keys whose ops a save stored: their stored value is not known from here on, and a key whose ops are
   * all stored takes the request's value as its baseline (a pushed array: the JSON its pushes made, to tell
   * a later change in place).
   */
  private opsStored(planned: PlannedOps, known: Map<string, string>): void {
    const storedUnknown = (this.storedUnknown ??= new Set());
    for (const pending of planned) storedUnknown.add(pending.key);
    for (const [key, pushedJson] of this.pending!.stored(planned)) {
      if (pushedJson === undefined) {
        this.baseline[key] = this.data[key];
        continue;
      }
      this.baseline[key] = savedAsJson;
      known.set(key, pushedJson);
      this.snapshots.set(key, pushedJson);
    }
  }

  /**
   * Makes `data` (read from, or just written to, the store) the new baseline. Values the app may still hold
   * (handed out or written by it) are snapshotted again, so later changes to them count.
   */
  reset(data: SessionDataRecord, json: ReadonlyMap<string, string> = new Map()): void {
    const held = new Set([...this.dirty, ...this.snapshots.keys(), ...(this.pending?.keys() ?? [])]);
    this.pending = undefined;
    this.storedUnknown = undefined;
    this.adoptedDefaults = undefined;
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
  return changes.removed.length > 0 || Object.keys(changes.set).length > 0 || changes.ops !== undefined;
}
