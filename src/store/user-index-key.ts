/** The store keys of users' session indexes: `user-sessions:` and a hash of the user id. */
export const userIndexKeyPrefix = 'user-sessions:';

/** Whether a store key holds a user's index rather than a session (stores must not evict those first). */
export function isUserIndexKey(key: string): boolean {
  return key.startsWith(userIndexKeyPrefix);
}
