import { SessionConfigError } from '../errors';
import type { GuardedStore } from './guarded';
import type { SessionRecord } from './record';

/**
 * The store keys of forwardings: `regenerate-grace:` and the store key (a hash) of the regenerated id. A
 * session's key is a base64url hash, without a colon, so the two never meet.
 */
export const regenerateGraceKeyPrefix = 'regenerate-grace:';

/** What a forwarding holds: the store key of the new session (never a raw id), and when the window closes. */
interface Forwarding {
  to: string;
  until: number;
}

function isForwarding(value: unknown): value is Forwarding {
  const forwarding = value as Partial<Forwarding> | null;
  return (
    typeof forwarding === 'object' &&
    forwarding !== null &&
    typeof forwarding.to === 'string' &&
    typeof forwarding.until === 'number'
  );
}

/** The session a request with a regenerated id is served within the window, and the key it is stored under. */
export class ForwardedSession {
  constructor(
    readonly record: SessionRecord,
    readonly storeKey: string,
  ) {}
}

/**
 * The grace window after `regenerate()` (option `regenerateGrace`): a request that still carries the old id
 * (sent in parallel with the sign-in) is served the new session. The forwarding is a value in the session
 * store, beside the sessions, so every process sharing the store follows it. It leads to the new session's
 * key and nothing else: once that session is destroyed, revoked or regenerated again, the old id finds
 * nothing, as it would without the option.
 */
export class RegenerateGrace {
  constructor(
    private readonly store: GuardedStore,
    private readonly graceMs: number,
  ) {
    if (store.keepsRawIds) {
      throw new SessionConfigError(
        'Option regenerateGrace needs a Keyv store (a driver, a Keyv or a Keyv adapter); an express-session store cannot hold its forwardings.',
      );
    }
  }

  private keyOf(fromKey: string): string {
    return regenerateGraceKeyPrefix + fromKey;
  }

  /** Forwards the old session's key to the new one's until the window closes. */
  forward(fromKey: string, toKey: string): Promise<void> {
    const until = Date.now() + this.graceMs;
    return this.store.updateValue(this.keyOf(fromKey), () => ({
      value: { to: toKey, until } satisfies Forwarding,
      expiresAt: until,
    }));
  }

  /** Ends the window of an old key at once (the session it led to was destroyed). */
  forget(fromKey: string): Promise<void> {
    return this.store.updateValue(this.keyOf(fromKey), () => undefined);
  }

  /** The key the session at `fromKey` was regenerated into, while the window is open. */
  async forwardedKey(fromKey: string): Promise<string | undefined> {
    const stored = await this.store.readValue(this.keyOf(fromKey));
    // the store's own expiry of values may lag (a sweep): the window is the one written in the value
    return isForwarding(stored) && stored.until > Date.now() ? stored.to : undefined;
  }
}
