import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, base64url: the value a client holds (signed) in its cookie. */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(text: string, encoding: 'hex' | 'base64url'): string {
  return createHash('sha256').update(text).digest(encoding);
}

/** The keys of the sessions in recent requests: a request reads and then saves its session. */
const recentKeys = new Map<string, string>();
const recentKeysKept = 1024;

/** The store key of a session: a hash, so a dump of the store holds no usable cookie value. */
export function storeKeyOf(sessionId: string): string {
  let key = recentKeys.get(sessionId);
  if (key === undefined) {
    key = sha256(sessionId, 'base64url');
    if (recentKeys.size >= recentKeysKept) recentKeys.clear();
    recentKeys.set(sessionId, key);
  }
  return key;
}
