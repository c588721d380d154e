import { inspect } from 'node:util';
import type { SessionCookie } from './cookie';
import { SessionValidationError } from './errors';
import { assertJsonSafe, plainPrototypes } from './json-safety';

/**
 * The shape of an app's session data. Augment it by declaration merging:
 * `declare module 'routing-controllers-session' { interface SessionData { users?: User[] } }`
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}

export type SessionDataRecord = Record<string, unknown>;

/** The lifecycle operations behind the express-session style methods; implemented by lifecycle.ts. */
export interface SessionBackend {
  regenerate(session: SessionObject, keepData: boolean): Promise<void>;
  destroy(session: SessionObject): Promise<void>;
  save(session: SessionObject): Promise<void>;
  reload(session: SessionObject): Promise<void>;
}

export interface SessionState {
  id: string;
  cookie: SessionCookie;
  data: SessionDataRecord;
  /** JSON of each top-level key as it was loaded or last saved: the baseline for change tracking. */
  savedJson: Map<string, string>;
  createdAt: number;
  lastSeenAt: number;
  /** Not in the store yet. */
  isNew: boolean;
  /** The client does not hold this id yet (new or regenerated): a cookie must be sent. */
  idChanged: boolean;
  touched: boolean;
  /** Keys flashed during this request, readable by the next one. */
  flashedKeys: Set<string>;
  /** Keys flashed by the previous request: removed when this request saves. */
  agedFlashKeys: string[];
  /** Keys holding a validated class instance injected by @SessionValue: saved as their JSON. */
  adoptedInstanceKeys: Set<string>;
  backend: SessionBackend;
}

export interface SessionChanges {
  set: SessionDataRecord;
  removed: string[];
}

export const sessionState = Symbol('routing-controllers-session state');

type Callback = (error?: unknown) => void;

function settle(operation: Promise<void>, callback: Callback | undefined): Promise<void> {
  if (!callback) return operation;
  return operation.then(
    () => callback(),
    (error: unknown) => callback(error),
  );
}

export function createDataRecord(entries: Iterable<[string, unknown]> = []): SessionDataRecord {
  const record: SessionDataRecord = Object.create(null);
  for (const [key, value] of entries) {
    if (!isUnsafeKey(key)) record[key] = value;
  }
  return record;
}

export function isUnsafeKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** The data model behind `request.session`; the Proxy in `createSession` maps data keys onto `data`. */
export class SessionObject {
  [sessionState]: SessionState;

  constructor(state: SessionState) {
    this[sessionState] = state;
  }

  get id(): string {
    return this[sessionState].id;
  }

  get cookie(): SessionCookie {
    return this[sessionState].cookie;
  }

  get(key: string, fallback?: unknown): unknown {
    const data = this[sessionState].data;
    return Object.hasOwn(data, key) ? data[key] : fallback;
  }

  set(key: string, value: unknown): this {
    writeKey(this[sessionState], key, value);
    return this;
  }

  has(key: string): boolean {
    const data = this[sessionState].data;
    return Object.hasOwn(data, key) && data[key] !== null && data[key] !== undefined;
  }

  all(): SessionDataRecord {
    return { ...this[sessionState].data };
  }

  forget(...keys: string[]): this {
    for (const key of keys) delete this[sessionState].data[key];
    return this;
  }

  pull(key: string, fallback?: unknown): unknown {
    const value = this.get(key, fallback);
    this.forget(key);
    return value;
  }

  increment(key: string, by = 1): number {
    const current = this.get(key, 0);
    if (typeof current !== 'number') {
      throw new SessionValidationError(
        `Cannot increment session key "${key}": it holds a ${typeof current}.`,
        key,
      );
    }
    this.set(key, current + by);
    return current + by;
  }

  push(key: string, value: unknown): unknown[] {
    const current = this.get(key, []);
    if (!Array.isArray(current)) {
      throw new SessionValidationError(`Cannot push to session key "${key}": it is not an array.`, key);
    }
    assertJsonSafe(key, value);
    current.push(value);
    this.set(key, current);
    return current;
  }

  /** Stores a value that the next request can read; it is removed when that request ends. */
  flashNext(key: string, value: unknown): this {
    this.set(key, value);
    this[sessionState].flashedKeys.add(key);
    return this;
  }

  regenerate(callback?: Callback): Promise<void>;
  regenerate(options: { keepData?: boolean }, callback?: Callback): Promise<void>;
  regenerate(optionsOrCallback?: { keepData?: boolean } | Callback, callback?: Callback): Promise<void> {
    const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
    const done = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback;
    const state = this[sessionState];
    return settle(state.backend.regenerate(this, options.keepData === true), done);
  }

  destroy(callback?: Callback): Promise<void> {
    return settle(this[sessionState].backend.destroy(this), callback);
  }

  save(callback?: Callback): Promise<void> {
    return settle(this[sessionState].backend.save(this), callback);
  }

  reload(callback?: Callback): Promise<void> {
    return settle(this[sessionState].backend.reload(this), callback);
  }

  /** Marks the session as active: its idle timeout restarts and the cookie's maxAge is reset. */
  touch(): this {
    this[sessionState].touched = true;
    this[sessionState].cookie.resetMaxAge();
    return this;
  }

  resetMaxAge(): this {
    this[sessionState].cookie.resetMaxAge();
    return this;
  }

  toJSON(): SessionDataRecord {
    return this.all();
  }

  [inspect.custom](): SessionDataRecord {
    return this.all();
  }
}

function writeKey(state: SessionState, key: string, value: unknown): void {
  if (key in SessionObject.prototype || isUnsafeKey(key)) {
    throw new SessionValidationError(
      `"${key}" is a reserved name on the session and cannot hold data; choose another key.`,
      key,
    );
  }
  state.adoptedInstanceKeys.delete(key);
  if (value === null || value === undefined) {
    delete state.data[key];
    return;
  }
  assertJsonSafe(key, value);
  state.data[key] = value;
}

const dataProperty = (value: unknown): PropertyDescriptor => ({
  value,
  writable: true,
  enumerable: true,
  configurable: true,
});

/** The keys and values that differ from what was loaded or last saved. Throws if a value is no longer JSON-safe. */
export function changesOf(state: SessionState): SessionChanges {
  const set: SessionDataRecord = {};
  const removed: string[] = [];
  for (const [key, value] of Object.entries(state.data)) {
    const json = JSON.stringify(value);
    if (state.savedJson.get(key) !== json) {
      assertJsonSafe(key, value, state.adoptedInstanceKeys.has(key));
      set[key] = value;
    }
  }
  for (const key of state.savedJson.keys()) {
    if (!Object.hasOwn(state.data, key)) removed.push(key);
  }
  return { set, removed };
}

export function hasChanges(changes: SessionChanges): boolean {
  return changes.removed.length > 0 || Object.keys(changes.set).length > 0;
}

/**
 * Puts a value the app did not write itself into the data (a decorator's default, or a validated class
 * instance standing in for the stored plain value) without counting it as a change: it is saved only once
 * the app changes it. Class instances are kept as they are; JSON keeps their own properties.
 */
export function adoptValue<T>(state: SessionState, key: string, value: T): T {
  if (!state.savedJson.has(key)) state.savedJson.set(key, JSON.stringify(value));
  if (typeof value === 'object' && value !== null && !plainPrototypes.has(Object.getPrototypeOf(value))) {
    state.adoptedInstanceKeys.add(key);
  }
  state.data[key] = value;
  return value;
}

/** Replaces the data with a record read from (or written to) the store and makes it the new baseline. */
export function resetBaseline(state: SessionState, data: SessionDataRecord): void {
  state.data = createDataRecord(Object.entries(data));
  state.savedJson = new Map(Object.entries(state.data).map(([key, value]) => [key, JSON.stringify(value)]));
}

export type SessionOf<Data extends object> = SessionObject & {
  [Key in keyof Data]?: Data[Key] | null;
} & { [key: string]: unknown };

/**
 * Wraps a SessionObject so data keys read and write like plain properties (express-session style):
 * `session.users = [...]`, `session.users = null` (removes), `delete session.users`, `'users' in session`.
 */
export function createSession<Data extends object = SessionData>(state: SessionState): SessionOf<Data> {
  const target = new SessionObject(state);
  const isMember = (property: string | symbol): boolean => typeof property === 'symbol' || property in target;
  return new Proxy(target, {
    get(object, property, receiver) {
      if (isMember(property)) return Reflect.get(object, property, receiver);
      return Object.hasOwn(state.data, property) ? state.data[property as string] : undefined;
    },
    set(object, property, value, receiver) {
      if (typeof property === 'symbol') return Reflect.set(object, property, value, receiver);
      writeKey(object[sessionState], property, value);
      return true;
    },
    defineProperty(object, property, descriptor) {
      if (typeof property === 'symbol') return Reflect.defineProperty(object, property, descriptor);
      writeKey(object[sessionState], property, descriptor.value);
      return true;
    },
    deleteProperty(object, property) {
      if (isMember(property)) return false;
      delete object[sessionState].data[property as string];
      return true;
    },
    has(object, property) {
      return isMember(property) || Object.hasOwn(object[sessionState].data, property);
    },
    ownKeys(object) {
      return Object.keys(object[sessionState].data);
    },
    getOwnPropertyDescriptor(object, property) {
      const data = object[sessionState].data;
      if (typeof property === 'string' && Object.hasOwn(data, property)) return dataProperty(data[property]);
      return undefined;
    },
  }) as unknown as SessionOf<Data>;
}
