import { inspect } from 'node:util';
import { SessionCookie } from './cookie';
import { SessionValidationError } from '../errors';
import type { ChangeTracker, SessionDataRecord } from './change-tracker';
import { isUnsafeKey } from './change-tracker';
import { assertJsonSafe } from './json-safety';

/**
 * The shape of an app's session data. Augment it by declaration merging:
 * `declare module 'routing-controllers-session' { interface SessionData { users?: User[] } }`
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}

export type { SessionDataRecord } from './change-tracker';

/**
 * The value type of a session key: declared in SessionData (never null: a session holds no null, writing one
 * removes the key), or unknown for a key the app did not declare.
 */
export type SessionValueOf<Key extends string> = Key extends keyof SessionData
  ? NonNullable<SessionData[Key]>
  : unknown;

/** `[by?]` for a key that holds a number (or is undeclared), `[never]` (an error) for any other. */
type IncrementArguments<Key extends string> = Key extends keyof SessionData
  ? NonNullable<SessionData[Key]> extends number
    ? [by?: number]
    : [by: never]
  : [by?: number];

/** What `push` may add to a key: an element of its declared array type, or anything for an undeclared key. */
type ElementOf<Key extends string> = Key extends keyof SessionData
  ? NonNullable<SessionData[Key]> extends ReadonlyArray<infer Element>
    ? Element
    : never
  : unknown;

/**
 * The helpers on every session object, typed by SessionData for declared keys (undeclared keys are
 * `unknown`). They never collide with data keys, and are added to express-session's Session type too.
 */
export interface SessionHelpers {
  get<Key extends string>(key: Key, fallback?: SessionValueOf<Key>): SessionValueOf<Key> | undefined;
  set<Key extends string>(key: Key, value: SessionValueOf<Key> | null | undefined): this;
  has(key: string): boolean;
  all(): SessionDataRecord;
  forget(...keys: string[]): this;
  pull<Key extends string>(key: Key, fallback?: SessionValueOf<Key>): SessionValueOf<Key> | undefined;
  increment<Key extends string>(key: Key, ...by: IncrementArguments<Key>): number;
  push<Key extends string>(key: Key, value: ElementOf<Key>): unknown[];
  flashNext<Key extends string>(key: Key, value: SessionValueOf<Key>): this;
}

/** The lifecycle operations behind the express-session style methods; implemented by lifecycle.ts. */
export interface SessionBackend {
  regenerate(session: SessionObject, keepData: boolean): Promise<SessionObject>;
  destroy(session: SessionObject): Promise<void>;
  save(session: SessionObject): Promise<void>;
  reload(session: SessionObject): Promise<void>;
  /** A write to a session object that regenerate() replaced or destroy() removed (see `warnOnWrite`). */
  staleWrite?(state: SessionState, key: string): void;
}

export interface SessionState {
  id: string;
  cookie: SessionCookie;
  /** The cookie's settings as stored, to tell when the app changed them (undefined: not stored yet). */
  storedCookieSettings: string | undefined;
  tracker: ChangeTracker;
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
  backend: SessionBackend;
  /** Set (outside production) once regenerate() replaced or destroy() removed this session: its writes are lost. */
  warnOnWrite?: 'regenerate' | 'destroy';
}

export const sessionState = Symbol('routing-controllers-session state');

type Callback = (error?: unknown) => void;

function settle<T>(operation: Promise<T>, callback: Callback | undefined): Promise<T | void> {
  if (!callback) return operation;
  return operation.then(
    (result) => {
      callback();
      return result;
    },
    (error: unknown) => callback(error),
  );
}

/** The data model behind `request.session`; the Proxy in `createSession` maps data keys onto `data`. */
export class SessionObject implements SessionHelpers {
  [sessionState]: SessionState;

  constructor(state: SessionState) {
    this[sessionState] = state;
  }

  get id(): string {
    return this[sessionState].id;
  }

  /**
   * Listed among the session's keys, as in express-session; left out when class-transformer makes plain data
   * (registered by optional-peers.ts, class-transformer being an optional peer).
   */
  get cookie(): SessionCookie {
    return this[sessionState].cookie;
  }

  /** Takes another session's cookie (passport's keepSessionInfo copies every key, the cookie included). */
  set cookie(cookie: SessionCookie) {
    if (!(cookie instanceof SessionCookie)) {
      throw new SessionValidationError(
        'session.cookie can only be replaced by another session cookie.',
        'cookie',
      );
    }
    this[sessionState].cookie = cookie;
  }

  get<Key extends string>(key: Key, fallback?: SessionValueOf<Key>): SessionValueOf<Key> | undefined;
  get(key: string, fallback?: unknown): unknown {
    const { tracker } = this[sessionState];
    return tracker.has(key) ? tracker.handOut(key) : fallback;
  }

  set<Key extends string>(key: Key, value: SessionValueOf<Key> | null | undefined): this;
  set(key: string, value: unknown): this {
    writeKey(this[sessionState], key, value);
    return this;
  }

  has(key: string): boolean {
    const value = this[sessionState].tracker.peek(key);
    return value !== null && value !== undefined;
  }

  all(): SessionDataRecord {
    const { tracker } = this[sessionState];
    return Object.fromEntries(tracker.keys().map((key) => [key, tracker.handOut(key)]));
  }

  forget(...keys: string[]): this {
    const state = this[sessionState];
    for (const key of keys) {
      if (state.warnOnWrite) state.backend.staleWrite?.(state, key);
      state.tracker.remove(key);
    }
    return this;
  }

  pull<Key extends string>(key: Key, fallback?: SessionValueOf<Key>): SessionValueOf<Key> | undefined;
  pull(key: string, fallback?: unknown): unknown {
    const value = this.get(key, fallback);
    this.forget(key);
    return value;
  }

  increment<Key extends string>(key: Key, ...by: IncrementArguments<Key>): number;
  increment(key: string, by = 1): number {
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new SessionValidationError(
        `session.increment("${key}", by) needs a finite number as by, not ${String(by)}.`,
        key,
      );
    }
    return writableState(this[sessionState], key).tracker.increment(key, by);
  }

  push<Key extends string>(key: Key, value: ElementOf<Key>): unknown[];
  push(key: string, value: unknown): unknown[] {
    return writableState(this[sessionState], key).tracker.push(key, value);
  }

  /** Stores a value that the next request can read; it is removed when that request ends. */
  flashNext<Key extends string>(key: Key, value: SessionValueOf<Key>): this;
  flashNext(key: string, value: unknown): this {
    this.set(key, value);
    this[sessionState].flashedKeys.add(key);
    return this;
  }

  /**
   * Deletes this session from the store and puts a new one (new id, empty unless `keepData`) on the
   * request. Resolves to the new session; this object keeps its data but is no longer saved.
   */
  regenerate(callback?: Callback): Promise<this>;
  regenerate(options: { keepData?: boolean }, callback?: Callback): Promise<this>;
  regenerate(optionsOrCallback?: { keepData?: boolean } | Callback, callback?: Callback): Promise<this> {
    const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
    const done = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback;
    const state = this[sessionState];
    return settle(state.backend.regenerate(this, options.keepData === true), done) as Promise<this>;
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

/** The state, once `key` is checked as a data key (not a reserved name) and a stale write is warned of. */
function writableState(state: SessionState, key: string): SessionState {
  if (key in SessionObject.prototype || isUnsafeKey(key)) {
    throw new SessionValidationError(
      `"${key}" is a reserved name on the session and cannot hold data; choose another key.`,
      key,
    );
  }
  if (state.warnOnWrite) state.backend.staleWrite?.(state, key);
  return state;
}

function writeKey(state: SessionState, key: string, value: unknown): void {
  writableState(state, key);
  if (value === null || value === undefined) {
    state.tracker.remove(key);
    return;
  }
  // A number is checked when the session is saved: express-session code counts with `++session.n` from undefined.
  if (typeof value !== 'number') assertJsonSafe(key, value);
  state.tracker.write(key, value);
}

const dataProperty = (value: unknown): PropertyDescriptor => ({
  value,
  writable: true,
  enumerable: true,
  configurable: true,
});

/** Declared keys read as `T | undefined` (declare a key nullable, `users?: User[] | null`, to write `= null`). */
export type SessionOf<Data extends object> = SessionObject & {
  [Key in keyof Data]?: Data[Key];
} & { [key: string]: unknown };

/** A property of the session object itself (a method, `id`, `cookie`…), not a data key. */
const isMember = (target: SessionObject, property: string | symbol): boolean =>
  typeof property === 'symbol' || property in target;

/** One handler for every session: it reaches the session's state through the target, so no session makes closures. */
const sessionHandler: ProxyHandler<SessionObject> = {
  get(object, property, receiver) {
    if (isMember(object, property)) return Reflect.get(object, property, receiver);
    return object[sessionState].tracker.handOut(property as string);
  },
  set(object, property, value, receiver) {
    if (typeof property === 'symbol' || property === 'cookie')
      return Reflect.set(object, property, value, receiver);
    writeKey(object[sessionState], property, value);
    return true;
  },
  defineProperty(object, property, descriptor) {
    if (typeof property === 'symbol') return Reflect.defineProperty(object, property, descriptor);
    writeKey(object[sessionState], property, descriptor.value);
    return true;
  },
  deleteProperty(object, property) {
    if (isMember(object, property)) return false;
    const state = object[sessionState];
    if (state.warnOnWrite) state.backend.staleWrite?.(state, property as string);
    state.tracker.remove(property as string);
    return true;
  },
  has(object, property) {
    return isMember(object, property) || object[sessionState].tracker.has(property as string);
  },
  ownKeys(object) {
    return ['cookie', ...object[sessionState].tracker.keys()];
  },
  getOwnPropertyDescriptor(object, property) {
    if (property === 'cookie') return dataProperty(object.cookie);
    const { tracker } = object[sessionState];
    if (typeof property === 'string' && tracker.has(property)) return dataProperty(tracker.handOut(property));
    return undefined;
  },
};

/**
 * Wraps a SessionObject so data keys read and write like plain properties (express-session style):
 * `session.users = [...]`, `session.users = null` (removes), `delete session.users`, `'users' in session`.
 */
export function createSession<Data extends object = SessionData>(state: SessionState): SessionOf<Data> {
  return new Proxy(new SessionObject(state), sessionHandler) as unknown as SessionOf<Data>;
}
