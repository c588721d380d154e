import type { Keyv } from 'keyv';
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
import { recordAfter } from '../store/merge';
import { asSessionRecord } from '../store/record';
import { isUserIndexKey } from '../store/user-index-key';

/** One call under way on a key, failed when the Keyv reports an error for that key meanwhile. */
interface CallUnderWay {
  failure?: { error: unknown };
}

/**
 * Any Keyv (version 5 or 6, over any storage adapter: @keyv/postgres, @keyv/mysql, ...) as a session store:
 * a change is applied by read, merge and write under a lock of this process (two processes on one database
 * are not merged: the README says so). A failure is always an error to the caller: Keyv 5 is set to throw its
 * store's errors; Keyv 6 never throws, so the error it reports for a key fails every call then under way on it.
 */
export class KeyvSessionStore implements SessionStore {
  private readonly lock = new KeyedLock();
  private readonly underWay = new Map<string, Set<CallUnderWay>>();

  constructor(
    readonly keyv: Keyv,
    readonly name: string,
    logError: (error: unknown) => void,
  ) {
    if ('throwOnErrors' in keyv) (keyv as { throwOnErrors: boolean }).throwOnErrors = true;
    let lastError: { error: unknown } | undefined;
    keyv.on('error', (error: unknown) => {
      lastError = { error };
      queueMicrotask(() => {
        if (lastError?.error === error) logError(error);
        lastError = undefined;
      });
    });
    keyv.on('stat:error', (event: { key?: string }) => {
      const calls = event.key === undefined ? undefined : this.underWay.get(event.key);
      if (!calls || !lastError) return;
      for (const call of calls) call.failure ??= lastError;
      lastError = undefined;
    });
  }

  private async call<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const call: CallUnderWay = {};
    let calls = this.underWay.get(key);
    if (!calls) this.underWay.set(key, (calls = new Set()));
    calls.add(call);
    try {
      const result = await operation();
      if (call.failure) throw call.failure.error;
      return result;
    } finally {
      calls.delete(call);
      if (calls.size === 0) this.underWay.delete(key);
    }
  }

  private get(key: string): Promise<unknown> {
    return this.call(key, () => this.keyv.get(key));
  }

  private async set(key: string, value: unknown, expiresAt: number | undefined): Promise<void> {
    const ttl = expiresAt === undefined ? undefined : Math.max(1, expiresAt - Date.now());
    const written = await this.call(key, () => this.keyv.set(key, value, ttl));
    if (!written) throw new Error(`the store did not accept the write of ${key}`);
  }

  async read(key: string): Promise<ReadResult> {
    const value = await this.get(key);
    if (value === undefined || value === null) return undefined;
    return asSessionRecord(value) ?? unreadableSession;
  }

  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult> {
    return this.lock.run(key, async () => {
      const stored = change.create ? undefined : await this.read(key);
      if (stored === undefined && !change.create) return 'gone';
      await this.set(key, recordAfter(stored === unreadableSession ? undefined : stored, change), expiresAt);
      return 'saved';
    });
  }

  remove(key: string): Promise<boolean> {
    return this.lock.run(key, async () => {
      const existed = (await this.get(key)) !== undefined;
      await this.call(key, () => this.keyv.delete(key));
      return existed;
    });
  }

  async *list(): AsyncGenerator<[string, SessionRecord]> {
    const { iterator } = this.keyv as { iterator?: () => AsyncIterable<[string, unknown]> };
    if (typeof iterator !== 'function') throw new Error('this store cannot list its sessions');
    for await (const [key, value] of iterator.call(this.keyv)) {
      const record = isUserIndexKey(key) ? undefined : asSessionRecord(value);
      if (record) yield [key, record];
    }
  }

  async readValue(key: string): Promise<unknown> {
    return this.get(key);
  }

  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void> {
    return this.lock.run(key, async () => {
      const next = await update(await this.get(key));
      if (next === undefined) await this.call(key, () => this.keyv.delete(key));
      else await this.set(key, next.value, next.expiresAt);
    });
  }

  async clear(): Promise<void> {
    await this.keyv.clear();
  }

  async close(): Promise<void> {
    await this.keyv.disconnect?.();
  }
}
