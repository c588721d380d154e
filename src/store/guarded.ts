import type { SessionLogger } from '../config/options';
import { SessionError, SessionStoreUnavailableError } from '../errors';
import { storeKeyOf } from '../session/ids';
import type {
  ApplyResult,
  ReadResult,
  SessionChange,
  SessionRecord,
  SessionStore,
  ValueUpdate,
} from './contract';
import { unreadableSession } from './contract';
import { withDeadline } from './deadline';

/**
 * The store's method that does `method`'s work at once (`atOnce`), unless `method` is overridden below the
 * class that defines it: a subclass of MemoryStore that changes `read` or `apply` (to log, to fail in a test)
 * would otherwise never be called on the request path.
 */
function atOnceUnlessOverridden<K extends 'readNow' | 'applyNow'>(
  store: SessionStore,
  atOnce: K,
  method: 'read' | 'apply',
): SessionStore[K] {
  if (typeof store[atOnce] !== 'function') return undefined;
  for (
    let level: object | null = store;
    level !== null;
    level = Object.getPrototypeOf(level) as object | null
  ) {
    if (Object.hasOwn(level, atOnce)) return store[atOnce];
    if (Object.hasOwn(level, method)) return undefined;
  }
  return undefined;
}

/**
 * The store as the request path calls it: session ids hashed into store keys (raw for an express-session
 * store, so a migrating app's sessions stay valid), every call bounded by storeTimeout, every failure a
 * SessionStoreUnavailableError, and a stored value that is not a session counted as none (reported once).
 */
export class GuardedStore {
  readonly name: string;
  private readonly reportedKeys = new Set<string>();
  private readonly readNow: SessionStore['readNow'];
  private readonly applyNowOfStore: SessionStore['applyNow'];

  constructor(
    readonly store: SessionStore,
    private readonly timeoutMs: number,
    private readonly logger: SessionLogger,
  ) {
    this.name = store.name;
    this.readNow = atOnceUnlessOverridden(store, 'readNow', 'read');
    this.applyNowOfStore = atOnceUnlessOverridden(store, 'applyNow', 'apply');
  }

  get connected(): boolean {
    return this.store.connected !== false;
  }

  get keepsRawIds(): boolean {
    return this.store.keepsRawIds === true;
  }

  keyOf(sessionId: string): string {
    return this.keepsRawIds ? sessionId : storeKeyOf(sessionId);
  }

  /**
   * `oneCommand`: the call is one store command (read, apply, remove), no lock wait or series of them;
   * `onValue`: what to do with the store's answer, in the same step that turns a failure into ours.
   */
  private call<T, R = T>(
    operation: () => Promise<T>,
    oneCommand = false,
    onValue?: (value: T) => R,
  ): Promise<R> {
    let called: Promise<T>;
    try {
      called = operation();
    } catch (error) {
      called = Promise.reject(error as Error);
    }
    // a store whose every call is bounded more tightly already needs no deadline of its own here
    const { callTimeoutMs } = this.store;
    if (!oneCommand || callTimeoutMs === undefined || callTimeoutMs > this.timeoutMs) {
      called = withDeadline(called, this.timeoutMs, () => `no answer within ${this.timeoutMs} ms`);
    }
    return called.then(onValue, (error: unknown) => {
      throw error instanceof SessionError // ours (a refused sign-in in an update), or already the store's
        ? error
        : new SessionStoreUnavailableError(this.name, error);
    }) as Promise<R>;
  }

  /** The session at a store key; a corrupt or foreign value counts as no session. */
  async readKey(key: string): Promise<SessionRecord | undefined> {
    const stored = await this.readStored(key);
    return stored === unreadableSession ? undefined : stored;
  }

  read(sessionId: string): Promise<SessionRecord | undefined> {
    return this.readKey(this.keyOf(sessionId));
  }

  /** The session stored under an id (or at `key`), or unreadableSession for a corrupt or foreign value (reported once). */
  readSession(sessionId: string, key = this.keyOf(sessionId)): Promise<ReadResult> {
    return this.readStored(key);
  }

  /** The store is in this process and reads at once (`readSessionNow`). */
  get readsNow(): boolean {
    return this.readNow !== undefined;
  }

  /** `readSession` done at once, where `readsNow`; throws what `readSession` would reject with. */
  readSessionNow(sessionId: string): ReadResult {
    let stored: ReadResult;
    try {
      stored = this.readNow!.call(this.store, this.keyOf(sessionId));
    } catch (error) {
      throw new SessionStoreUnavailableError(this.name, error);
    }
    if (stored === unreadableSession) this.reportUnreadable(this.keyOf(sessionId));
    return stored;
  }

  private readStored(key: string): Promise<ReadResult> {
    return this.call(
      () => this.store.read(key),
      true,
      (stored) => {
        if (stored === unreadableSession) this.reportUnreadable(key);
        return stored;
      },
    );
  }

  apply(
    sessionId: string,
    change: SessionChange,
    expiresAt: number,
    key = this.keyOf(sessionId),
  ): Promise<ApplyResult> {
    return this.call(() => this.store.apply(key, change, expiresAt), true);
  }

  /** The apply done at once by a store in this process; undefined when the store cannot now. Throws as apply rejects. */
  applyNow(sessionId: string, change: SessionChange, expiresAt: number): ApplyResult | undefined {
    if (!this.applyNowOfStore) return undefined;
    try {
      return this.applyNowOfStore.call(this.store, this.keyOf(sessionId), change, expiresAt);
    } catch (error) {
      throw new SessionStoreUnavailableError(this.name, error);
    }
  }

  /** True when the session was still stored. */
  removeKey(key: string): Promise<boolean> {
    return this.call(() => this.store.remove(key), true);
  }

  remove(sessionId: string): Promise<boolean> {
    return this.removeKey(this.keyOf(sessionId));
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    try {
      yield* this.store.list();
    } catch (error) {
      throw new SessionStoreUnavailableError(this.name, error);
    }
  }

  readValue(key: string): Promise<unknown> {
    return this.call(() => this.store.readValue(key));
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.call(() => this.store.updateValue(key, update));
  }

  clear(): Promise<void> {
    return this.call(() => this.store.clear());
  }

  private reportUnreadable(key: string): void {
    if (this.reportedKeys.has(key) || this.reportedKeys.size >= 1000) return;
    this.reportedKeys.add(key);
    this.logger.warn(
      `routing-controllers-session: the stored session ${key} in ${this.name} is not a session record; it counts as no session.`,
    );
  }
}
