import type { SessionRecord } from './record';

export type { SessionRecord, SessionRecordMeta } from './record';

/**
 * An update of one key that the store applies to the value it holds (not to the value the request read), so
 * concurrent ones all count: `increment` adds `by` to a number (a key that is missing or holds no number
 * starts from 0); `push` appends items, each given as its JSON, to an array (a key that is missing or holds
 * no array starts a new one).
 */
export type SessionOp =
  { op: 'increment'; key: string; by: number } | { op: 'push'; key: string; items: string[] };

/** One request's change to a stored session: only the keys it set or removed, and its meta. */
export interface SessionChange {
  /** Data keys set, each as its JSON. */
  set: Record<string, string>;
  removed: string[];
  meta: SessionRecord['meta'] & { flash?: undefined };
  /** The session is new: write it even though it is not stored yet. */
  create: boolean;
  /** The change holds the whole session: keys it does not set are dropped (express-session's `store.set`). */
  replace?: boolean;
  /** Flash keys: those this request aged leave the stored list, those it flashed join it; undefined: unchanged. */
  flash?: { aged: string[]; flashed: string[] };
  /** Updates applied to the stored values, at most one per key, of keys neither set nor removed by the change. */
  ops?: SessionOp[];
}

/** 'gone': the session was removed since it was read and the change does not create it; nothing was written. */
export type ApplyResult = 'saved' | 'gone';

/** A stored value that is not a session record (corrupt, or put there by something else). */
export const unreadableSession = Symbol('unreadable session');

export type ReadResult = SessionRecord | typeof unreadableSession | undefined;

/** A value kept beside the sessions (the user index), as `updateValue` writes it; undefined removes it. */
export type ValueUpdate = { value: unknown; expiresAt?: number } | undefined;

/**
 * The one contract beneath every store: the built-in drivers implement it directly, Keyv stores and
 * express-session stores through adapters. A failure is always a rejected promise, never an undefined.
 * Keys are store keys (the hash of a session id, or the raw id for an express-session store).
 */
export interface SessionStore {
  /** For errors and logs: the driver and where it keeps sessions. */
  readonly name: string;
  /** The store keeps express-session's raw session ids as keys (a store migrated from express-session). */
  readonly keepsRawIds?: boolean;
  /** Every call of this store settles within this many milliseconds (the Redis driver's commandTimeout). */
  readonly callTimeoutMs?: number;
  /** False while an express-session store says it is disconnected. */
  readonly connected?: boolean;
  read(key: string): Promise<ReadResult>;
  /** The same read done at once by a store in this process (memory); throws when not now (`read` is then used). */
  readNow?(key: string): ReadResult;
  /** Merges the change into the stored session in one step that no other apply or remove can interleave. */
  apply(key: string, change: SessionChange, expiresAt: number): Promise<ApplyResult>;
  /** The same apply done at once by a store in this process; undefined: not now (use `apply`). */
  applyNow?(key: string, change: SessionChange, expiresAt: number): ApplyResult | undefined;
  /** Removes a session, ordered with `apply`: an apply that read it before cannot write it back. True if it was there. */
  remove(key: string): Promise<boolean>;
  /** When the session at a key expires (ms since epoch), where the store can tell. */
  expiryOf?(key: string): Promise<number | undefined>;
  /** Every live session, by store key. */
  list(): AsyncIterable<[string, SessionRecord]>;
  readValue(key: string): Promise<unknown>;
  /** Reads, changes and writes a value with no other update of that key in between (across processes where the store is shared). */
  updateValue(key: string, update: (current: unknown) => ValueUpdate | Promise<ValueUpdate>): Promise<void>;
  clear(): Promise<void>;
  close(): Promise<void>;
}
