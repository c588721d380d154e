import { EventEmitter } from 'node:events';
import type { Keyv } from 'keyv';
import { SessionStoreUnavailableError } from '../errors';
import { storeKeyOf } from '../session/ids';
import type { SessionRecord } from './record';
import { asSessionRecord } from './record';
import { ExpressStoreAdapter } from '../stores/express-session';
import { storeNameOf } from '../stores/create';
import { KeyedLock } from './keyed-lock';
import type { SessionLogger } from '../config/options';
import { callStore, watchStoreErrors } from './guarded';
import { isUserIndexKey } from './user-index-key';
import type { AtomicSessionStore, SessionChange } from './contract';
import { isAtomicSessionStore, unreadableSession } from './contract';

interface LockingAdapter {
  withLock<T>(key: string, task: () => Promise<T>): Promise<T>;
}

function isLockingAdapter(adapter: unknown): adapter is LockingAdapter {
  return typeof (adapter as Partial<LockingAdapter> | null)?.withLock === 'function';
}

/**
 * The four operations the lifecycle needs from a store (read, write, remove, lock), over any Keyv.
 * Session ids are hashed into store keys, except for express-session stores, which keep the raw id
 * so that a migrating app's sessions stay valid.
 */
export class SessionRecords {
  readonly storeName: string;
  /** Whether session ids are hashed into store keys (false for express-session stores, which keep raw ids). */
  readonly hashesSessionIds: boolean;
  private readonly processLock = new KeyedLock();
  private readonly reportedKeys = new Set<string>();
  /** The store applies a save atomically itself (memory, Redis): no lock, no re-read. */
  readonly atomic: AtomicSessionStore | undefined;
  private connected = true;

  constructor(
    readonly keyv: Keyv,
    private readonly timeoutMs: number,
    private readonly logger: SessionLogger,
  ) {
    watchStoreErrors(keyv, logger);
    this.storeName = storeNameOf(keyv);
    this.hashesSessionIds = !(keyv.store instanceof ExpressStoreAdapter);
    // under a namespaced Keyv the store sees prefixed keys, which the atomic calls would bypass
    this.atomic = isAtomicSessionStore(keyv.store) && !keyv.namespace ? keyv.store : undefined;
    const { store } = keyv;
    if (store instanceof ExpressStoreAdapter && store.store instanceof EventEmitter) {
      store.store.on('disconnect', () => (this.connected = false));
      store.store.on('connect', () => (this.connected = true));
    }
  }

  /**
   * False while an express-session store says it is disconnected (its 'disconnect' event, until 'connect'):
   * requests then get no session at all, as with express-session.
   */
  get storeConnected(): boolean {
    return this.connected;
  }

  keyOf(sessionId: string): string {
    return this.hashesSessionIds ? storeKeyOf(sessionId) : sessionId;
  }

  private call<T>(key: string, operation: () => Promise<T>): Promise<T> {
    return callStore(this.keyv, this.storeName, this.timeoutMs, key, operation);
  }

  async read(sessionId: string): Promise<SessionRecord | undefined> {
    return this.readKey(this.keyOf(sessionId));
  }

  /** The session record at a store key; a corrupt or foreign value counts as no session (and is reported once). */
  async readKey(key: string): Promise<SessionRecord | undefined> {
    const { atomic } = this;
    if (atomic) {
      const stored = await this.call(key, () => atomic.readSession(key));
      if (stored === unreadableSession) this.reportUnreadable(key);
      return stored === unreadableSession ? undefined : stored;
    }
    const value = await this.getValue(key);
    const record = asSessionRecord(value);
    if (record === undefined && value !== undefined) this.reportUnreadable(key);
    return record;
  }

  private reportUnreadable(key: string): void {
    if (this.reportedKeys.has(key) || this.reportedKeys.size >= 1000) return;
    this.reportedKeys.add(key);
    this.logger.warn(
      `routing-controllers-session: the stored session ${key} in ${this.storeName} is not a session record; it counts as no session.`,
    );
  }

  async write(sessionId: string, record: SessionRecord, expiresAt: number): Promise<void> {
    await this.setValue(this.keyOf(sessionId), record, expiresAt);
  }

  /** Removes a session under its lock: a save that read it before cannot write it back afterwards. */
  async remove(sessionId: string): Promise<void> {
    await this.removeSessionKey(this.keyOf(sessionId));
  }

  async removeSessionKey(key: string): Promise<void> {
    const { atomic } = this;
    // an atomic store refuses to save a session it no longer holds, so a removal needs no lock there
    if (atomic) await this.call(key, () => atomic.removeSession(key));
    else await this.withKeyLock(key, () => this.removeKey(key));
  }

  /** Applies one request's change through an atomic store (only when `atomic` is set). */
  async apply(sessionId: string, change: SessionChange, expiresAt: number): Promise<'saved' | 'gone'> {
    const key = this.keyOf(sessionId);
    return this.call(key, () => this.atomic!.applySession(key, change, expiresAt));
  }

  /** The apply done at once by a store in this process; undefined when the store cannot now. */
  applyNow(sessionId: string, change: SessionChange, expiresAt: number): 'saved' | 'gone' | undefined {
    return this.atomic?.applySessionNow?.(this.keyOf(sessionId), change, expiresAt);
  }

  async removeKey(key: string): Promise<void> {
    await this.call(key, () => this.keyv.delete(key));
  }

  /** Every stored session, by store key; fails for a store that cannot list its keys. */
  async *list(): AsyncGenerator<[string, SessionRecord]> {
    const { iterator } = this.keyv as { iterator?: () => AsyncIterable<[string, unknown]> };
    if (typeof iterator !== 'function') {
      throw new SessionStoreUnavailableError(
        this.storeName,
        new Error('this store cannot list its sessions'),
      );
    }
    for await (const [key, value] of iterator.call(this.keyv)) {
      const record = isUserIndexKey(key) ? undefined : asSessionRecord(value);
      if (record) yield [key, record];
    }
  }

  /** Any value kept beside the sessions (the user index), by store key. */
  getValue(key: string): Promise<unknown> {
    return this.call(key, () => this.keyv.get(key)).catch((error: unknown) => this.unparsable(key, error));
  }

  /** Keyv's own parse of a value that is not JSON fails the read: that is a corrupt value, not an outage. */
  private unparsable(key: string, error: unknown): unknown {
    if (error instanceof SessionStoreUnavailableError && error.cause instanceof SyntaxError)
      return unreadableSession;
    throw error;
  }

  async setValue(key: string, value: unknown, expiresAt?: number): Promise<void> {
    const ttl = expiresAt === undefined ? undefined : Math.max(1, expiresAt - Date.now());
    const written = await this.call(key, () => this.keyv.set(key, value, ttl));
    if (!written) throw new Error(`the store did not accept the write of ${key}`);
  }

  /** Serialises read-modify-write of one session: across processes where the store can, else in this process. */
  withLock<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    return this.withKeyLock(this.keyOf(sessionId), task);
  }

  /**
   * For a session not yet in the store: its id is new and random, so no other process can be writing it;
   * only this process's own saves of it need ordering.
   */
  withNewSessionLock<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    return this.processLock.run(this.keyOf(sessionId), task);
  }

  withKeyLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const adapter: unknown = this.keyv.store;
    if (!isLockingAdapter(adapter)) return this.processLock.run(key, task);
    let taskFailed = false;
    const observedTask = () =>
      task().catch((error: unknown) => {
        taskFailed = true;
        throw error;
      });
    return adapter.withLock(key, observedTask).catch((error: unknown) => {
      throw taskFailed ? error : new SessionStoreUnavailableError(this.storeName, error);
    });
  }
}
