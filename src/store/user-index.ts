import { sha256 } from '../session/ids';
import { userIndexKeyPrefix } from './user-index-key';
import { SessionConfigError, SessionLimitError } from '../errors';
import type { SessionRecord } from './record';
import type { SessionDataRecord } from '../session/session';
import type { SessionEvents } from '../events';
import type { GuardedStore } from './guarded';

/** One session of a user, as `listUserSessions()` reports it. `id` is the at-rest hash, never the cookie value. */
export interface UserSessionInfo {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  userAgent?: string;
  /** True for the session whose id was passed as `current` (the device asking). */
  current?: boolean;
}

interface IndexEntry {
  userAgent?: string;
  /** When the session was added to the index; the oldest is dropped first. */
  addedAt?: number;
}

/** The most sessions one user keeps: a login beyond it signs out that user's oldest session. */
const longestUserAgent = 256;

interface UserIndexRecord {
  sessions: Record<string, IndexEntry>;
}

/** The value at a dot path (`'passport.user'`) of session data, as a user id, if there is one. */
export function userIdAt(data: SessionDataRecord | undefined, path: readonly string[]): string | undefined {
  let value: unknown = data;
  for (const part of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/**
 * Which sessions belong to which user, kept in the session store beside the sessions under a hash of the
 * user id. Entries are added when a save leaves a user id at `userKey`, removed on logout, regenerate and
 * destroy, and pruned when a listed session turns out to have expired.
 */
export class UserSessionIndex {
  private readonly path: string[];

  private readonly lifetimeMs: number | undefined;
  /**
   * How long an entry is kept whose session is not stored yet, or not yet with its user: the index entry is
   * written before the save that gives the session its user, which may take up to the store timeout.
   */
  private readonly pendingMs: number;
  private readonly events: SessionEvents | undefined;
  private readonly maxSessions: number;
  private readonly onLimit: 'revoke-oldest' | 'refuse';

  constructor(
    private readonly store: GuardedStore,
    userKey: string,
    options: {
      lifetimeMs: number | undefined;
      pendingMs: number;
      events?: SessionEvents;
      maxSessions?: number;
      onLimit?: 'revoke-oldest' | 'refuse';
    },
  ) {
    this.lifetimeMs = options.lifetimeMs;
    this.pendingMs = options.pendingMs;
    this.events = options.events;
    this.maxSessions = options.maxSessions ?? 100;
    this.onLimit = options.onLimit ?? 'revoke-oldest';
    if (store.keepsRawIds) {
      throw new SessionConfigError(
        'Option userKey needs a Keyv store (a driver, a Keyv or a Keyv adapter); an express-session store cannot hold the user index.',
      );
    }
    this.path = userKey.split('.');
  }

  userOf(data: SessionDataRecord | undefined): string | undefined {
    return userIdAt(data, this.path);
  }

  keyOf(sessionId: string): string {
    return this.store.keyOf(sessionId);
  }

  private indexKey(userId: string): string {
    return userIndexKeyPrefix + sha256(userId, 'base64url');
  }

  private update(
    userId: string,
    change: (sessions: Record<string, IndexEntry>) => void | Promise<void>,
  ): Promise<void> {
    return this.store.updateValue(this.indexKey(userId), async (stored) => {
      const sessions = { ...(stored as UserIndexRecord | undefined)?.sessions };
      await change(sessions);
      if (Object.keys(sessions).length === 0) return undefined;
      return { value: { sessions }, expiresAt: this.lifetimeMs && Date.now() + this.lifetimeMs };
    });
  }

  /** An entry written for a save that may still be under way: not pruned, whatever the store holds now. */
  private isPending(entry: IndexEntry): boolean {
    return Date.now() - (entry.addedAt ?? 0) < this.pendingMs;
  }

  /** Drops a session from its user's entry (logout, another user, removal). */
  async unlink(userId: string, sessionKey: string): Promise<void> {
    await this.update(userId, (sessions) => void delete sessions[sessionKey]);
  }

  /**
   * Adds a session to its user's entry before the session carries the user (an entry for a session that is
   * not stored is harmless and pruned), keeping the entry bounded: entries of sessions that are gone are
   * pruned, and past maxSessionsPerUser the least recently used sessions are signed out (dropping them from
   * the index alone would leave sessions that "sign out everywhere" cannot reach), or the sign-in is refused.
   */
  async add(userId: string, sessionKey: string, userAgent: string | undefined): Promise<void> {
    let signedOut: string[] = [];
    await this.update(userId, async (sessions) => {
      const listed = Object.keys(sessions).filter((key) => key !== sessionKey);
      const records = await Promise.all(listed.map((key) => this.store.readKey(key)));
      const lastUse = new Map<string, number>();
      listed.forEach((key, index) => {
        const record = records[index];
        if (record === undefined && !this.isPending(sessions[key]!)) delete sessions[key];
        else lastUse.set(key, record?.meta.lastSeenAt ?? sessions[key]!.addedAt ?? 0);
      });
      const over = lastUse.size + 1 - this.maxSessions;
      if (over > 0 && this.onLimit === 'refuse') throw new SessionLimitError(this.maxSessions);
      sessions[sessionKey] = {
        ...(userAgent ? { userAgent: userAgent.slice(0, longestUserAgent) } : {}),
        addedAt: Date.now(),
      };
      const leastRecentlyUsed = [...lastUse].sort(([, a], [, b]) => a - b).map(([key]) => key);
      signedOut = leastRecentlyUsed.slice(0, Math.max(0, over));
      for (const key of signedOut) delete sessions[key];
    });
    for (const key of signedOut) {
      await this.store.removeKey(key);
      this.events?.notify('revoked', { id: key, user: userId, reason: 'limit' });
    }
  }

  private async liveSessions(userId: string): Promise<Array<[string, IndexEntry, SessionRecord]>> {
    const stored = (await this.store.readValue(this.indexKey(userId))) as UserIndexRecord | undefined;
    const live: Array<[string, IndexEntry, SessionRecord]> = [];
    const gone: string[] = [];
    for (const [sessionKey, entry] of Object.entries(stored?.sessions ?? {})) {
      const record = await this.store.readKey(sessionKey);
      if (record && this.userOf(record.data) === userId) live.push([sessionKey, entry, record]);
      else if (!this.isPending(entry)) gone.push(sessionKey);
    }
    if (gone.length > 0) await this.update(userId, (sessions) => gone.forEach((key) => delete sessions[key]));
    return live;
  }

  /** The user's live sessions; `currentKey` (the store key of the asking device's session) marks that one. */
  async list(userId: string | number, currentKey?: string): Promise<UserSessionInfo[]> {
    const sessions = await this.liveSessions(String(userId));
    return sessions.map(([id, entry, record]) => ({
      id,
      createdAt: record.meta.createdAt,
      lastSeenAt: record.meta.lastSeenAt,
      ...(entry.userAgent ? { userAgent: entry.userAgent } : {}),
      ...(id === currentKey ? { current: true } : {}),
    }));
  }

  /** Deletes every session of the user but the one at `kept` (a store key: the current device's); resolves to how many. */
  async revoke(userId: string | number, kept?: string): Promise<number> {
    const user = String(userId);
    const revoked = (await this.liveSessions(user))
      .map(([sessionKey]) => sessionKey)
      .filter((key) => key !== kept);
    for (const sessionKey of revoked) {
      await this.store.removeKey(sessionKey);
      this.events?.notify('revoked', { id: sessionKey, user, reason: 'revoke' });
    }
    await this.update(user, (sessions) => revoked.forEach((key) => delete sessions[key]));
    return revoked.length;
  }
}
