import type { SessionCookieJSON } from '../session/cookie';
import type { SessionRecord } from './record';

/** One request's change to a stored session: only the keys it set or removed, and its meta. */
export interface SessionChange {
  /** Data keys set, each as its JSON. */
  set: Record<string, string>;
  removed: string[];
  meta: { createdAt: number; lastSeenAt: number; cookie?: SessionCookieJSON };
  /** The session is new: write it even though it is not stored yet. */
  create: boolean;
  /** Flash keys: those this request aged leave the stored list, those it flashed join it; undefined: unchanged. */
  flash?: { aged: string[]; flashed: string[] };
}

/**
 * A store that applies a change to a session atomically in its own way (the Redis driver: one script), so a
 * save needs no lock and no re-read, merges with every other request's change, and never brings back a
 * removed session: `'gone'` when the session is not stored and the change does not create it.
 */
export interface AtomicSessionStore {
  readSession(key: string): Promise<SessionRecord | typeof unreadableSession | undefined>;
  applySession(key: string, change: SessionChange, expiresAt: number): Promise<'saved' | 'gone'>;
  /**
   * The same apply done at once, for a store in this process (memory): the response then needs no hold.
   * Undefined: not now (use applySession).
   */
  applySessionNow?(key: string, change: SessionChange, expiresAt: number): 'saved' | 'gone' | undefined;
  removeSession(key: string): Promise<void>;
}

/**
 * The flash keys stored after a change: the stored ones that the change did not age (another request may have
 * flashed them meanwhile), then the ones it flashed, each once. Unchanged when the change leaves flash alone.
 */
export function flashKeysAfter(stored: readonly string[], change: Pick<SessionChange, 'flash'>): string[] {
  if (!change.flash) return [...stored];
  const { aged, flashed } = change.flash;
  return [...new Set([...stored.filter((name) => !aged.includes(name)), ...flashed])];
}

/** A stored value that is not a session record (corrupt, or put there by something else). */
export const unreadableSession = Symbol('unreadable session');

export function isAtomicSessionStore(store: unknown): store is AtomicSessionStore {
  const candidate = store as Partial<AtomicSessionStore> | null;
  return typeof candidate?.applySession === 'function' && typeof candidate.readSession === 'function';
}
